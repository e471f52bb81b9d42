//! CubeCL kernels of the fused attention: one thread per (batch, head, query) with an online softmax over the keys
//! for the forward (the query row and the output accumulator in registers, `head_dim` fixed at compile time), and two
//! backward kernels that recompute the probabilities from the saved log-sum-exp: one thread per query for dq (and
//! D_i = dO_i · o_i), then one thread per key for dk and dv, so no gradient needs an atomic add.
//!
//! The threads of a cube hold consecutive queries of one (batch, head) and read the same key and value rows at each
//! step (broadcast loads). A tiled kernel that stages key blocks in shared memory and uses the matrix units would be
//! faster at long sequences (docs/gpu.md); this one is exact and keeps memory at O(seq · head_dim) per head.

use burn_cubecl::tensor::CubeTensor;
use burn_cubecl::CubeBackend;
use cubecl::prelude::*;

use super::{AttentionBackend, AttentionMask};
use crate::ops::cube_launch::{empty_f32, f32_input, per_item};

/// Whether query `i` sees key `j` of the same batch row (`base` = the row's offset in `seg` and `pre`).
#[cube]
fn allowed(seg: &Tensor<f32>, pre: &Tensor<f32>, base: usize, i: usize, j: usize, #[comptime] prefix_lm: bool) -> bool {
    let mut ok = false;
    if seg[base + i] == seg[base + j] {
        if j <= i {
            ok = true;
        } else if prefix_lm {
            // Both in the prefix (the flags are 0 or 1).
            ok = pre[base + i] * pre[base + j] == 1.0;
        }
    }
    ok
}

/// The last key index + 1 a query may see, before the mask: `i + 1` for causal attention, else the row's end.
#[cube]
fn key_end(i: usize, t: usize, #[comptime] prefix_lm: bool) -> usize {
    if prefix_lm {
        t
    } else {
        i + 1
    }
}

#[cube(launch)]
#[allow(clippy::too_many_arguments)] // the five inputs, two outputs, the scale and the compile-time shape and mask
fn attention_forward_kernel(
    q: &Tensor<f32>,
    k: &Tensor<f32>,
    v: &Tensor<f32>,
    seg: &Tensor<f32>,
    pre: &Tensor<f32>,
    out: &mut Tensor<f32>,
    lse: &mut Tensor<f32>,
    scale: f32,
    #[comptime] hd: usize,
    #[comptime] prefix_lm: bool,
) {
    let (heads, t) = (q.shape(1), q.shape(2));
    if ABSOLUTE_POS >= q.shape(0) * heads * t {
        terminate!();
    }
    let (bh, i) = (ABSOLUTE_POS / t, ABSOLUTE_POS % t);
    let (base, row) = (bh * t * hd, (bh / heads) * t);
    let mut qi = Array::<f32>::new(hd);
    let mut acc = Array::<f32>::new(hd);
    #[unroll]
    for c in 0..hd {
        qi[c] = q[base + i * hd + c] * scale;
        acc[c] = 0.0;
    }
    // Below every score: the running maximum's start (WGSL has no −∞ literal).
    let mut m = f32::new(-1.0e30);
    let mut l = 0.0f32;
    for j in 0..key_end(i, t, prefix_lm) {
        if allowed(seg, pre, row, i, j, prefix_lm) {
            let mut s = 0.0f32;
            #[unroll]
            for c in 0..hd {
                s += qi[c] * k[base + j * hd + c];
            }
            let mut m_new = m;
            if s > m {
                m_new = s;
            }
            let correction = (m - m_new).exp();
            let e = (s - m_new).exp();
            l = l * correction + e;
            #[unroll]
            for c in 0..hd {
                acc[c] = acc[c] * correction + e * v[base + j * hd + c];
            }
            m = m_new;
        }
    }
    #[unroll]
    for c in 0..hd {
        out[base + i * hd + c] = acc[c] / l;
    }
    lse[bh * t + i] = m + l.ln();
}

