//! The Transformer baseline (design §5.4): pre-norm blocks of multi-head attention with RoPE and a SwiGLU MLP, with
//! the prefix-LM mask of design §2.5 or a causal mask.
//!
//! ```text
//! x ← √D · embed(tokens)
//! x ← x + W_o · Attention(RoPE(W_q x̂), RoPE(W_k x̂), W_v x̂, mask)      x̂ = RMSNorm(x)
//! x ← x + W_down( SiLU(W_gate x̂) ⊙ W_up x̂ )
//! mask(q, k) = same segment ∧ (k ≤ q ∨ (prefix-LM ∧ both in the prefix))
//! logits = RMSNorm(x) · W_headᵀ   (or the embedding matrix when tied)
//! ```
//!
//! RoPE rotates pair j of a head at position t by t·θ^(−2j/head_dim), θ = `rope_theta`. The embedding (and the
//! untied head) are normal with std 1/√D and the input embedding is scaled by √D, so initial logits have unit scale
//! whether or not the head is tied (docs/models.md, "Matching recurrentgemma").
//!
//! RoPE uses row positions; attention only within a segment makes that equal to per-sample positions, since RoPE
//! scores depend only on the offset between query and key.
//!
//! Attention is the fused op [`masked_attention`]: the mask comes from segment ids and prefix flags inside its
//! kernels, and its backward recomputes the scores, so neither the mask nor the scores are a `[seq, seq]` tensor.

use burn::nn::{Embedding, Linear, LinearConfig, RmsNorm, RmsNormConfig, RotaryEncoding, RotaryEncodingConfig};
use burn::prelude::*;
use burn::tensor::activation::{silu, softmax};
use burn::tensor::DType;

use crate::batch::SequenceBatch;
use crate::decode::LayerState;
use crate::ops::{masked_attention, AttentionMask};
use crate::{embedding, lm_head};

/// Transformer hyper-parameters.
#[derive(Config, Debug)]
pub struct TransformerConfig {
    pub vocab_size: usize,
    pub d_model: usize,
    pub num_heads: usize,
    pub num_layers: usize,
    /// Longest row the RoPE table covers.
    pub max_seq_len: usize,
    #[config(default = 2.6666666666666665)]
    pub mlp_expansion: f64,
    /// RoPE base θ (10 000; the `paper` preset uses the Birdie paper's 250 000).
    #[config(default = 10000.0)]
    pub rope_theta: f32,
    /// Prefix-LM attention (bidirectional prefix); false = causal.
    #[config(default = true)]
    pub prefix_lm: bool,
    #[config(default = false)]
    pub tie_embeddings: bool,
}

impl TransformerConfig {
    pub fn head_dim(&self) -> usize {
        self.d_model / self.num_heads
    }

    pub fn mlp_hidden(&self) -> usize {
        (self.d_model as f64 * self.mlp_expansion).round() as usize
    }

    /// Parameter count from the formula (checked against the initialised model in a test).
    pub fn num_params(&self) -> usize {
        let (d, h, v) = (self.d_model, self.mlp_hidden(), self.vocab_size);
        let block = 4 * d * d + 3 * d * h + 2 * d;
        v * d + self.num_layers * block + d + if self.tie_embeddings { 0 } else { d * v }
    }

    pub fn init(&self, device: &Device) -> Transformer {
        assert_eq!(self.d_model % self.num_heads, 0, "d_model must be a multiple of num_heads");
        let d = self.d_model;
        Transformer {
            embed: embedding::init(self.vocab_size, d, device),
            blocks: (0..self.num_layers).map(|_| TransformerBlock::new(d, self.mlp_hidden(), device)).collect(),
            norm: RmsNormConfig::new(d).init(device),
            head: (!self.tie_embeddings).then(|| lm_head::init_head(d, self.vocab_size, device)),
            rope: RotaryEncodingConfig::new(self.max_seq_len, self.head_dim()).with_theta(self.rope_theta).init(device),
            num_heads: self.num_heads,
            prefix_lm: self.prefix_lm,
        }
    }
}

