//! Hawk (De et al., "Griffin", 2024; design §5.1) with Birdie's bidirectional prefix option (design §5.3).
//!
//! ```text
//! x ← √D · embed(tokens)
//! per block:  x ← x + RecurrentBlock(RMSNorm(x));   x ← x + GatedMlp(RMSNorm(x))
//! RecurrentBlock(x) = W_out( GeLU(W_gate x) ⊙ RG-LRU( Conv1D_4(W_in x) ) )
//! GatedMlp(x)       = W_down( GeLU(W_gate x) ⊙ W_up x )
//! logits = RMSNorm(x) · W_headᵀ   (or the embedding matrix when tied)
//! ```
//!
//! The RG-LRU's gates W_a, W_x are block-diagonal over `lru_heads` heads (dense with one head). Causal Hawk
//! computes what recurrentgemma computes for a model whose blocks are all recurrent, with its initialisation
//! (docs/models.md, "Matching recurrentgemma").
//!
//! The width-4 causal convolution never reads across a packed-sample boundary (per-tap masks, design §2.5). With
//! `bidirectional`, layers 0, 2, 4, … are bidirectional (decision A5): the first half of the RG-LRU channels runs
//! left to right, the second half right to left with its transition forced to 0 outside the prefix; both reset at
//! sample boundaries.

mod block_diagonal;

pub use block_diagonal::BlockDiagonalLinear;

use burn::module::Param;
use burn::nn::{Embedding, Initializer, Linear, LinearConfig, RmsNorm, RmsNormConfig};
use burn::prelude::*;
use burn::tensor::activation::{gelu, sigmoid, softplus};
use burn::tensor::Distribution;

use crate::batch::SequenceBatch;
use crate::decode::{conv_history, last_position, LayerState};
use crate::ops::linear_scan::ScanDirection;
use crate::ops::rg_lru::{one_minus_a_squared, rg_lru, RgLruInput, C};
use crate::{embedding, lm_head};

/// Hawk hyper-parameters.
#[derive(Config, Debug)]
pub struct HawkConfig {
    pub vocab_size: usize,
    /// Model width D.
    pub d_model: usize,
    /// RG-LRU width N (even when bidirectional).
    pub lru_width: usize,
    pub num_layers: usize,
    #[config(default = 4)]
    pub conv_width: usize,
    /// MLP hidden width = round(d_model · mlp_expansion).
    #[config(default = 2.6666666666666665)]
    pub mlp_expansion: f64,
    #[config(default = false)]
    pub tie_embeddings: bool,
    #[config(default = false)]
    pub bidirectional: bool,
    /// Heads H of the block-diagonal RG-LRU gates (divides N, and N/2 when bidirectional); 1 = dense gates.
    #[config(default = 1)]
    pub lru_heads: usize,
}

impl HawkConfig {
    /// Hidden width of the gated MLP.
    pub fn mlp_hidden(&self) -> usize {
        (self.d_model as f64 * self.mlp_expansion).round() as usize
    }

    /// Whether layer `i` is bidirectional.
    pub fn layer_is_bidirectional(&self, i: usize) -> bool {
        self.bidirectional && i % 2 == 0
    }

    /// Parameter count from the formula (checked against the initialised model in a test).
    pub fn num_params(&self) -> usize {
        let (d, n, h, v, k) = (self.d_model, self.lru_width, self.mlp_hidden(), self.vocab_size, self.conv_width);
        let gate = n * n / self.lru_heads + n; // H blocks of (N/H)² and a bias
        let recurrent = 2 * d * n + k * n + n + 2 * gate + n + n * d;
        let mlp = 3 * d * h;
        let block = recurrent + mlp + 2 * d;
        v * d + self.num_layers * block + d + if self.tie_embeddings { 0 } else { d * v }
    }

