//! The paper's Gated-SSM reward network written out by hand (llm.c style): one flat parameter vector, an explicit
//! forward pass that keeps what the backward pass needs, and an explicit backward pass — the same network as
//! `birdie_train`'s `GatedSsmRewardNet` (which serves as the oracle in the parity test), without a tensor framework's
//! per-operation overhead on these small `[T, W]` shapes. The four gate projections are one `[W → 4W]` product.
//!
//! ```text
//! u   = [RMSNorm(losses)·g_loss | RMSNorm(mixture)·g_act]          rows [T, 2K]
//! h⁰  = u · W_in                                                    [T, W]
//! per block:  x̂ = RMSNorm(h)·g;  a = x̂·W_gates + b = [a_i | a_z | a_o | a_f]
//!             s_t = σ(a_f)_t ⊙ s_{t−1} + σ(a_i)_t ⊙ a_z,t;  m = GeLU(a_o) ⊙ s
//!             h ← h + m·W_out + b_out
//! y   = tanh(RMSNorm(h)·g_final · W_r)                              [T, K]
//! ```

use birdie_math::{exp, sigmoid};

use crate::matmul::{matmul, Layout};

const EPS: f32 = 1e-5;

/// Offsets of one block's parameters in the flat vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockOffsets {
    pub g: usize,
    /// `[W, 4W]`: the i, z, o, f projections side by side.
    pub w: usize,
    pub b: usize,
    /// `[W, W]`.
    pub w_out: usize,
    pub b_out: usize,
}

/// Offsets of every parameter tensor in the flat vector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offsets {
    pub g_loss: usize,
    pub g_act: usize,
    /// `[2K, W]`.
    pub w_in: usize,
    pub blocks: Vec<BlockOffsets>,
    pub g_final: usize,
    /// `[W, K]`.
    pub w_r: usize,
    pub total: usize,
}

impl Offsets {
    pub fn new(k: usize, w: usize, layers: usize) -> Self {
        let mut at = 0;
        let mut take = |n: usize| {
            at += n;
            at - n
        };
        let g_loss = take(k);
        let g_act = take(k);
        let w_in = take(2 * k * w);
        let blocks = (0..layers)
            .map(|_| BlockOffsets {
                g: take(w),
                w: take(w * 4 * w),
                b: take(4 * w),
                w_out: take(w * w),
                b_out: take(w),
            })
            .collect();
        let g_final = take(w);
        let w_r = take(w * k);
        Offsets { g_loss, g_act, w_in, blocks, g_final, w_r, total: at }
    }
}

/// GeLU `x·Φ(x)` and its derivative `Φ(x) + x·φ(x)`, with Φ from Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7,
/// tested against libm's `erf`); one exponential serves both Φ and φ.
#[inline(always)]
fn gelu(x: f32) -> (f32, f32) {
    let e = exp(-0.5 * x * x);
    let z = x.abs() * std::f32::consts::FRAC_1_SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * z);
    let poly = t * (0.254_829_6 + t * (-0.284_496_74 + t * (1.421_413_7 + t * (-1.453_152_1 + t * 1.061_405_4))));
    let erf_abs = 1.0 - poly * e;
    let cdf = 0.5 * (1.0 + erf_abs.copysign(x));
    (x * cdf, cdf + x * e * 0.398_942_3)
}

/// `out = x / rms(x) · g` per row of width `n`; `r` gets 1 / rms.
fn rms_norm(x: &[f32], n: usize, g: &[f32], out: &mut [f32], r: &mut [f32]) {
    for ((row, o), rr) in x.chunks_exact(n).zip(out.chunks_exact_mut(n)).zip(r.iter_mut()) {
        let ms = row.iter().map(|v| v * v).sum::<f32>() / n as f32;
        *rr = 1.0 / (ms + EPS).sqrt();
        for ((o, &v), &gg) in o.iter_mut().zip(row).zip(g) {
            *o = v * *rr * gg;
        }
    }
}

