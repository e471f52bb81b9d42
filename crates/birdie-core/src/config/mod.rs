//! Objective-mixture configuration: TOML arm lists, the importer for birdie_rl-style objective lists, and the
//! shipped presets (`configs/objectives/*.toml`).
//!
//! TOML form — one `[[arms]]` table per arm; `objective` is the design §1.0 registry name, the objective's parameters
//! sit beside it, and four keys are the arm's own:
//!
//! ```toml
//! [[arms]]
//! objective = "infilling"      # registry name
//! corruption_rate = 0.15       # objective parameters (unknown keys are errors naming the key)
//! mean_tokens_per_span = 3
//! prob = 1.0                   # initial probability (default 1; normalised over arms)
//! length = [128, 256]          # optional: text tokens a sample may consume
//! paradigm = "prefix"          # prefix (default) | suffix | random (paper A.6)
//! name = "R-short"             # optional display name
//! ```

mod import;
mod presets;

pub use import::{import_birdie_rl, ImportReport};
pub use presets::{preset, PRESETS};

use crate::arm::{Arm, ObjectiveSpec, ParadigmPlacement};

/// An invalid objective configuration; messages name the arm and key.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    #[error("{source_name}: {message}")]
    Parse { source_name: String, message: String },
    #[error("{source_name}: {path}: {message}")]
    Arm { source_name: String, path: String, message: String },
    #[error("{source_name}: no arms (expected at least one [[arms]] entry)")]
    NoArms { source_name: String },
    #[error("unknown preset \"{0}\" (available: birdie, ul2, ul2-decoder, ntp, fixed-ratio)")]
    UnknownPreset(String),
}

/// Parses a TOML document with an `arms` array.
pub fn arms_from_toml(text: &str, source_name: &str) -> Result<Vec<Arm>, ConfigError> {
    let doc: toml::Table = toml::from_str(text)
        .map_err(|e| ConfigError::Parse { source_name: source_name.to_string(), message: e.to_string() })?;
    for key in doc.keys() {
        if key != "arms" {
            return Err(ConfigError::Parse {
                source_name: source_name.to_string(),
                message: format!("unknown key \"{key}\" (expected only [[arms]] tables)"),
            });
        }
    }
    let arms = doc.get("arms").cloned().unwrap_or(toml::Value::Array(Vec::new()));
    arms_from_value(&arms, "arms", source_name)
}

/// Parses an array of arm tables found at `path` (e.g. `procedure.objectives` inside a training config).
pub fn arms_from_value(value: &toml::Value, path: &str, source_name: &str) -> Result<Vec<Arm>, ConfigError> {
    let err = |p: String, message: String| ConfigError::Arm { source_name: source_name.to_string(), path: p, message };
    let list = value.as_array().ok_or_else(|| err(path.to_string(), "expected an array of tables".into()))?;
    if list.is_empty() {
        return Err(ConfigError::NoArms { source_name: source_name.to_string() });
    }
    let mut arms = Vec::with_capacity(list.len());
    for (i, entry) in list.iter().enumerate() {
        let here = format!("{path}[{i}]");
        let mut table = entry.as_table().cloned().ok_or_else(|| err(here.clone(), "expected a table".into()))?;
        let prob = match table.remove("prob") {
            None => 1.0,
            Some(v) => v
                .as_float()
                .or_else(|| v.as_integer().map(|i| i as f64))
                .ok_or_else(|| err(format!("{here}.prob"), format!("expected a number, got {v}")))?,
        };
        let name = match table.remove("name") {
            None => None,
            Some(v) => Some(
                v.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| err(format!("{here}.name"), "expected a string".into()))?,
            ),
        };
        let length = match table.remove("length") {
            None => None,
            Some(v) => {
                let pair: Option<Vec<i64>> = v.as_array().and_then(|a| a.iter().map(toml::Value::as_integer).collect());
                match pair.as_deref() {
                    Some([lo, hi]) if *lo >= 1 && lo <= hi => Some((*lo as usize, *hi as usize)),
                    _ => {
                        return Err(err(
                            format!("{here}.length"),
                            format!("expected [min, max] with 1 ≤ min ≤ max, got {v}"),
                        ))
                    }
                }
            }
        };
        let paradigm: ParadigmPlacement = match table.remove("paradigm") {
            None => ParadigmPlacement::Prefix,
            Some(v) => {
                v.try_into().map_err(|e: toml::de::Error| err(format!("{here}.paradigm"), e.message().to_string()))?
            }
        };
        if !table.contains_key("objective") {
            return Err(err(here, format!("missing key \"objective\" (one of {})", ObjectiveSpec::NAMES.join(", "))));
        }
        let spec: ObjectiveSpec = toml::Value::Table(table)
            .try_into()
            .map_err(|e: toml::de::Error| err(here.clone(), e.message().to_string()))?;
        let arm = Arm::new(name, prob, spec, length, paradigm).map_err(|e| err(here, e.to_string()))?;
        arms.push(arm);
    }
    Ok(arms)
}