    /// The model with recurrentgemma's initialisation: projections from the residual stream normal with std √(1/D),
    /// the two projections back into it (W_out, W_down) with std √(s/fan_in), s = 2/num_layers; see the field docs.
    ///
    /// # Panics
    /// If `lru_heads` does not divide the RG-LRU width (or its halves in a bidirectional model).
    pub fn init(&self, device: &Device) -> Hawk {
        let (d, n, hidden) = (self.d_model, self.lru_width, self.mlp_hidden());
        let per_direction = if self.bidirectional { n / 2 } else { n };
        assert!(
            self.lru_heads > 0 && n % self.lru_heads == 0 && per_direction % self.lru_heads == 0,
            "lru_heads = {} must divide the RG-LRU width {n} (and {per_direction} per direction)",
            self.lru_heads
        );
        let final_scale = 2.0 / self.num_layers as f64;
        let norm = |d: usize| RmsNormConfig::new(d).with_epsilon(RMS_NORM_EPSILON).init(device);
        let lin = |i: usize, o: usize, variance: f64| {
            LinearConfig::new(i, o)
                .with_bias(false)
                .with_initializer(Initializer::Normal { mean: 0.0, std: variance.sqrt() })
                .init(device)
        };
        let blocks = (0..self.num_layers)
            .map(|i| ResidualBlock {
                norm_rec: norm(d),
                rec: RecurrentBlock {
                    gate: lin(d, n, 1.0 / d as f64),
                    input: lin(d, n, 1.0 / d as f64),
                    conv_weight: Param::from_tensor(Tensor::<2>::random(
                        [self.conv_width, n],
                        Distribution::Normal(0.0, (0.01 / self.conv_width as f64).sqrt()),
                        device,
                    )),
                    conv_bias: Param::from_tensor(Tensor::<1>::zeros([n], device)),
                    w_a: BlockDiagonalLinear::new(n, self.lru_heads, device),
                    w_x: BlockDiagonalLinear::new(n, self.lru_heads, device),
                    lambda: Param::from_tensor(init_lambda(n, device)),
                    out: lin(n, d, final_scale / n as f64),
                    bidirectional: self.layer_is_bidirectional(i),
                },
                norm_mlp: norm(d),
                mlp: GatedMlp {
                    gate: lin(d, hidden, 1.0 / d as f64),
                    up: lin(d, hidden, 1.0 / d as f64),
                    down: lin(hidden, d, final_scale / hidden as f64),
                },
            })
            .collect();
        Hawk {
            embed: embedding::init(self.vocab_size, d, device),
            blocks,
            norm: norm(d),
            head: (!self.tie_embeddings).then(|| lm_head::init_head(d, self.vocab_size, device)),
            conv_width: self.conv_width,
        }
    }
}

/// ε of every RMSNorm (recurrentgemma's).
const RMS_NORM_EPSILON: f64 = 1e-6;

/// Λ as recurrentgemma's `rnn_param_init(min_rad = 0.9, max_rad = 0.999)`: σ(Λ)² uniform in [0.81, 0.998] (uniform
/// over the area of the ring 0.9 ≤ |σ(Λ)| ≤ 0.999), so at r = 1 the decay is a = σ(Λ)^c.
fn init_lambda(n: usize, device: &Device) -> Tensor<1> {
    let u = Tensor::<1>::random([n], Distribution::Uniform(0.81, 0.998), device);
    // σ(Λ) = √u  ⇒  Λ = logit(√u)
    let s = u.sqrt();
    (s.clone() / s.neg().add_scalar(1.0)).log()
}

/// The Hawk language model.
#[derive(Module, Debug)]
pub struct Hawk {
    /// `[vocab, d_model]`, normal with std 1/√D; looked-up rows are multiplied by √D.
    pub embed: Embedding,
    pub blocks: Vec<ResidualBlock>,
    /// Final RMSNorm, γ = 1, ε = 10⁻⁶.
    pub norm: RmsNorm,
    /// `[d_model → vocab]`, normal with std 1/√D; `None` when tied to the embedding.
    pub head: Option<Linear>,
    pub conv_width: usize,
}

/// One residual block: recurrent temporal mixing, then the gated MLP, each pre-normalised.
#[derive(Module, Debug)]
pub struct ResidualBlock {
    /// `[d_model]`, γ = 1, ε = 10⁻⁶.
    pub norm_rec: RmsNorm,
    pub rec: RecurrentBlock,
    /// `[d_model]`, γ = 1, ε = 10⁻⁶.
    pub norm_mlp: RmsNorm,
    pub mlp: GatedMlp,
}

