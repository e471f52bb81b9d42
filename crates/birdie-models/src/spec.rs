//! `ModelSpec`: a model as written in a TOML config — an architecture, a size preset, and optional overrides.
//!
//! ```toml
//! [model]
//! arch = "hawk"            # hawk | gated-ssm | transformer | toy
//! preset = "tiny"          # toy | tiny | small | base | paper
//! bidirectional = true     # the bidirectional prefix (prefix-LM attention for the Transformer)
//! # optional overrides of the preset:
//! d_model = 256
//! width = 256              # RG-LRU width (Hawk) or state width (Gated SSM)
//! num_layers = 4
//! num_heads = 4            # Transformer
//! mlp_expansion = 2.6667   # Hawk and Transformer
//! conv_width = 4           # Hawk
//! lru_heads = 1            # Hawk: heads of the block-diagonal RG-LRU gates (1 = dense)
//! rope_theta = 10000.0     # Transformer: RoPE base
//! tie_embeddings = false
//! ```
//!
//! The vocabulary size comes from the tokenizer and the Transformer's context from the run's sequence length, so
//! neither is part of the spec. [`ModelSpec::resolve`] checks every value and names the key it rejects.

use serde::{Deserialize, Serialize};

use crate::model::{Arch, ModelConfig, ModelError};
use crate::toy::ToyConfig;

/// A model in a config file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    pub arch: String,
    #[serde(default = "default_preset")]
    pub preset: String,
    #[serde(default)]
    pub bidirectional: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub d_model: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub num_layers: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub num_heads: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mlp_expansion: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conv_width: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lru_heads: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rope_theta: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tie_embeddings: Option<bool>,
}

fn default_preset() -> String {
    "tiny".into()
}

impl Default for ModelSpec {
    fn default() -> Self {
        ModelSpec::preset("hawk", "tiny", false)
    }
}

impl ModelSpec {
    /// A preset without overrides.
    pub fn preset(arch: &str, preset: &str, bidirectional: bool) -> Self {
        ModelSpec {
            arch: arch.into(),
            preset: preset.into(),
            bidirectional,
            d_model: None,
            width: None,
            num_layers: None,
            num_heads: None,
            mlp_expansion: None,
            conv_width: None,
            lru_heads: None,
            rope_theta: None,
            tie_embeddings: None,
        }
    }

    /// The architecture.
    pub fn arch(&self) -> Result<Arch, ModelError> {
        self.arch.parse().map_err(|_| bad("arch", &self.arch, "hawk, gated-ssm, transformer or toy"))
    }