/// The TOML text of arms (for writing a resolved configuration).
pub fn arms_to_toml(arms: &[Arm]) -> String {
    let mut out = String::new();
    for arm in arms {
        let mut t = toml::Value::try_from(&arm.spec).expect("specs serialise").as_table().cloned().unwrap_or_default();
        t.insert("prob".into(), toml::Value::Float(arm.prob));
        if arm.name != arm.spec.name() {
            t.insert("name".into(), toml::Value::String(arm.name.clone()));
        }
        if let Some((lo, hi)) = arm.length {
            t.insert("length".into(), toml::Value::Array(vec![(lo as i64).into(), (hi as i64).into()]));
        }
        t.insert("paradigm".into(), toml::Value::try_from(arm.paradigm).expect("serialises"));
        out.push_str("[[arms]]\n");
        out.push_str(&toml::to_string(&t).expect("table serialises"));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_arms_with_arm_keys() {
        let arms = arms_from_toml(
            r#"
            [[arms]]
            objective = "infilling"
            corruption_rate = 0.5
            prob = 2
            length = [10, 20]
            paradigm = "random"
            name = "X"

            [[arms]]
            objective = "next-token-prediction"
            "#,
            "test.toml",
        );
        // Hyphens are not registry names in TOML; the error names the arm.
        let err = arms.unwrap_err();
        assert!(err.to_string().contains("arms[1]"), "{err}");

        let arms = arms_from_toml(
            "[[arms]]\nobjective = \"infilling\"\ncorruption_rate = 0.5\nprob = 2\nlength = [10, 20]\nparadigm = \"random\"\nname = \"X\"\n",
            "test.toml",
        )
        .unwrap();
        assert_eq!(arms[0].name, "X");
        assert_eq!(arms[0].prob, 2.0);
        assert_eq!(arms[0].length, Some((10, 20)));
        assert_eq!(arms[0].paradigm, ParadigmPlacement::Random);
        assert!(
            matches!(&arms[0].spec, ObjectiveSpec::Infilling(p) if p.corruption_rate == 0.5 && p.mean_tokens_per_span == 3.0)
        );
    }

    #[test]
    fn unknown_keys_and_objectives_are_named() {
        let err = arms_from_toml("[[arms]]\nobjective = \"infilling\"\ncorruption_rat = 0.5\n", "x.toml").unwrap_err();
        assert!(err.to_string().contains("corruption_rat") && err.to_string().contains("arms[0]"), "{err}");
        let err = arms_from_toml("[[arms]]\nobjective = \"teleport\"\n", "x.toml").unwrap_err();
        assert!(err.to_string().contains("teleport"), "{err}");
        let err = arms_from_toml("[[arms]]\ncorruption_rate = 0.5\n", "x.toml").unwrap_err();
        assert!(err.to_string().contains("missing key \"objective\""), "{err}");
        let err = arms_from_toml("[[arms]]\nobjective = \"infilling\"\nmax_mask_spans = 900\n", "x.toml").unwrap_err();
        assert!(err.to_string().contains("max_mask_spans = 900"), "{err}");
        let err = arms_from_toml("[[arms]]\nobjective = \"copying\"\nlength = [5, 2]\n", "x.toml").unwrap_err();
        assert!(err.to_string().contains("arms[0].length"), "{err}");
        assert!(matches!(arms_from_toml("", "x.toml"), Err(ConfigError::NoArms { .. })));
    }

    #[test]
    fn arms_roundtrip_through_toml() {
        for name in PRESETS {
            let arms = preset(name).unwrap();
            let text = arms_to_toml(&arms);
            let again = arms_from_toml(&text, "roundtrip").unwrap();
            assert_eq!(arms.len(), again.len(), "{name}");
            for (a, b) in arms.iter().zip(&again) {
                assert_eq!(a.spec, b.spec);
                assert_eq!((a.prob, a.length, a.paradigm, &a.name), (b.prob, b.length, b.paradigm, &b.name));
            }
        }
    }
}
