//! The shipped objective mixtures, embedded from `configs/objectives/`.

use super::{arms_from_toml, ConfigError};
use crate::arm::Arm;

/// Names of the shipped presets.
pub const PRESETS: [&str; 5] = ["birdie", "ul2", "ul2-decoder", "ntp", "fixed-ratio"];

macro_rules! preset_file {
    ($name:literal) => {
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/objectives/", $name, ".toml"))
    };
}

/// The arms of a shipped preset.
pub fn preset(name: &str) -> Result<Vec<Arm>, ConfigError> {
    let text = match name {
        "birdie" => preset_file!("birdie"),
        "ul2" => preset_file!("ul2"),
        "ul2-decoder" | "ul2_decoder" => preset_file!("ul2-decoder"),
        "ntp" => preset_file!("ntp"),
        "fixed-ratio" | "fixed_ratio" => preset_file!("fixed-ratio"),
        other => return Err(ConfigError::UnknownPreset(other.to_string())),
    };
    arms_from_toml(text, &format!("configs/objectives/{name}.toml"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arm::ObjectiveSpec;

    #[test]
    fn every_preset_parses() {
        let sizes: Vec<usize> = PRESETS.iter().map(|p| preset(p).unwrap().len()).collect();
        assert_eq!(sizes, [19, 7, 4, 1, 11]);
        assert!(matches!(preset("nope"), Err(ConfigError::UnknownPreset(_))));
    }

    #[test]
    fn birdie_preset_has_the_spec_arms() {
        let arms = preset("birdie").unwrap();
        let names: Vec<&str> = arms.iter().map(|a| a.spec.name()).collect();
        assert_eq!(names.iter().filter(|n| **n == "infilling").count(), 6);
        assert_eq!(names.iter().filter(|n| **n == "selective_copying").count(), 4);
        assert_eq!(names.iter().filter(|n| n.starts_with("autoencoding")).count(), 4);
        assert_eq!(arms[2].prob, 0.5);
        assert!(
            matches!(&arms[17].spec, ObjectiveSpec::AutoencodingWithDeshuffling(p) if p.deshuffle_fraction.is_none())
        );
    }
}