/// The Transformer language model.
#[derive(Module, Debug)]
pub struct Transformer {
    /// `[vocab, d_model]`, normal with std 1/√D; looked-up rows are multiplied by √D.
    pub embed: Embedding,
    pub blocks: Vec<TransformerBlock>,
    /// Final RMSNorm, γ = 1.
    pub norm: RmsNorm,
    /// `[d_model → vocab]`, normal with std 1/√D; `None` when tied to the embedding.
    pub head: Option<Linear>,
    /// RoPE table for `max_seq_len` positions, base `rope_theta`.
    pub rope: RotaryEncoding,
    pub num_heads: usize,
    pub prefix_lm: bool,
}

/// One pre-norm attention + SwiGLU block.
#[derive(Module, Debug)]
pub struct TransformerBlock {
    pub norm_attn: RmsNorm,
    pub w_q: Linear,
    pub w_k: Linear,
    pub w_v: Linear,
    pub w_o: Linear,
    pub norm_mlp: RmsNorm,
    pub gate: Linear,
    pub up: Linear,
    pub down: Linear,
}

/// Which keys each query may see (design §2.5): the batch's segment ids and prefix flags on the device, and the mask
/// kind. The fused attention applies the rule inside its kernels; no `[seq, seq]` mask is built.
#[derive(Debug, Clone)]
pub struct AttentionScope {
    pub segments: Tensor<2>,
    pub prefix: Tensor<2>,
    pub mask: AttentionMask,
}

impl AttentionScope {
    /// The scope of `batch`: prefix-LM or causal attention within each packed sample.
    pub fn of(batch: &SequenceBatch, prefix_lm: bool) -> Self {
        AttentionScope {
            segments: batch.segments.clone(),
            prefix: batch.prefix.clone(),
            mask: if prefix_lm { AttentionMask::PrefixLm } else { AttentionMask::Causal },
        }
    }
}

impl TransformerBlock {
    /// A block of width `d` with MLP hidden width `hidden`.
    pub fn new(d: usize, hidden: usize, device: &Device) -> Self {
        let lin = |i, o| LinearConfig::new(i, o).with_bias(false).init(device);
        TransformerBlock {
            norm_attn: RmsNormConfig::new(d).init(device),
            w_q: lin(d, d),
            w_k: lin(d, d),
            w_v: lin(d, d),
            w_o: lin(d, d),
            norm_mlp: RmsNormConfig::new(d).init(device),
            gate: lin(d, hidden),
            up: lin(d, hidden),
            down: lin(hidden, d),
        }
    }

    /// The block's output `[B, T, D]` and its keys (RoPE applied) and values `[B, H, T, hd]`.
    pub fn forward(
        &self,
        x: Tensor<3>,
        scope: &AttentionScope,
        rope: &RotaryEncoding,
        heads: usize,
    ) -> (Tensor<3>, LayerState) {
        let [b, t, d] = x.dims();
        let hd = d / heads;
        let xn = self.norm_attn.forward(x.clone());
        let split = |y: Tensor<3>| y.reshape([b, t, heads, hd]).swap_dims(1, 2); // [B, H, T, hd]
                                                                                 // RoPE rotates in f32 (its table is f32), then the heads return to the activations' dtype (mixed bf16).
        let rotate = |y: Tensor<4>| rope.forward(y.cast(DType::F32)).cast(x.dtype());
        let q = rotate(split(self.w_q.forward(xn.clone())));
        let k = rotate(split(self.w_k.forward(xn.clone())));
        let v = split(self.w_v.forward(xn));
        let scope = scope.clone();
        let attn = masked_attention(q, k.clone(), v.clone(), scope.segments, scope.prefix, scope.mask);
        let attn = attn.swap_dims(1, 2).reshape([b, t, d]);
        let x = x + self.w_o.forward(attn);
        (self.mlp(x), LayerState::Attention { k, v })
    }