/// Backward of [`rms_norm`]: adds to `dx` (when given) and `dg`.
fn rms_norm_backward(
    x: &[f32],
    n: usize,
    g: &[f32],
    r: &[f32],
    dy: &[f32],
    mut dx: Option<&mut [f32]>,
    dg: &mut [f32],
) {
    for (t, (row, d)) in x.chunks_exact(n).zip(dy.chunks_exact(n)).enumerate() {
        let rr = r[t];
        let mut dot = 0.0;
        for j in 0..n {
            dot += g[j] * d[j] * row[j];
            dg[j] += d[j] * row[j] * rr;
        }
        if let Some(dx) = dx.as_deref_mut() {
            let c = rr * rr * rr * dot / n as f32;
            for j in 0..n {
                dx[t * n + j] += rr * g[j] * d[j] - row[j] * c;
            }
        }
    }
}

/// One row of gates and scan: `s = σ(a_f) ⊙ prev + σ(a_i) ⊙ a_z`, `m = GeLU(a_o) ⊙ s` (a branch-free loop over the
/// channels, so it vectorises).
#[inline(always)]
fn gate_step(a: &[f32], prev: &[f32], s: &mut [f32], m: &mut [f32]) {
    let w = s.len();
    let (ai, rest) = a.split_at(w);
    let (az, rest) = rest.split_at(w);
    let (ao, af) = rest.split_at(w);
    let (prev, m) = (&prev[..w], &mut m[..w]);
    for j in 0..w {
        let sj = sigmoid(af[j]) * prev[j] + sigmoid(ai[j]) * az[j];
        s[j] = sj;
        m[j] = gelu(ao[j]).0 * sj;
    }
}

/// Backward of [`gate_step`] for one row: `dm` is dL/dm, `carry` dL/ds flowing back from the next row (updated to
/// the previous row's); writes dL/da.
#[inline(always)]
fn gate_step_backward(a: &[f32], prev: &[f32], s: &[f32], dm: &[f32], carry: &mut [f32], da: &mut [f32]) {
    let w = s.len();
    let (ai, rest) = a.split_at(w);
    let (az, rest) = rest.split_at(w);
    let (ao, af) = rest.split_at(w);
    let (di, rest) = da.split_at_mut(w);
    let (dz, rest) = rest.split_at_mut(w);
    let (d_o, df) = rest.split_at_mut(w);
    let (prev, dm, carry) = (&prev[..w], &dm[..w], &mut carry[..w]);
    for j in 0..w {
        let (i, f) = (sigmoid(ai[j]), sigmoid(af[j]));
        let (o_val, o_grad) = gelu(ao[j]);
        let g = dm[j] * o_val + carry[j];
        di[j] = g * az[j] * i * (1.0 - i);
        dz[j] = g * i;
        d_o[j] = dm[j] * s[j] * o_grad;
        df[j] = g * prev[j] * f * (1.0 - f);
        carry[j] = g * f;
    }
}

/// What the backward pass reads from one block's forward pass.
#[derive(Debug, Clone, Default)]
struct BlockCache {
    /// The block's input `[T, W]`.
    h: Vec<f32>,
    r: Vec<f32>,
    xn: Vec<f32>,
    /// Gate pre-activations `[T, 4W]`.
    a: Vec<f32>,
    /// States `[T, W]`.
    s: Vec<f32>,
    /// `GeLU(a_o) ⊙ s` `[T, W]`.
    m: Vec<f32>,
}

/// The forward pass over a history, kept for the backward pass.
#[derive(Debug, Clone, Default)]
pub struct Forward {
    rows: usize,
    x: Vec<f32>,
    r_loss: Vec<f32>,
    r_act: Vec<f32>,
    u: Vec<f32>,
    blocks: Vec<BlockCache>,
    h_last: Vec<f32>,
    r_final: Vec<f32>,
    hn: Vec<f32>,
    /// Predictions `[T, K]`.
    pub y: Vec<f32>,
}

/// The network's shape and parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct ExplicitNet {
    pub arms: usize,
    pub width: usize,
    pub offsets: Offsets,
    pub params: Vec<f32>,
}

