//! One model type over the architectures, and the size presets.
//!
//! Presets (parameter counts for the bundled 8192-entry vocabulary, untied embeddings):
//!
//! | preset | Hawk (D, N, layers) | Gated SSM (D, N, layers) | Transformer (D, heads, layers) |
//! |---|---|---|---|
//! | `tiny` (~7 M) | 256, 256, 4 | 256, 512, 4 | 256, 4, 4 |
//! | `small` (~30 M) | 512, 512, 6 | 512, 1024, 6 | 512, 8, 6 |
//! | `base` (~125 M) | 768, 1024, 12 | 768, 1536, 18 | 768, 12, 16 |
//! | `paper` (design §5, ~1.4 B with a 32 k vocabulary) | 2048, 2560, 20 | 2048, 2560, 48 | 2048, 16, 24 |
//!
//! Hawk's RG-LRU gates are dense (`lru_heads` 1) except in `paper`, which has recurrentgemma's 10 heads; the
//! Transformer's RoPE base is 10 000 except in `paper`, which has the Birdie paper's 250 000 (design §5.4).
//!
//! `toy` is the fixed benchmark model (its own architecture, V 512; docs/models.md).

use burn::module::Module;
use burn::prelude::*;

use crate::batch::SequenceBatch;
use crate::decode::DecodeState;
use crate::gated_ssm::{GatedSsm, GatedSsmConfig};
use crate::hawk::{Hawk, HawkConfig};
use crate::toy::{Toy, ToyConfig};
use crate::transformer::{Transformer, TransformerConfig};

/// Heads of the `paper` Hawk's block-diagonal RG-LRU gates (recurrentgemma's 10 for width 2560).
pub const PAPER_LRU_HEADS: usize = 10;
/// RoPE base of the `paper` Transformer (the Birdie paper's "decay rate", design §5.4).
pub const PAPER_ROPE_THETA: f32 = 250_000.0;

/// Architectures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arch {
    Hawk,
    GatedSsm,
    Transformer,
    Toy,
}