    fn mlp<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        let xn = self.norm_mlp.forward(x.clone());
        x + self.down.forward(silu(self.gate.forward(xn.clone())) * self.up.forward(xn))
    }

    /// One generation step at suffix position `pos`: the new token attends to every cached position and itself.
    pub fn step(
        &self,
        x: Tensor<2>,
        state: &mut LayerState,
        pos: usize,
        rope: &RotaryEncoding,
        heads: usize,
    ) -> Tensor<2> {
        let LayerState::Attention { k: keys, v: values } = state else {
            panic!("an attention layer needs a key/value cache")
        };
        let [b, d] = x.dims();
        let hd = d / heads;
        let xn = self.norm_attn.forward(x.clone());
        let split = |y: Tensor<2>| y.reshape([b, heads, 1, hd]); // [B, H, 1, hd]
        let q = rope.apply(split(self.w_q.forward(xn.clone())), pos);
        *keys = Tensor::cat(vec![keys.clone(), rope.apply(split(self.w_k.forward(xn.clone())), pos)], 2);
        *values = Tensor::cat(vec![values.clone(), split(self.w_v.forward(xn))], 2);
        let scores = q.matmul(keys.clone().swap_dims(2, 3)).div_scalar((hd as f32).sqrt());
        let attn = softmax(scores, 3).matmul(values.clone()).reshape([b, d]);
        self.mlp(x + self.w_o.forward(attn))
    }
}

impl Transformer {
    /// Logits `[batch, seq, vocab]`.
    pub fn forward(&self, batch: &SequenceBatch) -> Tensor<3> {
        self.forward_with_state(batch).0
    }

    /// Logits and the per-layer key/value cache (the prompt pass of generation).
    pub fn forward_with_state(&self, batch: &SequenceBatch) -> (Tensor<3>, Vec<LayerState>) {
        let mut x = embedding::embed(&self.embed, batch.tokens.clone());
        let scope = AttentionScope::of(batch, self.prefix_lm);
        let mut states = Vec::with_capacity(self.blocks.len());
        for blk in &self.blocks {
            let (y, state) = blk.forward(x, &scope, &self.rope, self.num_heads);
            states.push(state);
            x = y;
        }
        let x = self.norm.forward(x);
        (lm_head::logits(x, self.head.as_ref(), &self.embed), states)
    }

    /// Logits `[batch, vocab]` of one new token per row at suffix position `pos`, advancing `states`.
    pub fn step(&self, tokens: Tensor<1, Int>, states: &mut [LayerState], pos: usize) -> Tensor<2> {
        let mut x = embedding::embed_one(&self.embed, tokens);
        for (blk, state) in self.blocks.iter().zip(states) {
            x = blk.step(x, state, pos, &self.rope, self.num_heads);
        }
        lm_head::logits_2d(self.norm.forward(x), self.head.as_ref(), &self.embed)
    }

    /// Mean cross-entropy over the label positions (design A10).
    pub fn loss(&self, batch: &SequenceBatch) -> Tensor<1> {
        lm_head::loss(self.forward(batch), batch)
    }
}

#[cfg(test)]
mod tests {
    use burn::module::Module;

    use super::*;

    const V: usize = 40;

    fn batch(tokens: &[i32], segments: &[i32], mask: &[i32]) -> SequenceBatch {
        let labels: Vec<i32> = mask.iter().map(|&m| if m == 3 { 1 } else { -100 }).collect();
        SequenceBatch::new(tokens, &labels, segments, mask, 1, tokens.len(), 1, &Device::flex())
    }

    fn logits(m: &Transformer, b: &SequenceBatch) -> Vec<f32> {
        m.forward(b).into_data().try_to_vec::<f32>().unwrap()
    }