    /// The model configuration for a vocabulary of `vocab_size` and rows of up to `max_seq_len` tokens.
    pub fn resolve(&self, vocab_size: usize, max_seq_len: usize) -> Result<ModelConfig, ModelError> {
        let arch = self.arch()?;
        if arch == Arch::Toy && self.bidirectional {
            return Err(bad("bidirectional", "true", "false for the toy architecture (it has no prefix variant)"));
        }
        let mut cfg = ModelConfig::preset(arch, &self.preset, vocab_size, self.bidirectional, max_seq_len)?;
        let positive = |key: &'static str, v: Option<usize>| match v {
            Some(0) => Err(bad(key, "0", "a positive integer")),
            _ => Ok(v),
        };
        let d_model = positive("d_model", self.d_model)?;
        let width = positive("width", self.width)?;
        let num_layers = positive("num_layers", self.num_layers)?;
        let num_heads = positive("num_heads", self.num_heads)?;
        let conv_width = positive("conv_width", self.conv_width)?;
        let lru_heads = positive("lru_heads", self.lru_heads)?;
        if let Some(e) = self.mlp_expansion.filter(|e| !(e.is_finite() && *e > 0.0)) {
            return Err(bad("mlp_expansion", &e.to_string(), "a positive number"));
        }
        if let Some(t) = self.rope_theta.filter(|t| !(t.is_finite() && *t > 1.0 && *t as f32 <= f32::MAX)) {
            return Err(bad("rope_theta", &t.to_string(), "a finite number above 1"));
        }
        let not_for = |key: &'static str, set: bool, arch: &str| {
            if set {
                Err(bad(key, "set", format!("unset for {arch}")))
            } else {
                Ok(())
            }
        };
        match &mut cfg {
            ModelConfig::Hawk(c) => {
                not_for("num_heads", num_heads.is_some(), "hawk")?;
                not_for("rope_theta", self.rope_theta.is_some(), "hawk")?;
                c.d_model = d_model.unwrap_or(c.d_model);
                c.lru_width = width.unwrap_or(c.lru_width);
                c.num_layers = num_layers.unwrap_or(c.num_layers);
                c.mlp_expansion = self.mlp_expansion.unwrap_or(c.mlp_expansion);
                c.conv_width = conv_width.unwrap_or(c.conv_width);
                c.lru_heads = lru_heads.unwrap_or(c.lru_heads);
                c.tie_embeddings = self.tie_embeddings.unwrap_or(c.tie_embeddings);
                if c.bidirectional && c.lru_width % 2 != 0 {
                    return Err(bad("width", &c.lru_width.to_string(), "an even width for a bidirectional model"));
                }
                let per_direction = if c.bidirectional { c.lru_width / 2 } else { c.lru_width };
                if c.lru_width % c.lru_heads != 0 || per_direction % c.lru_heads != 0 {
                    let half = if c.bidirectional {
                        format!(" and of its half {per_direction} (one direction)")
                    } else {
                        String::new()
                    };
                    return Err(bad(
                        "lru_heads",
                        &c.lru_heads.to_string(),
                        format!("a divisor of the RG-LRU width {}{half}", c.lru_width),
                    ));
                }
            }
            ModelConfig::GatedSsm(c) => {
                not_for("num_heads", num_heads.is_some(), "gated-ssm")?;
                not_for("conv_width", conv_width.is_some(), "gated-ssm")?;
                not_for("lru_heads", lru_heads.is_some(), "gated-ssm")?;
                not_for("rope_theta", self.rope_theta.is_some(), "gated-ssm")?;
                not_for("mlp_expansion", self.mlp_expansion.is_some(), "gated-ssm")?;
                c.d_model = d_model.unwrap_or(c.d_model);
                c.state_width = width.unwrap_or(c.state_width);
                c.num_layers = num_layers.unwrap_or(c.num_layers);
                c.tie_embeddings = self.tie_embeddings.unwrap_or(c.tie_embeddings);
                if c.bidirectional && c.state_width % 2 != 0 {
                    return Err(bad("width", &c.state_width.to_string(), "an even width for a bidirectional model"));
                }
            }
            ModelConfig::Transformer(c) => {
                not_for("width", width.is_some(), "transformer")?;
                not_for("conv_width", conv_width.is_some(), "transformer")?;
                not_for("lru_heads", lru_heads.is_some(), "transformer")?;
                c.rope_theta = self.rope_theta.map_or(c.rope_theta, |t| t as f32);
                c.d_model = d_model.unwrap_or(c.d_model);
                c.num_heads = num_heads.unwrap_or(c.num_heads);
                c.num_layers = num_layers.unwrap_or(c.num_layers);
                c.mlp_expansion = self.mlp_expansion.unwrap_or(c.mlp_expansion);
                c.tie_embeddings = self.tie_embeddings.unwrap_or(c.tie_embeddings);
                if c.d_model % c.num_heads != 0 || (c.d_model / c.num_heads) % 2 != 0 {
                    return Err(bad(
                        "num_heads",
                        &c.num_heads.to_string(),
                        format!("a divisor of d_model = {} leaving an even head width", c.d_model),
                    ));
                }
            }
            ModelConfig::Toy(c) => {
                for (key, set) in [
                    ("width", width.is_some()),
                    ("num_heads", num_heads.is_some()),
                    ("conv_width", conv_width.is_some()),
                    ("lru_heads", lru_heads.is_some()),
                    ("rope_theta", self.rope_theta.is_some()),
                    ("mlp_expansion", self.mlp_expansion.is_some()),
                    ("tie_embeddings", self.tie_embeddings.is_some()),
                ] {
                    not_for(key, set, "toy")?;
                }
                c.vocab_size = vocab_size;
                c.d_model = d_model.unwrap_or(c.d_model);
                c.num_layers = num_layers.unwrap_or(c.num_layers);
            }
        }
        Ok(cfg)
    }

    /// The vocabulary size the model is built with for a tokenizer of `tokenizer_vocab` ids: the tokenizer's, except
    /// for the `toy` benchmark model (arch or preset `toy`), which keeps its own fixed vocabulary ([`ToyConfig`]'s
    /// default, 512) whatever the tokenizer. The one place this choice is made.
    pub fn vocab_size(&self, tokenizer_vocab: usize) -> usize {
        if self.arch == "toy" || self.preset == "toy" {
            ToyConfig::new().vocab_size
        } else {
            tokenizer_vocab
        }
    }
}