/// `W_out(GeLU(W_gate x) ⊙ RG-LRU(Conv1D(W_in x)))`.
#[derive(Module, Debug)]
pub struct RecurrentBlock {
    /// `[d_model → lru]`, no bias; normal, std √(1/D).
    pub gate: Linear,
    /// `[d_model → lru]`, no bias; normal, std √(1/D).
    pub input: Linear,
    /// Causal conv taps `[conv_width, lru]` (tap k reads position t − k); normal, std √(0.01/conv_width).
    pub conv_weight: Param<Tensor<2>>,
    /// `[lru]`; zeros.
    pub conv_bias: Param<Tensor<1>>,
    /// Recurrence gate, block-diagonal `[H, lru/H, lru/H]` + bias `[lru]` (no weight decay).
    pub w_a: BlockDiagonalLinear,
    /// Input gate, block-diagonal `[H, lru/H, lru/H]` + bias `[lru]` (no weight decay).
    pub w_x: BlockDiagonalLinear,
    /// Λ `[lru]` (no weight decay); σ(Λ)² uniform in [0.81, 0.998].
    pub lambda: Param<Tensor<1>>,
    /// `[lru → d_model]`, no bias; normal, std √(2/(num_layers·N)).
    pub out: Linear,
    pub bidirectional: bool,
}

/// `W_down(GeLU(W_gate x) ⊙ W_up x)`.
#[derive(Module, Debug)]
pub struct GatedMlp {
    /// `[d_model → hidden]`, no bias; normal, std √(1/D).
    pub gate: Linear,
    /// `[d_model → hidden]`, no bias; normal, std √(1/D).
    pub up: Linear,
    /// `[hidden → d_model]`, no bias; normal, std √(2/(num_layers·hidden)).
    pub down: Linear,
}

impl GatedMlp {
    pub fn forward<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        self.down.forward(gelu(self.gate.forward(x.clone())) * self.up.forward(x))
    }
}

impl RecurrentBlock {
    /// Causal depthwise convolution that never reads across a segment boundary. `u`: `[batch, seq, lru]`.
    fn conv(&self, u: Tensor<3>, batch: &SequenceBatch) -> Tensor<3> {
        let [bs, t, n] = u.dims();
        let w = self.conv_weight.val();
        let k_taps = w.dims()[0];
        let mut out =
            u.clone() * w.clone().narrow(0, 0, 1).reshape([1, 1, n]) + self.conv_bias.val().reshape([1, 1, n]);
        for k in 1..k_taps.min(t) {
            let shifted = Tensor::cat(
                vec![Tensor::<3>::zeros([bs, k, n], (&u.device(), u.dtype())), u.clone().narrow(1, 0, t - k)],
                1,
            );
            out = out + shifted * batch.conv_keep[k - 1].clone() * w.clone().narrow(0, k, 1).reshape([1, 1, n]);
        }
        out
    }

    pub fn forward(&self, x: Tensor<3>, batch: &SequenceBatch) -> Tensor<3> {
        self.forward_with_state(x, batch).0
    }

    /// The block's output, and the decoding state after the last position: the forward-running part of the
    /// RG-LRU state and the last `conv_width − 1` convolution inputs.
    fn forward_with_state(&self, x: Tensor<3>, batch: &SequenceBatch) -> (Tensor<3>, LayerState) {
        let g = gelu(self.gate.forward(x.clone())); // [B, T, N]
        let u_in = self.input.forward(x); // [B, T, N]
        let u = self.conv(u_in.clone(), batch); // [B, T, N]
        let za = self.w_a.forward(u.clone());
        let zx = self.w_x.forward(u.clone());
        let lambda = self.lambda.val();
        let h = if !self.bidirectional {
            let input =
                RgLruInput { za, zx, x: u, lambda, reset: batch.reset.clone(), transition_mask: batch.ones.clone() };
            rg_lru(input, ScanDirection::Forward)
        } else {
            let n = u.dims()[2];
            let half = n / 2;
            let part = |t: &Tensor<3>, lo, len| t.clone().narrow(2, lo, len);
            let fwd = RgLruInput {
                za: part(&za, 0, half),
                zx: part(&zx, 0, half),
                x: part(&u, 0, half),
                lambda: lambda.clone().narrow(0, 0, half),
                reset: batch.reset.clone(),
                transition_mask: batch.ones.clone(),
            };
            let rev = RgLruInput {
                za: part(&za, half, n - half),
                zx: part(&zx, half, n - half),
                x: part(&u, half, n - half),
                lambda: lambda.narrow(0, half, n - half),
                reset: batch.reset.clone(),
                transition_mask: batch.prefix.clone(),
            };
            Tensor::cat(vec![rg_lru(fwd, ScanDirection::Forward), rg_lru(rev, ScanDirection::Reverse)], 2)
        };
        let state = LayerState::Recurrent {
            h: last_position(&h).narrow(1, 0, self.forward_width()),
            conv: conv_history(&u_in, self.conv_weight.dims()[0]),
        };
        (self.out.forward(g * h), state)
    }