impl ExplicitNet {
    /// Norm gains 1; weights and biases uniform in ±1/√fan_in (burn's `Linear` default), drawn from `uniform`.
    pub fn new(arms: usize, width: usize, layers: usize, uniform: &mut dyn FnMut() -> f32) -> Self {
        let o = Offsets::new(arms, width, layers);
        let mut p = vec![0.0; o.total];
        let mut fill = |at: usize, len: usize, fan_in: usize| {
            let bound = 1.0 / (fan_in as f32).sqrt();
            for v in &mut p[at..at + len] {
                *v = (2.0 * uniform() - 1.0) * bound;
            }
        };
        fill(o.w_in, 2 * arms * width, 2 * arms);
        for b in &o.blocks {
            fill(b.w, 4 * width * width, width);
            fill(b.b, 4 * width, width);
            fill(b.w_out, width * width, width);
            fill(b.b_out, width, width);
        }
        fill(o.w_r, width * arms, width);
        for at in [o.g_loss, o.g_act] {
            p[at..at + arms].fill(1.0);
        }
        for at in o.blocks.iter().map(|b| b.g).chain([o.g_final]) {
            p[at..at + width].fill(1.0);
        }
        ExplicitNet { arms, width, offsets: o, params: p }
    }

    fn slice(&self, at: usize, len: usize) -> &[f32] {
        &self.params[at..at + len]
    }

    /// Rows `[T, 2K]` → the width-W input `h⁰` (and the normalised rows, with their 1/rms).
    fn embed(&self, x: &[f32], rows: usize) -> (Vec<f32>, Vec<f32>, Vec<f32>, Vec<f32>) {
        let (k, w, o) = (self.arms, self.width, &self.offsets);
        let mut u = vec![0.0; rows * 2 * k];
        let (mut r_loss, mut r_act) = (vec![0.0; rows], vec![0.0; rows]);
        let mut half = vec![0.0; rows * k];
        let mut normed = vec![0.0; rows * k];
        for (part, g, r) in [(0, o.g_loss, &mut r_loss), (1, o.g_act, &mut r_act)] {
            for t in 0..rows {
                half[t * k..(t + 1) * k].copy_from_slice(&x[t * 2 * k + part * k..t * 2 * k + (part + 1) * k]);
            }
            rms_norm(&half, k, self.slice(g, k), &mut normed, r);
            for t in 0..rows {
                u[t * 2 * k + part * k..t * 2 * k + (part + 1) * k].copy_from_slice(&normed[t * k..(t + 1) * k]);
            }
        }
        let mut h = vec![0.0; rows * w];
        matmul(&mut h, &u, Layout::AsIs, self.slice(o.w_in, 2 * k * w), Layout::AsIs, rows, 2 * k, w, false);
        (u, r_loss, r_act, h)
    }

    /// Gate pre-activations `a = x̂·W_gates + b` of `rows` rows.
    fn gates(&self, b: &BlockOffsets, xn: &[f32], rows: usize) -> Vec<f32> {
        let w = self.width;
        let mut a = vec![0.0; rows * 4 * w];
        let bias = self.slice(b.b, 4 * w);
        for row in a.chunks_exact_mut(4 * w) {
            row.copy_from_slice(bias);
        }
        matmul(&mut a, xn, Layout::AsIs, self.slice(b.w, 4 * w * w), Layout::AsIs, rows, w, 4 * w, true);
        a
    }

    /// `h ← h + m·W_out + b_out`.
    fn residual(&self, b: &BlockOffsets, h: &mut [f32], m: &[f32], rows: usize) {
        let w = self.width;
        let bias = self.slice(b.b_out, w);
        for row in h.chunks_exact_mut(w) {
            for (v, &bb) in row.iter_mut().zip(bias) {
                *v += bb;
            }
        }
        matmul(h, m, Layout::AsIs, self.slice(b.w_out, w * w), Layout::AsIs, rows, w, w, true);
    }