    fn same(a: &[f32], b: &[f32]) -> bool {
        a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-4)
    }

    #[test]
    fn prefix_lm_mask_semantics_and_isolation() {
        let m = TransformerConfig::new(V, 16, 2, 2, 64).init(&Device::flex());
        let toks: Vec<i32> = (0..10).map(|i| (i * 7 % V) as i32).collect();
        let mask: Vec<i32> = (0..10).map(|i| if i < 4 { 1 } else { 3 }).collect();
        let base = logits(&m, &batch(&toks, &[1; 10], &mask));
        let mut c = toks.clone();
        c[3] = (c[3] + 5) % V as i32;
        assert!(!same(&base[..V], &logits(&m, &batch(&c, &[1; 10], &mask))[..V]), "prefix not bidirectional");
        let mut c = toks.clone();
        c[8] = (c[8] + 5) % V as i32;
        assert!(same(&base[..8 * V], &logits(&m, &batch(&c, &[1; 10], &mask))[..8 * V]), "suffix not causal");
        let a = logits(&m, &batch(&toks[..6], &[1; 6], &mask[..6]));
        let b = logits(&m, &batch(&toks[6..], &[1; 4], &[1, 1, 3, 3]));
        let packed = logits(
            &m,
            &batch(&toks, &[1, 1, 1, 1, 1, 1, 2, 2, 2, 2], &[mask[..6].to_vec(), vec![1, 1, 3, 3]].concat()),
        );
        assert!(same(&packed[..6 * V], &a), "first sample differs");
        // RoPE is relative: the second sample at row offset 6 equals the sample alone.
        assert!(same(&packed[6 * V..], &b), "second sample differs");
    }

    #[test]
    fn causal_option_ignores_the_prefix_rule() {
        let m = TransformerConfig::new(V, 16, 2, 1, 64).with_prefix_lm(false).init(&Device::flex());
        let toks: Vec<i32> = (0..6).map(|i| (i * 3 % V) as i32).collect();
        let mask = [1, 1, 1, 3, 3, 3];
        let base = logits(&m, &batch(&toks, &[1; 6], &mask));
        let mut c = toks.clone();
        c[2] = (c[2] + 1) % V as i32;
        assert!(same(&base[..2 * V], &logits(&m, &batch(&c, &[1; 6], &mask))[..2 * V]));
    }

    #[test]
    fn parameter_count_matches_formula() {
        let cfg = TransformerConfig::new(V, 16, 2, 2, 64);
        assert_eq!(cfg.init(&Device::flex()).num_params(), cfg.num_params());
    }

    #[test]
    fn rope_theta_sets_the_rotation_frequencies() {
        // Pair j of a head of width 8 turns by θ^(−2j/8) per position.
        for theta in [10_000.0f32, 250_000.0] {
            let m = TransformerConfig::new(V, 16, 2, 1, 4).with_rope_theta(theta).init(&Device::flex());
            let freqs: Vec<f32> = m.rope.theta.clone().into_data().try_to_vec().unwrap();
            let want = f64::from(theta).powf(-6.0 / 8.0);
            assert!((f64::from(freqs[3]) / want - 1.0).abs() < 1e-5, "θ {theta}: {} vs {want}", freqs[3]);
        }
    }

    #[test]
    fn tied_embeddings_give_unit_scale_initial_logits() {
        for tie in [true, false] {
            let m = TransformerConfig::new(1024, 64, 4, 2, 64).with_tie_embeddings(tie).init(&Device::flex());
            let toks: Vec<i32> = (0..64).map(|i| i * 37 % 1024).collect();
            let std = logits(&m, &batch(&toks, &[1; 64], &[3; 64])).iter().map(|&x| f64::from(x).powi(2)).sum::<f64>();
            let std = (std / (64.0 * 1024.0)).sqrt();
            assert!((std - 1.0).abs() < 0.15, "tied {tie}: initial logit std {std}");
        }
    }
}
