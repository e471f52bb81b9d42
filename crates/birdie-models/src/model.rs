//! One model type over the architectures, and the size presets.
//!
//! Presets (parameter counts for the bundled 8192-entry vocabulary, untied embeddings):
//!
//! | preset | Hawk (D, N, layers) | Gated SSM (D, N, layers) | Transformer (D, heads, layers) |
//! |---|---|---|---|
//! | `tiny` (~7 M) | 256, 256, 4 | 256, 512, 4 | 256, 4, 4 |
//! | `small` (~30 M) | 512, 512, 6 | 512, 1024, 6 | 512, 8, 6 |
//! | `base` (~125 M) | 768, 1024, 12 | 768, 1536, 18 | 768, 12, 16 |
//! | `paper` (spec §5, ~1.4 B with a 32 k vocabulary) | 2048, 2560, 20 | 2048, 2560, 48 | 2048, 16, 24 |
//!
//! `toy` is the stack.md benchmark model (its own architecture, V 512).

use burn::module::Module;
use burn::prelude::*;

use crate::batch::SequenceBatch;
use crate::gated_ssm::{GatedSsm, GatedSsmConfig};
use crate::hawk::{Hawk, HawkConfig};
use crate::toy::{Toy, ToyConfig};
use crate::transformer::{Transformer, TransformerConfig};

/// Architectures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arch {
    Hawk,
    GatedSsm,
    Transformer,
    Toy,
}

impl std::str::FromStr for Arch {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "hawk" => Ok(Arch::Hawk),
            "gated-ssm" | "gated_ssm" => Ok(Arch::GatedSsm),
            "transformer" => Ok(Arch::Transformer),
            "toy" => Ok(Arch::Toy),
            other => Err(format!("unknown architecture \"{other}\" (expected hawk, gated-ssm, transformer or toy)")),
        }
    }
}

/// A resolved model configuration.
#[derive(Debug, Clone)]
pub enum ModelConfig {
    Hawk(HawkConfig),
    GatedSsm(GatedSsmConfig),
    Transformer(TransformerConfig),
    Toy(ToyConfig),
}

/// Errors choosing a model.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModelError {
    #[error("unknown model preset \"{0}\" (expected toy, tiny, small, base or paper)")]
    UnknownPreset(String),
}

impl ModelConfig {
    /// A size preset of an architecture. `bidirectional` selects the prefix variant (prefix-LM attention for the
    /// Transformer); `max_seq_len` sizes the Transformer's RoPE table.
    pub fn preset(
        arch: Arch,
        preset: &str,
        vocab_size: usize,
        bidirectional: bool,
        max_seq_len: usize,
    ) -> Result<Self, ModelError> {
        if preset == "toy" {
            return Ok(ModelConfig::Toy(ToyConfig::new()));
        }
        let (d, hawk_n, ssm_n, heads, hawk_l, ssm_l, tf_l) = match preset {
            "tiny" => (256, 256, 512, 4, 4, 4, 4),
            "small" => (512, 512, 1024, 8, 6, 6, 6),
            "base" => (768, 1024, 1536, 12, 12, 18, 16),
            "paper" => (2048, 2560, 2560, 16, 20, 48, 24),
            other => return Err(ModelError::UnknownPreset(other.to_string())),
        };
        Ok(match arch {
            Arch::Hawk => {
                ModelConfig::Hawk(HawkConfig::new(vocab_size, d, hawk_n, hawk_l).with_bidirectional(bidirectional))
            }
            Arch::GatedSsm => ModelConfig::GatedSsm(
                GatedSsmConfig::new(vocab_size, d, ssm_n, ssm_l).with_bidirectional(bidirectional),
            ),
            Arch::Transformer => ModelConfig::Transformer(
                TransformerConfig::new(vocab_size, d, heads, tf_l, max_seq_len).with_prefix_lm(bidirectional),
            ),
            Arch::Toy => ModelConfig::Toy(ToyConfig::new()),
        })
    }

    /// Parameter count from the formula.
    pub fn num_params(&self) -> usize {
        match self {
            ModelConfig::Hawk(c) => c.num_params(),
            ModelConfig::GatedSsm(c) => c.num_params(),
            ModelConfig::Transformer(c) => c.num_params(),
            ModelConfig::Toy(c) => c.num_params(),
        }
    }

    /// Width of the conv taps the batch must carry (Hawk's Conv1D).
    pub fn conv_width(&self) -> usize {
        match self {
            ModelConfig::Hawk(c) => c.conv_width,
            _ => 1,
        }
    }