    /// `tanh(RMSNorm(h)·g_final·W_r)`, with the normalised rows and their 1/rms.
    fn read_out(&self, h: &[f32], rows: usize) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
        let (k, w, o) = (self.arms, self.width, &self.offsets);
        let (mut hn, mut r) = (vec![0.0; rows * w], vec![0.0; rows]);
        rms_norm(h, w, self.slice(o.g_final, w), &mut hn, &mut r);
        let mut y = vec![0.0; rows * k];
        matmul(&mut y, &hn, Layout::AsIs, self.slice(o.w_r, w * k), Layout::AsIs, rows, w, k, false);
        y.iter_mut().for_each(|v| *v = v.tanh());
        (hn, r, y)
    }

    /// The forward pass over history rows `x` (`[T, 2K]` row-major).
    pub fn forward(&self, x: &[f32], rows: usize) -> Forward {
        let w = self.width;
        let (u, r_loss, r_act, mut h) = self.embed(x, rows);
        let mut blocks = Vec::with_capacity(self.offsets.blocks.len());
        for b in &self.offsets.blocks {
            let mut c = BlockCache { h: h.clone(), r: vec![0.0; rows], xn: vec![0.0; rows * w], ..Default::default() };
            rms_norm(&h, w, self.slice(b.g, w), &mut c.xn, &mut c.r);
            c.a = self.gates(b, &c.xn, rows);
            c.s = vec![0.0; rows * w];
            c.m = vec![0.0; rows * w];
            let zeros = vec![0.0; w];
            for t in 0..rows {
                let (done, now) = c.s.split_at_mut(t * w);
                let prev = if t == 0 { &zeros[..] } else { &done[(t - 1) * w..] };
                gate_step(&c.a[t * 4 * w..(t + 1) * 4 * w], prev, &mut now[..w], &mut c.m[t * w..(t + 1) * w]);
            }
            self.residual(b, &mut h, &c.m, rows);
            blocks.push(c);
        }
        let (hn, r_final, y) = self.read_out(&h, rows);
        Forward { rows, x: x.to_vec(), r_loss, r_act, u, blocks, h_last: h, r_final, hn, y }
    }

    /// Mean squared error of `f`'s predictions against `targets` (`[T, K]`), and its gradient with respect to every
    /// parameter (same layout as `params`).
    pub fn backward(&self, f: &Forward, targets: &[f32]) -> (f32, Vec<f32>) {
        let mut grad = vec![0.0; self.offsets.total];
        let mse = self.backward_into(f, targets, &mut grad);
        (mse, grad)
    }

    /// [`ExplicitNet::backward`] into a caller's gradient buffer (every entry is overwritten; its old contents do
    /// not matter), so training reuses one buffer.
    pub fn backward_into(&self, f: &Forward, targets: &[f32], grad: &mut [f32]) -> f32 {
        let (k, w, o, rows) = (self.arms, self.width, &self.offsets, f.rows);
        assert_eq!(grad.len(), o.total, "gradient buffer size");
        // Entries that are sums over rows start at zero; the weight matrices are overwritten by their products.
        for (at, len) in [(o.g_loss, 2 * k), (o.g_final, w)]
            .into_iter()
            .chain(o.blocks.iter().flat_map(|b| [(b.g, w), (b.b, 4 * w), (b.b_out, w)]))
        {
            grad[at..at + len].fill(0.0);
        }
        let n = (rows * k) as f32;
        let mut mse = 0.0;
        // dL/dp through tanh.
        let dp: Vec<f32> =
            f.y.iter()
                .zip(targets)
                .map(|(&y, &t)| {
                    mse += (y - t) * (y - t);
                    2.0 * (y - t) / n * (1.0 - y * y)
                })
                .collect();
        matmul(&mut grad[o.w_r..o.w_r + w * k], &f.hn, Layout::Transposed, &dp, Layout::AsIs, w, rows, k, false);
        let mut dhn = vec![0.0; rows * w];
        matmul(&mut dhn, &dp, Layout::AsIs, self.slice(o.w_r, w * k), Layout::Transposed, rows, k, w, false);
        let mut dh = vec![0.0; rows * w];
        let dg_final = &mut grad[o.g_final..o.g_final + w];
        rms_norm_backward(&f.h_last, w, self.slice(o.g_final, w), &f.r_final, &dhn, Some(&mut dh), dg_final);
        for (b, c) in o.blocks.iter().zip(&f.blocks).rev() {
            // Residual branch: h_out = h_in + m·W_out + b_out.
            matmul(&mut grad[b.w_out..b.w_out + w * w], &c.m, Layout::Transposed, &dh, Layout::AsIs, w, rows, w, false);
            for row in dh.chunks_exact(w) {
                for (g, &d) in grad[b.b_out..b.b_out + w].iter_mut().zip(row) {
                    *g += d;
                }
            }
            let mut dm = vec![0.0; rows * w];
            matmul(&mut dm, &dh, Layout::AsIs, self.slice(b.w_out, w * w), Layout::Transposed, rows, w, w, false);
            // Gates and scan, in reverse time.
            let mut da = vec![0.0; rows * 4 * w];
            let mut carry = vec![0.0f32; w];
            let zeros = vec![0.0; w];
            for t in (0..rows).rev() {
                let prev = if t == 0 { &zeros[..] } else { &c.s[(t - 1) * w..t * w] };
                gate_step_backward(
                    &c.a[t * 4 * w..(t + 1) * 4 * w],
                    prev,
                    &c.s[t * w..(t + 1) * w],
                    &dm[t * w..(t + 1) * w],
                    &mut carry,
                    &mut da[t * 4 * w..(t + 1) * 4 * w],
                );
            }
            matmul(
                &mut grad[b.w..b.w + 4 * w * w],
                &c.xn,
                Layout::Transposed,
                &da,
                Layout::AsIs,
                w,
                rows,
                4 * w,
                false,
            );
            for row in da.chunks_exact(4 * w) {
                for (g, &d) in grad[b.b..b.b + 4 * w].iter_mut().zip(row) {
                    *g += d;
                }
            }
            let mut dxn = vec![0.0; rows * w];
            matmul(&mut dxn, &da, Layout::AsIs, self.slice(b.w, 4 * w * w), Layout::Transposed, rows, 4 * w, w, false);
            // dh already holds the residual path; add the norm path.
            rms_norm_backward(&c.h, w, self.slice(b.g, w), &c.r, &dxn, Some(&mut dh), &mut grad[b.g..b.g + w]);
        }
        matmul(
            &mut grad[o.w_in..o.w_in + 2 * k * w],
            &f.u,
            Layout::Transposed,
            &dh,
            Layout::AsIs,
            2 * k,
            rows,
            w,
            false,
        );
        let mut du = vec![0.0; rows * 2 * k];
        matmul(&mut du, &dh, Layout::AsIs, self.slice(o.w_in, 2 * k * w), Layout::Transposed, rows, w, 2 * k, false);
        for (part, g, r) in [(0, o.g_loss, &f.r_loss), (1, o.g_act, &f.r_act)] {
            let pick = |m: &[f32]| -> Vec<f32> {
                (0..rows).flat_map(|t| m[t * 2 * k + part * k..t * 2 * k + (part + 1) * k].to_vec()).collect()
            };
            rms_norm_backward(&pick(&f.x), k, self.slice(g, k), r, &pick(&du), None, &mut grad[g..g + k]);
        }
        mse / n
    }

    /// Predictions `[C, K]` at each candidate row (`[C, 2K]`) one step after the history (`[T, 2K]`, T ≥ 0): the
    /// history runs once and every candidate continues from its final scan states.
    pub fn predict(&self, history: &[f32], rows: usize, candidates: &[f32], count: usize) -> Vec<f32> {
        let w = self.width;
        let f = (rows > 0).then(|| self.forward(history, rows));
        let (_, _, _, mut h) = self.embed(candidates, count);
        for (l, b) in self.offsets.blocks.iter().enumerate() {
            let (mut xn, mut r) = (vec![0.0; count * w], vec![0.0; count]);
            rms_norm(&h, w, self.slice(b.g, w), &mut xn, &mut r);
            let a = self.gates(b, &xn, count);
            let last = f.as_ref().map(|f| &f.blocks[l].s[(rows - 1) * w..rows * w]);
            let mut m = vec![0.0; count * w];
            let zeros = vec![0.0; w];
            let prev = last.unwrap_or(&zeros);
            let mut s = vec![0.0; w];
            for (row, mrow) in a.chunks_exact(4 * w).zip(m.chunks_exact_mut(w)) {
                gate_step(row, prev, &mut s, mrow);
            }
            self.residual(b, &mut h, &m, count);
        }
        self.read_out(&h, count).2
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(seed: u32) -> ExplicitNet {
        let mut state = seed;
        let mut uniform = move || {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (state >> 8) as f32 / (1u32 << 24) as f32
        };
        let mut n = ExplicitNet::new(3, 8, 2, &mut uniform);
        // Non-trivial norm gains, so their gradients are tested too.
        for v in n.params[..n.offsets.w_in].iter_mut() {
            *v = 0.5 + uniform();
        }
        n
    }

    fn rows(t: usize, width: usize) -> Vec<f32> {
        (0..t * width).map(|i| ((i * 37 % 23) as f32 / 7.0 - 1.5) * if i % 3 == 0 { 2.0 } else { 0.7 }).collect()
    }

    #[test]
    fn gelu_matches_the_exact_erf_form() {
        for i in -800..=800 {
            let x = i as f32 / 100.0;
            let exact = 0.5 * x * (1.0 + libm::erf(f64::from(x) / std::f64::consts::SQRT_2) as f32);
            let (y, dy) = gelu(x);
            assert!((y - exact).abs() < 2e-6 * x.abs().max(1.0), "gelu({x}) = {y}, want {exact}");
            let h = 1e-3f32;
            let numeric = (gelu(x + h).0 - gelu(x - h).0) / (2.0 * h);
            assert!((dy - numeric).abs() < 2e-3, "gelu'({x}) = {dy}, numeric {numeric}");
        }
    }

    #[test]
    fn gradients_match_finite_differences() {
        let n = net(7);
        let (t, k) = (5, 3);
        let x = rows(t, 2 * k);
        let target: Vec<f32> = (0..t * k).map(|i| ((i as f32) * 0.7).sin() * 0.8).collect();
        let (_, grad) = n.backward(&n.forward(&x, t), &target);
        let loss = |p: &ExplicitNet| {
            let y = p.forward(&x, t).y;
            y.iter().zip(&target).map(|(a, b)| f64::from((a - b) * (a - b))).sum::<f64>() / (t * k) as f64
        };
        // Every gain, and a spread of weights and biases of every tensor.
        let o = &n.offsets;
        let mut picks: Vec<usize> = (0..o.w_in).collect();
        for b in &o.blocks {
            picks.extend([
                b.g,
                b.g + 5,
                b.w,
                b.w + 13,
                b.w + 8 * 8 + 3,
                b.w + 2 * 8 + 1,
                b.w + 3 * 8 + 7,
                b.b,
                b.b + 9,
            ]);
            picks.extend([b.b + 17, b.b + 30, b.w_out, b.w_out + 40, b.b_out + 2]);
        }
        picks.extend([o.w_in + 4, o.w_in + 30, o.g_final, o.g_final + 6, o.w_r, o.w_r + 20]);
        for &i in &picks {
            let h = 5e-3;
            let (mut plus, mut minus) = (n.clone(), n.clone());
            plus.params[i] += h;
            minus.params[i] -= h;
            let numeric = (loss(&plus) - loss(&minus)) / (2.0 * f64::from(h));
            let err = (numeric - f64::from(grad[i])).abs();
            assert!(err < 1e-2 * numeric.abs() + 1e-4, "param {i}: numeric {numeric}, analytic {}", grad[i]);
        }
    }

    #[test]
    fn scoring_from_the_history_state_equals_the_full_forward() {
        let n = net(3);
        let (t, k) = (6, 3);
        let x = rows(t, 2 * k);
        let cands = rows(4, 2 * k).iter().map(|v| v * 0.3 + 0.1).collect::<Vec<f32>>();
        let fast = n.predict(&x, t, &cands, 4);
        for c in 0..4 {
            let mut all = x.clone();
            all.extend_from_slice(&cands[c * 2 * k..(c + 1) * 2 * k]);
            let y = n.forward(&all, t + 1).y;
            for j in 0..k {
                assert!((y[t * k + j] - fast[c * k + j]).abs() < 1e-5, "candidate {c} arm {j}");
            }
        }
        // Without history, a candidate is a one-row sequence.
        let alone = n.predict(&[], 0, &cands[..2 * k], 1);
        let y = n.forward(&cands[..2 * k], 1).y;
        assert!(alone.iter().zip(&y).all(|(a, b)| (a - b).abs() < 1e-6));
    }
}
