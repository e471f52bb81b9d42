//! The fused RG-LRU against its tensor-op reference (value and all four gradients), both directions, with resets
//! and a transition mask; the unit input multiplier where the state starts afresh; 1 − a² without cancellation and
//! the bounded square-root gradient near a = 1.

use burn::prelude::*;

use super::*;
use crate::test_values::Lcg;

fn rand(n: usize, lo: f32, hi: f32, seed: &mut u64) -> Vec<f32> {
    let mut g = Lcg(*seed);
    let v = g.vec(n, lo, hi);
    *seed = g.0;
    v
}

struct Case {
    bs: usize,
    t: usize,
    n: usize,
    za: Vec<f32>,
    zx: Vec<f32>,
    x: Vec<f32>,
    lambda: Vec<f32>,
    reset: Vec<f32>,
    mask: Vec<f32>,
    w: Vec<f32>,
}

fn case(bs: usize, t: usize, n: usize, seed: u64) -> Case {
    let mut s = seed;
    let m = bs * t * n;
    let reset = (0..bs * t).map(|i| if i % t == 0 || i % 7 == 3 { 1.0 } else { 0.0 }).collect();
    let mask = (0..bs * t).map(|i| if i % t < t / 2 { 1.0 } else { 0.0 }).collect();
    Case {
        bs,
        t,
        n,
        za: rand(m, -2.0, 2.0, &mut s),
        zx: rand(m, -2.0, 2.0, &mut s),
        x: rand(m, -1.0, 1.0, &mut s),
        lambda: rand(n, -1.0, 3.0, &mut s),
        reset,
        mask,
        w: rand(m, -1.0, 1.0, &mut s),
    }
}

type Grads = (Vec<f32>, Vec<f32>, Vec<f32>, Vec<f32>, Vec<f32>);

fn run(c: &Case, dir: ScanDirection, fused: bool) -> Grads {
    run_on(c, dir, fused, &Device::flex())
}

/// (h, dza, dzx, dx, dΛ) of loss = Σ h·w on `device`.
fn run_on(c: &Case, dir: ScanDirection, fused: bool, device: &Device) -> Grads {
    let device = device.clone().autodiff();
    let t3 = |v: &Vec<f32>| Tensor::<3>::from_data(TensorData::new(v.clone(), [c.bs, c.t, c.n]), &device);
    let t2 = |v: &Vec<f32>| Tensor::<2>::from_data(TensorData::new(v.clone(), [c.bs, c.t]), &device);
    let (za, zx, x) = (t3(&c.za).require_grad(), t3(&c.zx).require_grad(), t3(&c.x).require_grad());
    let lambda = Tensor::<1>::from_data(TensorData::new(c.lambda.clone(), [c.n]), &device).require_grad();
    let input = RgLruInput {
        za: za.clone(),
        zx: zx.clone(),
        x: x.clone(),
        lambda: lambda.clone(),
        reset: t2(&c.reset),
        transition_mask: t2(&c.mask),
    };
    let h = if fused { rg_lru(input, dir) } else { rg_lru_reference(input, dir) };
    let grads = (h.clone() * t3(&c.w)).sum().backward();
    let v3 = |t: Tensor<3>| t.into_data().try_to_vec::<f32>().unwrap();
    (
        v3(h),
        v3(za.grad(&grads).unwrap()),
        v3(zx.grad(&grads).unwrap()),
        v3(x.grad(&grads).unwrap()),
        lambda.grad(&grads).unwrap().into_data().try_to_vec::<f32>().unwrap(),
    )
}

fn close(name: &str, got: &[f32], want: &[f32], rel: f32) {
    assert_eq!(got.len(), want.len());
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() <= rel * (1.0 + w.abs()), "{name}[{i}]: fused {g} vs reference {w}");
    }
}

/// The CubeCL kernels on the GPU device (ops/gpu_test.rs) against the reference on the CPU: both directions, resets,
/// the transition mask, T = 1, odd sizes, a near 1.
#[cfg(any(feature = "wgpu", feature = "cuda"))]
#[test]
fn gpu_kernels_match_reference() {
    let Some(device) = crate::ops::gpu_test::device("rg_lru") else { return };
    let mut near_one = case(1, 9, 4, 14);
    near_one.lambda = vec![6.0, 8.0, 9.0, 10.0];
    for c in [case(2, 23, 6, 11), case(1, 1, 3, 12), case(3, 40, 33, 13), near_one] {
        for dir in [ScanDirection::Forward, ScanDirection::Reverse] {
            let (f, r) = (run_on(&c, dir, true, &device), run(&c, dir, false));
            let what = format!("gpu {}×{}×{} {dir:?}", c.bs, c.t, c.n);
            close(&format!("{what} h"), &f.0, &r.0, 1e-4);
            close(&format!("{what} dza"), &f.1, &r.1, 1e-4);
            close(&format!("{what} dzx"), &f.2, &r.2, 1e-4);
            close(&format!("{what} dx"), &f.3, &r.3, 1e-4);
            close(&format!("{what} dlambda"), &f.4, &r.4, 1e-3);
        }
    }
}

