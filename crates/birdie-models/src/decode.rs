//! Step mode for generation: a prompt pass over the whole prompt, then one token at a time with carried state.
//!
//! The prompt is one sample per row: the bidirectional prefix (attention mask 1), then the start-of-generation
//! token and any teacher-forced suffix tokens (mask 3). The prompt pass is the ordinary full forward on that packed
//! sample, so bidirectional layers see the whole prefix, and the reverse half's state at the last prefix position
//! includes the start-of-generation token (design §5.3). It leaves, per layer:
//!
//! - SSM layers: the state of the channels that run left to right (all of them in causal layers, the first half in
//!   bidirectional ones) and, for Hawk, the last `conv_width − 1` convolution inputs. In the suffix a reverse-half
//!   channel's transition is 0, so its state is just its input term and needs no carrying.
//! - Attention layers: keys (after RoPE) and values of every position so far.
//!
//! Each later step computes exactly what the full forward computes at that position (test: `tests/step_mode.rs`).

use burn::prelude::*;

/// The carried state of one layer.
#[derive(Debug, Clone)]
pub enum LayerState {
    /// Forward-running scan state `[batch, width]`; the last `conv_width − 1` convolution inputs, oldest first,
    /// `[batch, conv_width − 1, lru_width]` (Hawk only).
    Recurrent { h: Tensor<2>, conv: Option<Tensor<3>> },
    /// Keys (RoPE applied) and values `[batch, heads, positions, head_dim]`.
    Attention { k: Tensor<4>, v: Tensor<4> },
}

/// Everything generation carries between steps.
#[derive(Debug, Clone)]
pub struct DecodeState {
    pub layers: Vec<LayerState>,
    /// Position (within the sample) of the next token.
    pub position: usize,
    /// Rows decoded together.
    pub batch: usize,
}

/// `x[:, T − 1, :]` as `[batch, width]`.
pub(crate) fn last_position(x: &Tensor<3>) -> Tensor<2> {
    let [b, t, n] = x.dims();
    x.clone().narrow(1, t - 1, 1).reshape([b, n])
}

/// The last `taps − 1` positions of `u` `[batch, seq, width]`, zero-filled in front when the prompt is shorter
/// (the masked taps of a sample start read zeros); `None` for a width-1 convolution.
pub(crate) fn conv_history(u: &Tensor<3>, taps: usize) -> Option<Tensor<3>> {
    let keep = taps.checked_sub(1).filter(|&k| k > 0)?;
    let [b, t, n] = u.dims();
    let have = keep.min(t);
    let tail = u.clone().narrow(1, t - have, have);
    Some(if have < keep {
        Tensor::cat(vec![Tensor::<3>::zeros([b, keep - have, n], &u.device()), tail], 1)
    } else {
        tail
    })
}