fn bad(key: &'static str, value: &str, expected: impl Into<String>) -> ModelError {
    ModelError::BadValue { key, value: value.into(), expected: expected.into() }
}

impl ModelConfig {
    /// The spec with every field written out (what `birdie model info` and resolved run configs print).
    pub fn to_spec(&self, preset: &str) -> ModelSpec {
        let mut s = ModelSpec::preset("", preset, false);
        match self {
            ModelConfig::Hawk(c) => {
                s.arch = "hawk".into();
                s.bidirectional = c.bidirectional;
                s.d_model = Some(c.d_model);
                s.width = Some(c.lru_width);
                s.num_layers = Some(c.num_layers);
                s.mlp_expansion = Some(c.mlp_expansion);
                s.conv_width = Some(c.conv_width);
                s.lru_heads = Some(c.lru_heads);
                s.tie_embeddings = Some(c.tie_embeddings);
            }
            ModelConfig::GatedSsm(c) => {
                s.arch = "gated-ssm".into();
                s.bidirectional = c.bidirectional;
                s.d_model = Some(c.d_model);
                s.width = Some(c.state_width);
                s.num_layers = Some(c.num_layers);
                s.tie_embeddings = Some(c.tie_embeddings);
            }
            ModelConfig::Transformer(c) => {
                s.arch = "transformer".into();
                s.bidirectional = c.prefix_lm;
                s.d_model = Some(c.d_model);
                s.num_heads = Some(c.num_heads);
                s.num_layers = Some(c.num_layers);
                s.mlp_expansion = Some(c.mlp_expansion);
                s.rope_theta = Some(f64::from(c.rope_theta));
                s.tie_embeddings = Some(c.tie_embeddings);
            }
            ModelConfig::Toy(c) => {
                s.arch = "toy".into();
                s.d_model = Some(c.d_model);
                s.num_layers = Some(c.num_layers);
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ModelSpec, toml::de::Error> {
        toml::from_str(text)
    }

    #[test]
    fn presets_and_overrides_resolve() {
        let s = parse("arch = \"hawk\"\npreset = \"tiny\"\nbidirectional = true\nnum_layers = 2\nwidth = 128").unwrap();
        let ModelConfig::Hawk(c) = s.resolve(1000, 64).unwrap() else { panic!("not hawk") };
        assert_eq!((c.d_model, c.lru_width, c.num_layers, c.bidirectional, c.vocab_size), (256, 128, 2, true, 1000));
        let cfg = parse("arch = \"transformer\"").unwrap().resolve(500, 128).unwrap();
        assert!(matches!(&cfg, ModelConfig::Transformer(c) if c.max_seq_len == 128 && !c.prefix_lm));
    }

    #[test]
    fn lru_heads_key_sets_hawk_gate_heads() {
        let s = parse("arch = \"hawk\"\nbidirectional = true\nwidth = 128\nlru_heads = 8").unwrap();
        let ModelConfig::Hawk(c) = s.resolve(100, 32).unwrap() else { panic!("not hawk") };
        assert_eq!(c.lru_heads, 8);
        let ModelConfig::Hawk(c) = parse("arch = \"hawk\"").unwrap().resolve(100, 32).unwrap() else { panic!() };
        assert_eq!(c.lru_heads, 1, "dense gates by default");
        let ModelConfig::Hawk(c) =
            parse("arch = \"hawk\"\npreset = \"paper\"\nbidirectional = true").unwrap().resolve(100, 32).unwrap()
        else {
            panic!()
        };
        assert_eq!((c.lru_width, c.lru_heads), (2560, 10), "recurrentgemma's heads");
    }

    #[test]
    fn rope_theta_key_sets_the_transformer_rope_base() {
        let theta = |text: &str| match parse(text).unwrap().resolve(100, 32).unwrap() {
            ModelConfig::Transformer(c) => c.rope_theta,
            _ => panic!("not a transformer"),
        };
        assert_eq!(theta("arch = \"transformer\""), 10_000.0);
        assert_eq!(theta("arch = \"transformer\"\nrope_theta = 500000.0"), 500_000.0);
        assert_eq!(theta("arch = \"transformer\"\npreset = \"paper\""), 250_000.0, "the Birdie paper's base");
    }

    #[test]
    fn resolved_specs_round_trip_through_toml() {
        for arch in ["hawk", "gated-ssm", "transformer", "toy"] {
            let cfg = ModelSpec::preset(arch, "tiny", arch != "toy").resolve(300, 64).unwrap();
            let text = toml::to_string(&cfg.to_spec("tiny")).unwrap();
            let again = parse(&text).unwrap().resolve(300, 64).unwrap();
            assert_eq!(again.num_params(), cfg.num_params(), "{arch}: {text}");
            assert_eq!(again.to_spec("tiny"), cfg.to_spec("tiny"), "{arch}");
        }
    }

    #[test]
    fn bad_values_name_their_key() {
        let err = |text: &str| parse(text).unwrap().resolve(100, 32).unwrap_err().to_string();
        assert!(err("arch = \"mamba\"").contains("arch"));
        assert!(err("arch = \"hawk\"\npreset = \"huge\"").contains("huge"));
        assert!(err("arch = \"hawk\"\nd_model = 0").contains("d_model"));
        assert!(err("arch = \"hawk\"\nbidirectional = true\nwidth = 7").contains("width"));
        assert!(err("arch = \"hawk\"\nnum_heads = 4").contains("num_heads"));
        assert!(err("arch = \"transformer\"\nnum_heads = 5").contains("num_heads"));
        assert!(err("arch = \"toy\"\nbidirectional = true").contains("bidirectional"));
        assert!(err("arch = \"hawk\"\nmlp_expansion = -1.0").contains("mlp_expansion"));
        assert!(err("arch = \"hawk\"\nlru_heads = 0").contains("lru_heads"));
        assert!(err("arch = \"hawk\"\nlru_heads = 3").contains("lru_heads"));
        assert!(err("arch = \"hawk\"\nbidirectional = true\nwidth = 12\nlru_heads = 4").contains("lru_heads"));
        assert!(err("arch = \"hawk\"\npreset = \"paper\"\nwidth = 2048").contains("lru_heads"));
        assert!(err("arch = \"transformer\"\nlru_heads = 2").contains("lru_heads"));
        assert!(err("arch = \"hawk\"\nrope_theta = 500000.0").contains("rope_theta"));
        assert!(err("arch = \"transformer\"\nrope_theta = 0.5").contains("rope_theta"));
        assert!(parse("arch = \"hawk\"\nlayers = 3").unwrap_err().to_string().contains("layers"));
    }

    #[test]
    fn vocab_size_is_the_tokenizers_except_for_the_toy_model() {
        assert_eq!(ModelSpec::preset("hawk", "tiny", true).vocab_size(8192), 8192);
        assert_eq!(ModelSpec::preset("transformer", "small", false).vocab_size(300), 300);
        for (arch, preset) in [("toy", "tiny"), ("toy", "toy"), ("hawk", "toy")] {
            let spec = ModelSpec::preset(arch, preset, false);
            let vocab = spec.vocab_size(8192);
            assert_eq!(vocab, 512, "{arch}/{preset}");
            assert_eq!(spec.resolve(vocab, 64).unwrap().vocab_size(), 512, "{arch}/{preset}");
        }
    }
}