impl std::str::FromStr for Arch {
    type Err = ModelError;
    fn from_str(s: &str) -> Result<Self, ModelError> {
        match s {
            "hawk" => Ok(Arch::Hawk),
            "gated-ssm" | "gated_ssm" => Ok(Arch::GatedSsm),
            "transformer" => Ok(Arch::Transformer),
            "toy" => Ok(Arch::Toy),
            other => Err(ModelError::UnknownArch(other.into())),
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

/// Errors choosing or running a model.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModelError {
    #[error("unknown model preset \"{0}\" (expected toy, tiny, small, base or paper)")]
    UnknownPreset(String),
    #[error("unknown architecture \"{0}\" (expected hawk, gated-ssm, transformer or toy)")]
    UnknownArch(String),
    #[error("model.{key} = {value}: expected {expected}")]
    BadValue { key: &'static str, value: String, expected: String },
    #[error("prompt of {len} tokens with a {prefix_len}-token prefix: a prompt needs at least one token after the prefix (the start-of-generation token)")]
    PromptWithoutSuffix { len: usize, prefix_len: usize },
    #[error("{got} prompt tokens for {batch} rows: every row must have the same, non-zero length")]
    RaggedPrompt { got: usize, batch: usize },
    #[error("{got} step tokens for a state of {batch} rows")]
    StepBatch { got: usize, batch: usize },
    #[error("position {position} is past the model's context of {max} positions (max_seq_len)")]
    ContextFull { position: usize, max: usize },
    #[error(
        "token id {largest} is outside the model's vocabulary of {vocab_size} ids (the largest id of the batch; \
         every id must be below {vocab_size}): the tokenizer and the model's vocabulary do not match"
    )]
    TokenOutOfVocabulary { largest: u32, vocab_size: usize },
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
            Arch::Hawk => ModelConfig::Hawk(
                HawkConfig::new(vocab_size, d, hawk_n, hawk_l)
                    .with_bidirectional(bidirectional)
                    .with_lru_heads(if preset == "paper" { PAPER_LRU_HEADS } else { 1 }),
            ),
            Arch::GatedSsm => ModelConfig::GatedSsm(
                GatedSsmConfig::new(vocab_size, d, ssm_n, ssm_l).with_bidirectional(bidirectional),
            ),
            Arch::Transformer => ModelConfig::Transformer(
                TransformerConfig::new(vocab_size, d, heads, tf_l, max_seq_len)
                    .with_prefix_lm(bidirectional)
                    .with_rope_theta(if preset == "paper" { PAPER_ROPE_THETA } else { 10_000.0 }),
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
                let bw = n / c.lru_heads; // the block-diagonal gates: one bw × bw product per head
                for _ in 0..c.num_layers {
                    v.extend([(d, n), (d, n), (n, d), (d, h), (d, h), (h, d)]);
                    v.extend(std::iter::repeat_n((bw, bw), 2 * c.lru_heads));
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

    /// Parameters drawn from `seed` (see [`crate::seeded`]): the same seed gives the same model in any thread.
    /// The model with parameters drawn from `seed`. They are drawn on the CPU whatever `device` is (each backend has
    /// its own generator), then moved: a seed gives the same model on every device. burn initialises parameters
    /// lazily, at their first use; every one is drawn here, inside the seeded section.
    pub fn init_seeded(&self, device: &Device, seed: u64) -> Model {
        struct Draw;
        impl burn::module::ModuleVisitor for Draw {
            fn visit_float<const D: usize>(&mut self, param: &burn::module::Param<Tensor<D>>) {
                let _ = param.val();
            }
        }
        let cpu = if device.is_autodiff() { Device::flex().autodiff() } else { Device::flex() };
        let model = crate::seeded(&cpu, seed, || {
            let model = self.init(&cpu);
            model.visit(&mut Draw);
            model
        });
        if *device == cpu {
            model
        } else {
            model.fork(device) // keeps the parameters trainable on an autodiff device
        }
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

    /// Width of the convolution taps a [`SequenceBatch`] for this model must carry.
    pub fn conv_width(&self) -> usize {
        match self {
            Model::Hawk(m) => m.conv_width,
            _ => 1,
        }
    }

    /// Longest sample the model can process (the Transformer's RoPE table); `None` = unbounded.
    pub fn max_positions(&self) -> Option<usize> {
        match self {
            Model::Transformer(m) => Some(m.rope.freq_complex.dims()[0]),
            _ => None,
        }
    }

    /// The prompt pass of generation (see [`crate::decode`]). `tokens`: `batch` rows of equal length, row-major,
    /// each one sample: `prefix_len` prefix tokens (bidirectional for bidirectional models), then the
    /// start-of-generation token and any teacher-forced tokens. Returns the logits at each row's last position
    /// `[batch, vocab]` and the state to continue from.
    pub fn prompt(
        &self,
        tokens: &[i32],
        batch: usize,
        prefix_len: usize,
        device: &Device,
    ) -> Result<(Tensor<2>, DecodeState), ModelError> {
        if batch == 0 || tokens.is_empty() || tokens.len() % batch != 0 {
            return Err(ModelError::RaggedPrompt { got: tokens.len(), batch });
        }
        let len = tokens.len() / batch;
        if prefix_len >= len {
            return Err(ModelError::PromptWithoutSuffix { len, prefix_len });
        }
        if let Some(max) = self.max_positions().filter(|&m| len > m) {
            return Err(ModelError::ContextFull { position: len - 1, max });
        }
        let mask: Vec<i32> = (0..batch * len).map(|i| if i % len < prefix_len { 1 } else { 3 }).collect();
        let b = SequenceBatch::new(
            tokens,
            &vec![-100; batch * len],
            &vec![1; batch * len],
            &mask,
            batch,
            len,
            self.conv_width(),
            device,
        );
        let (logits, layers) = match self {
            Model::Hawk(m) => m.forward_with_state(&b),
            Model::GatedSsm(m) => m.forward_with_state(&b),
            Model::Transformer(m) => m.forward_with_state(&b),
            Model::Toy(m) => m.forward_with_state(&b),
        };
        let last = crate::decode::last_position(&logits);
        Ok((last, DecodeState { layers, position: len, batch }))
    }

    /// Feeds one token per row at the next position; returns its logits `[batch, vocab]` and advances `state`.
    pub fn step(&self, tokens: &[i32], state: &mut DecodeState, device: &Device) -> Result<Tensor<2>, ModelError> {
        if tokens.len() != state.batch {
            return Err(ModelError::StepBatch { got: tokens.len(), batch: state.batch });
        }
        if let Some(max) = self.max_positions().filter(|&m| state.position >= m) {
            return Err(ModelError::ContextFull { position: state.position, max });
        }
        let ids = Tensor::<1, Int>::from_data(
            TensorData::new(tokens.iter().map(|&t| t as i64).collect::<Vec<_>>(), [tokens.len()]),
            device,
        );
        let logits = match self {
            Model::Hawk(m) => m.step(ids, &mut state.layers),
            Model::GatedSsm(m) => m.step(ids, &mut state.layers),
            Model::Transformer(m) => m.step(ids, &mut state.layers, state.position),
            Model::Toy(m) => m.step(ids, &mut state.layers),
        };
        state.position += 1;
        Ok(logits)
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