    /// Channels whose state runs left to right (all, or the first half in a bidirectional layer).
    fn forward_width(&self) -> usize {
        let n = self.lambda.dims()[0];
        if self.bidirectional {
            n / 2
        } else {
            n
        }
    }

    /// One generation step at a suffix position. `x`: `[batch, d_model]`.
    fn step(&self, x: Tensor<2>, state: &mut LayerState) -> Tensor<2> {
        let LayerState::Recurrent { h, conv } = state else { panic!("a recurrent layer needs a recurrent state") };
        let g = gelu(self.gate.forward(x.clone()));
        let u_in = self.input.forward(x); // [B, N]
        let [bs, n] = u_in.dims();
        let w = self.conv_weight.val();
        let k_taps = w.dims()[0];
        let mut u = u_in.clone() * w.clone().narrow(0, 0, 1) + self.conv_bias.val().reshape([1, n]);
        if let Some(history) = conv.as_mut() {
            // history[:, j] holds the input at t − (k_taps − 1) + j.
            for k in 1..k_taps {
                let past = history.clone().narrow(1, k_taps - 1 - k, 1).reshape([bs, n]);
                u = u + past * w.clone().narrow(0, k, 1);
            }
            let newest = u_in.reshape([bs, 1, n]);
            *history = if k_taps > 2 {
                Tensor::cat(vec![history.clone().narrow(1, 1, k_taps - 2), newest], 1)
            } else {
                newest
            };
        }
        let r = sigmoid(self.w_a.forward(u.clone()));
        let i = sigmoid(self.w_x.forward(u.clone()));
        let log_a = r * softplus(self.lambda.val().neg(), 1.0).reshape([1, n]).mul_scalar(-C);
        let root = one_minus_a_squared(log_a.clone()).sqrt();
        let a = log_a.exp();
        let fw = self.forward_width();
        // A suffix position is never a sample start; the reverse half's transition is 0 in the suffix, so its state
        // starts afresh: multiplier 1 and state i·x.
        let mult = if fw < n {
            Tensor::cat(vec![root.narrow(1, 0, fw), Tensor::ones([bs, n - fw], &a.device())], 1)
        } else {
            root
        };
        let b = mult * i * u;
        let h_fwd = a.narrow(1, 0, fw) * h.clone() + b.clone().narrow(1, 0, fw);
        *h = h_fwd.clone();
        let h_all = if fw < n { Tensor::cat(vec![h_fwd, b.narrow(1, fw, n - fw)], 1) } else { h_fwd };
        self.out.forward(g * h_all)
    }
}

impl Hawk {
    /// Logits `[batch, seq, vocab]`.
    pub fn forward(&self, batch: &SequenceBatch) -> Tensor<3> {
        self.forward_with_state(batch).0
    }

    /// Logits and the per-layer decoding state after the last position (the prompt pass of generation).
    pub fn forward_with_state(&self, batch: &SequenceBatch) -> (Tensor<3>, Vec<LayerState>) {
        let mut x = embedding::embed(&self.embed, batch.tokens.clone());
        let mut states = Vec::with_capacity(self.blocks.len());
        for b in &self.blocks {
            let (y, state) = b.rec.forward_with_state(b.norm_rec.forward(x.clone()), batch);
            states.push(state);
            x = x + y;
            x = x.clone() + b.mlp.forward(b.norm_mlp.forward(x));
        }
        let x = self.norm.forward(x);
        (lm_head::logits(x, self.head.as_ref(), &self.embed), states)
    }

    /// Logits `[batch, vocab]` of one new token per row at a suffix position, advancing `states`.
    pub fn step(&self, tokens: Tensor<1, Int>, states: &mut [LayerState]) -> Tensor<2> {
        let mut x = embedding::embed_one(&self.embed, tokens);
        for (b, state) in self.blocks.iter().zip(states) {
            x = x.clone() + b.rec.step(b.norm_rec.forward(x), state);
            x = x.clone() + b.mlp.forward(b.norm_mlp.forward(x));
        }
        lm_head::logits_2d(self.norm.forward(x), self.head.as_ref(), &self.embed)
    }

    /// Mean cross-entropy over the label positions (design A10).
    pub fn loss(&self, batch: &SequenceBatch) -> Tensor<1> {
        lm_head::loss(self.forward(batch), batch)
    }
}

#[cfg(test)]
mod tests;
