//! The Gated SSM baseline (Birdie paper §3.4, A.16.1; design §5.2), with the bidirectional prefix option (§5.3).
//!
//! ```text
//! per block, on x̂ = RMSNorm(x):
//!   i_t = σ(W_i x̂)   z_t = W_z x̂   o_t = GeLU(W_o x̂)   f_t = σ(W_f x̂)
//!   h_t = f_t ⊙ h_{t−1} + i_t ⊙ z_t                       (fused gated scan)
//!   x  ← x + W_out(o_t ⊙ h_t)
//! logits = RMSNorm(x) · W_headᵀ
//! ```
//!
//! The recurrence and the MLP are one block (no separate MLP). Bidirectional layers (0, 2, 4, …, decision A5) run
//! the first half of the state left to right and the second half right to left with f forced to 0 outside the
//! prefix. `W_f` takes no weight decay (design §5.2).

use burn::nn::{Embedding, EmbeddingConfig, Linear, LinearConfig, RmsNorm, RmsNormConfig};
use burn::prelude::*;
use burn::tensor::activation::{gelu, sigmoid};

use crate::batch::SequenceBatch;
use crate::decode::{last_position, LayerState};
use crate::lm_head;
use crate::ops::gated_scan::gated_scan;
use crate::ops::linear_scan::ScanDirection;

/// Gated SSM hyper-parameters.
#[derive(Config, Debug)]
pub struct GatedSsmConfig {
    pub vocab_size: usize,
    /// Model width D.
    pub d_model: usize,
    /// State width N (even when bidirectional).
    pub state_width: usize,
    pub num_layers: usize,
    #[config(default = false)]
    pub tie_embeddings: bool,
    #[config(default = false)]
    pub bidirectional: bool,
}

impl GatedSsmConfig {
    /// Whether layer `i` is bidirectional.
    pub fn layer_is_bidirectional(&self, i: usize) -> bool {
        self.bidirectional && i % 2 == 0
    }

    /// Parameter count from the formula (checked against the initialised model in a test).
    pub fn num_params(&self) -> usize {
        let (d, n, v) = (self.d_model, self.state_width, self.vocab_size);
        let block = 4 * (d * n + n) + (n * d + d) + d;
        v * d + self.num_layers * block + d + if self.tie_embeddings { 0 } else { d * v }
    }

    pub fn init(&self, device: &Device) -> GatedSsm {
        let (d, n) = (self.d_model, self.state_width);
        GatedSsm {
            embed: EmbeddingConfig::new(self.vocab_size, d).init(device),
            blocks: (0..self.num_layers)
                .map(|i| GatedSsmBlock::new(d, n, self.layer_is_bidirectional(i), device))
                .collect(),
            norm: RmsNormConfig::new(d).init(device),
            head: (!self.tie_embeddings).then(|| LinearConfig::new(d, self.vocab_size).with_bias(false).init(device)),
        }
    }
}

/// The Gated SSM language model.
#[derive(Module, Debug)]
pub struct GatedSsm {
    pub embed: Embedding,
    pub blocks: Vec<GatedSsmBlock>,
    pub norm: RmsNorm,
    pub head: Option<Linear>,
}

/// One fused SSM + MLP block.
#[derive(Module, Debug)]
pub struct GatedSsmBlock {
    pub norm: RmsNorm,
    /// Input gate `[d → n]`.
    pub w_i: Linear,
    /// Input `[d → n]`.
    pub w_z: Linear,
    /// Output gate `[d → n]`.
    pub w_o: Linear,
    /// Forget gate `[d → n]` (no weight decay).
    pub w_f: Linear,
    /// `[n → d]`.
    pub w_out: Linear,
    pub bidirectional: bool,
}

impl GatedSsmBlock {
    /// A block of width `d` with state width `n`.
    pub fn new(d: usize, n: usize, bidirectional: bool, device: &Device) -> Self {
        let lin = |i, o| LinearConfig::new(i, o).init(device);
        GatedSsmBlock {
            norm: RmsNormConfig::new(d).init(device),
            w_i: lin(d, n),
            w_z: lin(d, n),
            w_o: lin(d, n),
            w_f: lin(d, n),
            w_out: lin(n, d),
            bidirectional,
        }
    }

    pub fn forward(&self, x: Tensor<3>, batch: &SequenceBatch) -> Tensor<3> {
        self.forward_with_state(x, batch).0
    }

    /// Channels whose state runs left to right (all, or the first half in a bidirectional layer).
    fn forward_width(&self) -> usize {
        let n = self.w_f.weight.dims()[1];
        if self.bidirectional {
            n / 2
        } else {
            n
        }
    }

    /// The block's output and the forward-running state after the last position.
    pub fn forward_with_state(&self, x: Tensor<3>, batch: &SequenceBatch) -> (Tensor<3>, LayerState) {
        let xn = self.norm.forward(x.clone());
        let zi = self.w_i.forward(xn.clone());
        let z = self.w_z.forward(xn.clone());
        let o = gelu(self.w_o.forward(xn.clone()));
        let zf = self.w_f.forward(xn);
        let h = if !self.bidirectional {
            gated_scan(zf, zi, z, batch.reset.clone(), batch.ones.clone(), ScanDirection::Forward)
        } else {
            let n = z.dims()[2];
            let half = n / 2;
            let p = |t: &Tensor<3>, lo, len| t.clone().narrow(2, lo, len);
            let fwd = gated_scan(
                p(&zf, 0, half),
                p(&zi, 0, half),
                p(&z, 0, half),
                batch.reset.clone(),
                batch.ones.clone(),
                ScanDirection::Forward,
            );
            let rev = gated_scan(
                p(&zf, half, n - half),
                p(&zi, half, n - half),
                p(&z, half, n - half),
                batch.reset.clone(),
                batch.prefix.clone(),
                ScanDirection::Reverse,
            );
            Tensor::cat(vec![fwd, rev], 2)
        };
        let state = LayerState::Recurrent { h: last_position(&h).narrow(1, 0, self.forward_width()), conv: None };
        (x + self.w_out.forward(o * h), state)
    }