    /// Vocabulary size.
    pub fn vocab_size(&self) -> usize {
        match self {
            ModelConfig::Hawk(c) => c.vocab_size,
            ModelConfig::GatedSsm(c) => c.vocab_size,
            ModelConfig::Transformer(c) => c.vocab_size,
            ModelConfig::Toy(c) => c.vocab_size,
        }
    }

    /// Every matrix product of one forward pass as (rows-per-token multiplier 1, in, out): the GEMM shapes the
    /// floor of `birdie bench step` is measured on. The vocabulary head is included; attention scores are not.
    pub fn gemm_shapes(&self) -> Vec<(usize, usize)> {
        let mut v = Vec::new();
        match self {
            ModelConfig::Hawk(c) => {
                let (d, n, h) = (c.d_model, c.lru_width, c.mlp_hidden());
                for _ in 0..c.num_layers {
                    v.extend([(d, n), (d, n), (n, n), (n, n), (n, d), (d, h), (d, h), (h, d)]);
                }
                v.push((d, c.vocab_size));
            }
            ModelConfig::GatedSsm(c) => {
                let (d, n) = (c.d_model, c.state_width);
                for _ in 0..c.num_layers {
                    v.extend([(d, n), (d, n), (d, n), (d, n), (n, d)]);
                }
                v.push((d, c.vocab_size));
            }
            ModelConfig::Transformer(c) => {
                let (d, h) = (c.d_model, c.mlp_hidden());
                for _ in 0..c.num_layers {
                    v.extend([(d, d), (d, d), (d, d), (d, d), (d, h), (d, h), (h, d)]);
                }
                v.push((d, c.vocab_size));
            }
            ModelConfig::Toy(c) => {
                for _ in 0..c.num_layers {
                    v.extend([(c.d_model, 2 * c.d_model), (c.d_model, c.d_model)]);
                }
                v.push((c.d_model, c.vocab_size));
            }
        }
        v
    }

    pub fn init(&self, device: &Device) -> Model {
        match self {
            ModelConfig::Hawk(c) => Model::Hawk(c.init(device)),
            ModelConfig::GatedSsm(c) => Model::GatedSsm(c.init(device)),
            ModelConfig::Transformer(c) => Model::Transformer(c.init(device)),
            ModelConfig::Toy(c) => Model::Toy(c.init(device)),
        }
    }
}

/// Any of the architectures. (One model per run: the size difference between variants does not matter.)
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum Model {
    Hawk(Hawk),
    GatedSsm(GatedSsm),
    Transformer(Transformer),
    Toy(Toy),
}

impl Model {
    /// Logits `[batch, seq, vocab]`.
    pub fn forward(&self, batch: &SequenceBatch) -> Tensor<3> {
        match self {
            Model::Hawk(m) => m.forward(batch),
            Model::GatedSsm(m) => m.forward(batch),
            Model::Transformer(m) => m.forward(batch),
            Model::Toy(m) => m.forward(batch),
        }
    }

    /// Mean cross-entropy over label positions.
    pub fn loss(&self, batch: &SequenceBatch) -> Tensor<1> {
        match self {
            Model::Hawk(m) => m.loss(batch),
            Model::GatedSsm(m) => m.loss(batch),
            Model::Transformer(m) => m.loss(batch),
            Model::Toy(m) => m.loss(batch),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preset_sizes_are_as_documented() {
        let m = |arch, p| ModelConfig::preset(arch, p, 8192, false, 2048).unwrap().num_params() as f64 / 1e6;
        for arch in [Arch::Hawk, Arch::GatedSsm, Arch::Transformer] {
            assert!((5.0..10.0).contains(&m(arch, "tiny")), "{arch:?} tiny {}", m(arch, "tiny"));
            assert!((20.0..40.0).contains(&m(arch, "small")), "{arch:?} small {}", m(arch, "small"));
            assert!((100.0..150.0).contains(&m(arch, "base")), "{arch:?} base {}", m(arch, "base"));
        }
        let paper = |arch| ModelConfig::preset(arch, "paper", 32000, false, 2048).unwrap().num_params() as f64 / 1e9;
        for arch in [Arch::Hawk, Arch::GatedSsm, Arch::Transformer] {
            assert!((1.0..1.8).contains(&paper(arch)), "{arch:?} paper {}", paper(arch));
        }
        assert!(matches!(ModelConfig::preset(Arch::Hawk, "huge", 10, false, 8), Err(ModelError::UnknownPreset(_))));
    }

    #[test]
    fn initialised_tiny_models_match_their_formulas() {
        for arch in [Arch::Hawk, Arch::GatedSsm, Arch::Transformer] {
            let cfg = ModelConfig::preset(arch, "tiny", 1000, true, 64).unwrap();
            assert_eq!(cfg.init(&Device::flex()).num_params(), cfg.num_params(), "{arch:?}");
        }
    }
}