#[cube(launch)]
#[allow(clippy::too_many_arguments)]
fn attention_dq_kernel(
    g: &Tensor<f32>,
    q: &Tensor<f32>,
    k: &Tensor<f32>,
    v: &Tensor<f32>,
    seg: &Tensor<f32>,
    pre: &Tensor<f32>,
    out: &Tensor<f32>,
    lse: &Tensor<f32>,
    dq: &mut Tensor<f32>,
    dsum: &mut Tensor<f32>,
    scale: f32,
    #[comptime] hd: usize,
    #[comptime] prefix_lm: bool,
) {
    let (heads, t) = (q.shape(1), q.shape(2));
    if ABSOLUTE_POS >= q.shape(0) * heads * t {
        terminate!();
    }
    let (bh, i) = (ABSOLUTE_POS / t, ABSOLUTE_POS % t);
    let (base, row) = (bh * t * hd, (bh / heads) * t);
    let mut qi = Array::<f32>::new(hd);
    let mut gi = Array::<f32>::new(hd);
    let mut acc = Array::<f32>::new(hd);
    let mut d = 0.0f32;
    #[unroll]
    for c in 0..hd {
        qi[c] = q[base + i * hd + c] * scale;
        gi[c] = g[base + i * hd + c];
        acc[c] = 0.0;
        d += gi[c] * out[base + i * hd + c];
    }
    dsum[bh * t + i] = d;
    let li = lse[bh * t + i];
    for j in 0..key_end(i, t, prefix_lm) {
        if allowed(seg, pre, row, i, j, prefix_lm) {
            let mut s = 0.0f32;
            let mut dp = 0.0f32;
            #[unroll]
            for c in 0..hd {
                s += qi[c] * k[base + j * hd + c];
                dp += gi[c] * v[base + j * hd + c];
            }
            let ds = (s - li).exp() * (dp - d);
            #[unroll]
            for c in 0..hd {
                acc[c] += ds * k[base + j * hd + c];
            }
        }
    }
    #[unroll]
    for c in 0..hd {
        dq[base + i * hd + c] = acc[c] * scale;
    }
}

#[cube(launch)]
#[allow(clippy::too_many_arguments)]
fn attention_dkv_kernel(
    g: &Tensor<f32>,
    q: &Tensor<f32>,
    k: &Tensor<f32>,
    v: &Tensor<f32>,
    seg: &Tensor<f32>,
    pre: &Tensor<f32>,
    lse: &Tensor<f32>,
    dsum: &Tensor<f32>,
    dk: &mut Tensor<f32>,
    dv: &mut Tensor<f32>,
    scale: f32,
    #[comptime] hd: usize,
    #[comptime] prefix_lm: bool,
) {
    let (heads, t) = (q.shape(1), q.shape(2));
    if ABSOLUTE_POS >= q.shape(0) * heads * t {
        terminate!();
    }
    let (bh, j) = (ABSOLUTE_POS / t, ABSOLUTE_POS % t);
    let (base, row) = (bh * t * hd, (bh / heads) * t);
    let mut kj = Array::<f32>::new(hd);
    let mut vj = Array::<f32>::new(hd);
    let mut dk_acc = Array::<f32>::new(hd);
    let mut dv_acc = Array::<f32>::new(hd);
    #[unroll]
    for c in 0..hd {
        kj[c] = k[base + j * hd + c] * scale;
        vj[c] = v[base + j * hd + c];
        dk_acc[c] = 0.0;
        dv_acc[c] = 0.0;
    }
    // Causal queries that see key j start at j; prefix queries may sit before it.
    let mut first = j;
    if prefix_lm {
        first = 0;
    }
    for i in first..t {
        if allowed(seg, pre, row, i, j, prefix_lm) {
            let mut s = 0.0f32;
            let mut dp = 0.0f32;
            #[unroll]
            for c in 0..hd {
                s += q[base + i * hd + c] * kj[c];
                dp += g[base + i * hd + c] * vj[c];
            }
            let p = (s - lse[bh * t + i]).exp();
            let ds = p * (dp - dsum[bh * t + i]);
            #[unroll]
            for c in 0..hd {
                dv_acc[c] += p * g[base + i * hd + c];
                dk_acc[c] += ds * q[base + i * hd + c];
            }
        }
    }
    #[unroll]
    for c in 0..hd {
        dk[base + j * hd + c] = dk_acc[c] * scale;
        dv[base + j * hd + c] = dv_acc[c];
    }
}