    /// One generation step at a suffix position. `x`: `[batch, d_model]`.
    pub fn step(&self, x: Tensor<2>, state: &mut LayerState) -> Tensor<2> {
        let LayerState::Recurrent { h, .. } = state else { panic!("a recurrent layer needs a recurrent state") };
        let xn = self.norm.forward(x.clone());
        let input = sigmoid(self.w_i.forward(xn.clone())) * self.w_z.forward(xn.clone());
        let o = gelu(self.w_o.forward(xn.clone()));
        let f = sigmoid(self.w_f.forward(xn));
        let [_, n] = f.dims();
        let fw = self.forward_width();
        let h_fwd = f.narrow(1, 0, fw) * h.clone() + input.clone().narrow(1, 0, fw);
        *h = h_fwd.clone();
        // The reverse half's transition is 0 in the suffix: its state is just its input term.
        let h_all = if fw < n { Tensor::cat(vec![h_fwd, input.narrow(1, fw, n - fw)], 1) } else { h_fwd };
        x + self.w_out.forward(o * h_all)
    }
}

impl GatedSsm {
    /// Logits `[batch, seq, vocab]`.
    pub fn forward(&self, batch: &SequenceBatch) -> Tensor<3> {
        self.forward_with_state(batch).0
    }

    /// Logits and the per-layer decoding state after the last position (the prompt pass of generation).
    pub fn forward_with_state(&self, batch: &SequenceBatch) -> (Tensor<3>, Vec<LayerState>) {
        let mut x = self.embed.forward(batch.tokens.clone());
        let mut states = Vec::with_capacity(self.blocks.len());
        for b in &self.blocks {
            let (y, state) = b.forward_with_state(x, batch);
            states.push(state);
            x = y;
        }
        let x = self.norm.forward(x);
        (lm_head::logits(x, self.head.as_ref(), &self.embed), states)
    }

    /// Logits `[batch, vocab]` of one new token per row at a suffix position, advancing `states`.
    pub fn step(&self, tokens: Tensor<1, Int>, states: &mut [LayerState]) -> Tensor<2> {
        let mut x = self.embed.forward(tokens.unsqueeze_dim::<2>(1)).squeeze_dim::<2>(1);
        for (b, state) in self.blocks.iter().zip(states) {
            x = b.step(x, state);
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

    const V: usize = 50;

    fn batch(tokens: &[i32], segments: &[i32], mask: &[i32]) -> SequenceBatch {
        let labels: Vec<i32> = mask.iter().map(|&m| if m == 3 { 1 } else { -100 }).collect();
        SequenceBatch::new(tokens, &labels, segments, mask, 1, tokens.len(), 1, &Device::flex())
    }

    fn logits(model: &GatedSsm, b: &SequenceBatch) -> Vec<f32> {
        model.forward(b).into_data().try_to_vec::<f32>().unwrap()
    }

    fn same(a: &[f32], b: &[f32]) -> bool {
        a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-5)
    }

    #[test]
    fn causality_prefix_and_isolation() {
        let model = GatedSsmConfig::new(V, 12, 8, 2).with_bidirectional(true).init(&Device::flex());
        let toks: Vec<i32> = (0..10).map(|i| (i * 7 % V) as i32).collect();
        let mask: Vec<i32> = (0..10).map(|i| if i < 4 { 1 } else { 3 }).collect();
        let base = logits(&model, &batch(&toks, &[1; 10], &mask));
        let mut c = toks.clone();
        c[3] = (c[3] + 5) % V as i32;
        assert!(!same(&base[..V], &logits(&model, &batch(&c, &[1; 10], &mask))[..V]), "prefix not bidirectional");
        let mut c = toks.clone();
        c[8] = (c[8] + 5) % V as i32;
        assert!(same(&base[..8 * V], &logits(&model, &batch(&c, &[1; 10], &mask))[..8 * V]), "suffix not causal");
        // Packing isolation.
        let a = logits(&model, &batch(&toks[..6], &[1; 6], &mask[..6]));
        let b = logits(&model, &batch(&toks[6..], &[1; 4], &[1, 1, 3, 3]));
        let packed = logits(
            &model,
            &batch(&toks, &[1, 1, 1, 1, 1, 1, 2, 2, 2, 2], &[mask[..6].to_vec(), vec![1, 1, 3, 3]].concat()),
        );
        assert!(same(&packed[..6 * V], &a) && same(&packed[6 * V..], &b));
    }

    #[test]
    fn parameter_count_matches_formula() {
        for tie in [false, true] {
            let cfg = GatedSsmConfig::new(V, 12, 8, 3).with_tie_embeddings(tie);
            assert_eq!(cfg.init(&Device::flex()).num_params(), cfg.num_params());
        }
    }
}