#[test]
fn matches_reference_in_both_directions() {
    let c = case(2, 23, 6, 11);
    for dir in [ScanDirection::Forward, ScanDirection::Reverse] {
        let f = run(&c, dir, true);
        let r = run(&c, dir, false);
        close(&format!("{dir:?} h"), &f.0, &r.0, 1e-4);
        close(&format!("{dir:?} dza"), &f.1, &r.1, 1e-4);
        close(&format!("{dir:?} dzx"), &f.2, &r.2, 1e-4);
        close(&format!("{dir:?} dx"), &f.3, &r.3, 1e-4);
        close(&format!("{dir:?} dlambda"), &f.4, &r.4, 1e-3);
    }
}

#[test]
fn suffix_mask_blocks_the_future_in_the_reverse_direction() {
    // In the masked (suffix) half, the reverse state is just b_t: changing a later x leaves earlier suffix h alone.
    let c = case(1, 10, 3, 12);
    let h0 = run(&c, ScanDirection::Reverse, true).0;
    let mut c2 = case(1, 10, 3, 12);
    for j in 0..3 {
        c2.x[9 * 3 + j] += 1.0;
    }
    let h1 = run(&c2, ScanDirection::Reverse, true).0;
    assert_eq!(&h0[5 * 3..9 * 3], &h1[5 * 3..9 * 3]);
    assert_ne!(&h0[9 * 3..], &h1[9 * 3..]);
}

#[test]
fn sqrt_gradient_is_bounded_near_a_equals_one() {
    // Λ very large ⇒ a → 1 ⇒ 1 − a² → 0: the plain √ gradient explodes, the bounded one stays finite.
    let mut c = case(1, 4, 2, 13);
    c.lambda = vec![30.0, 30.0];
    let f = run(&c, ScanDirection::Forward, true);
    for v in [&f.1, &f.2, &f.3, &f.4] {
        assert!(v.iter().all(|x| x.is_finite()), "{v:?}");
    }
}

#[test]
fn fresh_positions_take_the_input_unscaled() {
    // h_t = σ(zx_t)·x_t wherever the state starts afresh: forward at t = 0 and the mid-sequence reset t = 5;
    // reverse at t = T − 1, before that reset (t = 4) and at every masked position.
    let (t, n) = (10, 4);
    let mut c = case(1, t, n, 21);
    c.reset = (0..t).map(|i| if i == 0 || i == 5 { 1.0 } else { 0.0 }).collect();
    for (dir, mask, fresh) in [
        (ScanDirection::Forward, vec![1.0; t], vec![0, 5]),
        (ScanDirection::Reverse, vec![1.0; t], vec![4, 9]),
        (ScanDirection::Reverse, (0..t).map(|i| if i < 3 { 1.0 } else { 0.0 }).collect(), (3..10).collect()),
    ] {
        c.mask = mask;
        let (fused, reference) = (run(&c, dir, true).0, run(&c, dir, false).0);
        for ti in 0..t {
            for j in 0..n {
                let k = ti * n + j;
                let want = crate::ops::fast_math::sigmoid(c.zx[k]) * c.x[k];
                if fresh.contains(&ti) {
                    assert_eq!(fused[k], want, "{dir:?} t {ti} channel {j}");
                    assert!((reference[k] - want).abs() < 1e-6, "{dir:?} reference t {ti}: {} vs {want}", reference[k]);
                } else {
                    assert!((fused[k] - want).abs() > 1e-6, "{dir:?} t {ti} channel {j} is not scaled");
                }
            }
        }
    }
}

#[test]
fn multiplier_keeps_relative_precision_as_a_approaches_one() {
    // σ(Λ) = 0.99999 and small r: 1 − a² ≈ 1e-9…1e-4, where a² rounds to (nearly) 1 in f32. Position 1 of a
    // two-step scan with x_0 = 0 and i = σ(0) = 1/2 outputs h_1 = √(1 − a²)/2.
    let za = [-12.0f32, -8.0, -4.0, 0.0, 4.0];
    let n = za.len();
    let lambda = (0.99999f64 / 0.00001).ln() as f32;
    let c = Case {
        bs: 1,
        t: 2,
        n,
        za: [za, za].concat(),
        zx: vec![0.0; 2 * n],
        x: [vec![0.0; n], vec![1.0; n]].concat(),
        lambda: vec![lambda; n],
        reset: vec![1.0, 0.0],
        mask: vec![1.0, 1.0],
        w: vec![1.0; 2 * n],
    };
    let h = run(&c, ScanDirection::Forward, true).0;
    let mut naive_worst = 0.0f64;
    for (j, &z) in za.iter().enumerate() {
        let r = 1.0 / (1.0 + (-f64::from(z)).exp());
        let log_a = -f64::from(C) * r * (-f64::from(lambda)).exp().ln_1p();
        let want = (-(2.0 * log_a).exp_m1()).sqrt();
        let got = 2.0 * f64::from(h[n + j]);
        assert!(((got - want) / want).abs() < 1e-3, "r {r}: kernel {got} vs {want}");
        let a = (log_a as f32).exp();
        let naive = f64::from((1.0 - a * a).max(0.0).sqrt());
        naive_worst = naive_worst.max(((naive - want) / want).abs());
    }
    assert!(naive_worst > 1e-3, "naive 1 − a² is as precise ({naive_worst}): the test does not probe cancellation");
}