impl AttentionBackend for CubeBackend {
    fn attention_forward(
        q: CubeTensor,
        k: CubeTensor,
        v: CubeTensor,
        segments: CubeTensor,
        prefix: CubeTensor,
        mask: AttentionMask,
    ) -> (CubeTensor, CubeTensor) {
        let op = "attention";
        let q = f32_input(q, op);
        let [b, h, t, hd] = q.meta.shape().dims::<4>();
        let (out, lse) = (empty_f32(&q, [b, h, t, hd]), empty_f32(&q, [b, h, t]));
        let (count, dim) = per_item(&q, b * h * t);
        attention_forward_kernel::launch(
            &q.client.clone(),
            count,
            dim,
            q.into_tensor_arg(),
            f32_input(k, op).into_tensor_arg(),
            f32_input(v, op).into_tensor_arg(),
            f32_input(segments, op).into_tensor_arg(),
            f32_input(prefix, op).into_tensor_arg(),
            out.clone().into_tensor_arg(),
            lse.clone().into_tensor_arg(),
            1.0 / (hd as f32).sqrt(),
            hd,
            mask == AttentionMask::PrefixLm,
        );
        (out, lse)
    }

    fn attention_backward(
        g: CubeTensor,
        q: CubeTensor,
        k: CubeTensor,
        v: CubeTensor,
        segments: CubeTensor,
        prefix: CubeTensor,
        out: CubeTensor,
        lse: CubeTensor,
        mask: AttentionMask,
    ) -> (CubeTensor, CubeTensor, CubeTensor) {
        let op = "attention backward";
        let (g, q, k, v) = (f32_input(g, op), f32_input(q, op), f32_input(k, op), f32_input(v, op));
        let (segments, prefix, lse) = (f32_input(segments, op), f32_input(prefix, op), f32_input(lse, op));
        let [b, h, t, hd] = q.meta.shape().dims::<4>();
        let (dq, dk, dv) = (empty_f32(&q, [b, h, t, hd]), empty_f32(&q, [b, h, t, hd]), empty_f32(&q, [b, h, t, hd]));
        let dsum = empty_f32(&q, [b, h, t]);
        let (count, dim) = per_item(&q, b * h * t);
        let (scale, prefix_lm, client) = (1.0 / (hd as f32).sqrt(), mask == AttentionMask::PrefixLm, q.client.clone());
        attention_dq_kernel::launch(
            &client,
            count.clone(),
            dim,
            g.clone().into_tensor_arg(),
            q.clone().into_tensor_arg(),
            k.clone().into_tensor_arg(),
            v.clone().into_tensor_arg(),
            segments.clone().into_tensor_arg(),
            prefix.clone().into_tensor_arg(),
            f32_input(out, op).into_tensor_arg(),
            lse.clone().into_tensor_arg(),
            dq.clone().into_tensor_arg(),
            dsum.clone().into_tensor_arg(),
            scale,
            hd,
            prefix_lm,
        );
        attention_dkv_kernel::launch(
            &client,
            count,
            dim,
            g.into_tensor_arg(),
            q.into_tensor_arg(),
            k.into_tensor_arg(),
            v.into_tensor_arg(),
            segments.into_tensor_arg(),
            prefix.into_tensor_arg(),
            lse.into_tensor_arg(),
            dsum.into_tensor_arg(),
            dk.clone().into_tensor_arg(),
            dv.clone().into_tensor_arg(),
            scale,
            hd,
            prefix_lm,
        );
        (dq, dk, dv)
    }
}
