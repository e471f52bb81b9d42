//! The fused scan against its tensor-op reference (values and both gradients), a finite-difference check, and the
//! named edge cases (T = 1, resets at t = 0 and t = T−1, every position a reset, no resets).

use burn::prelude::*;

use super::*;

use crate::test_values::Lcg;

struct Case {
    bs: usize,
    t: usize,
    d: usize,
    a: Vec<f32>,
    b: Vec<f32>,
    r: Vec<f32>,
    w: Vec<f32>,
}

fn case(bs: usize, t: usize, d: usize, reset_p: f32, seed: u64) -> Case {
    let mut g = Lcg(seed);
    let a = g.vec(bs * t * d, 0.0, 1.0);
    let b = g.vec(bs * t * d, -1.0, 1.0);
    let r = (0..bs * t).map(|i| if i % t == 0 || g.unit() < reset_p { 1.0 } else { 0.0 }).collect();
    let w = g.vec(bs * t * d, -1.0, 1.0);
    Case { bs, t, d, a, b, r, w }
}

/// (h, da, db) of loss = Σ h·w, with the fused op or the reference, on the CPU.
fn run(c: &Case, dir: ScanDirection, fused: bool) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    run_on(c, dir, fused, &Device::flex())
}

/// (h, da, db) of loss = Σ h·w on `device`.
fn run_on(c: &Case, dir: ScanDirection, fused: bool, device: &Device) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let device = device.clone().autodiff();
    let t3 = |v: &Vec<f32>| Tensor::<3>::from_data(TensorData::new(v.clone(), [c.bs, c.t, c.d]), &device);
    let a = t3(&c.a).require_grad();
    let b = t3(&c.b).require_grad();
    let r = Tensor::<2>::from_data(TensorData::new(c.r.clone(), [c.bs, c.t]), &device);
    let h = if fused {
        linear_scan(a.clone(), b.clone(), r, dir)
    } else {
        linear_scan_reference(a.clone(), b.clone(), r, dir)
    };
    let grads = (h.clone() * t3(&c.w)).sum().backward();
    let v = |t: Tensor<3>| t.into_data().try_to_vec::<f32>().unwrap();
    let n = c.bs * c.t * c.d;
    // With T = 1 the reference never uses `a`, so autodiff has no gradient for it: zero.
    let da = a.grad(&grads).map(v).unwrap_or_else(|| vec![0.0; n]);
    (v(h), da, v(b.grad(&grads).unwrap()))
}

fn assert_close(name: &str, got: &[f32], want: &[f32], rel: f32) {
    assert_eq!(got.len(), want.len(), "{name}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let tol = rel * (1.0 + w.abs());
        assert!((g - w).abs() <= tol, "{name}[{i}]: fused {g} vs reference {w}");
    }
}

fn compare(c: &Case) {
    for dir in [ScanDirection::Forward, ScanDirection::Reverse] {
        let (h1, da1, db1) = run(c, dir, true);
        let (h0, da0, db0) = run(c, dir, false);
        assert_close(&format!("{dir:?} h"), &h1, &h0, 1e-4);
        assert_close(&format!("{dir:?} da"), &da1, &da0, 1e-4);
        assert_close(&format!("{dir:?} db"), &db1, &db0, 1e-4);
    }
}

/// The CubeCL kernels on the GPU device (ops/gpu_test.rs) against the reference on the CPU: both directions, resets,
/// T = 1, every position a reset, odd sizes.
#[cfg(any(feature = "wgpu", feature = "cuda"))]
#[test]
fn gpu_kernels_match_reference() {
    let Some(device) = crate::ops::gpu_test::device("linear_scan") else { return };
    for c in [case(3, 37, 19, 0.1, 1), case(2, 1, 5, 0.0, 3), case(2, 9, 4, 1.1, 4), case(1, 130, 33, 0.05, 5)] {
        for dir in [ScanDirection::Forward, ScanDirection::Reverse] {
            let (h1, da1, db1) = run_on(&c, dir, true, &device);
            let (h0, da0, db0) = run(&c, dir, false);
            assert_close(&format!("gpu {dir:?} h"), &h1, &h0, 1e-4);
            assert_close(&format!("gpu {dir:?} da"), &da1, &da0, 1e-4);
            assert_close(&format!("gpu {dir:?} db"), &db1, &db0, 1e-4);
        }
    }
}

#[test]
fn matches_reference_with_resets() {
    compare(&case(3, 37, 19, 0.1, 1));
}

#[test]
fn matches_reference_without_resets() {
    compare(&case(2, 64, 8, 0.0, 2));
}

#[test]
fn single_step() {
    compare(&case(2, 1, 5, 0.0, 3));
}

#[test]
fn every_position_a_reset() {
    let c = case(2, 9, 4, 1.1, 4);
    compare(&c);
    let (h, da, _) = run(&c, ScanDirection::Forward, true);
    assert_eq!(h, c.b);
    assert!(da.iter().all(|&x| x == 0.0));
}

#[test]
fn reset_at_last_step_blocks_both_directions() {
    let mut c = case(1, 6, 3, 0.0, 5);
    c.r[5] = 1.0;
    compare(&c);
    // Forward: h_5 = b_5. Reverse: h_4 does not see h_5.
    let (h, _, _) = run(&c, ScanDirection::Forward, true);
    assert_eq!(&h[15..18], &c.b[15..18]);
    let (h, _, _) = run(&c, ScanDirection::Reverse, true);
    assert_eq!(&h[12..15], &c.b[12..15]);
}

#[test]
fn segments_are_independent() {
    // Two samples packed in one row give the same states as each alone.
    let c = case(1, 10, 4, 0.0, 6);
    let mut packed = Case { r: vec![0.0; 10], ..case(1, 10, 4, 0.0, 6) };
    packed.r[0] = 1.0;
    packed.r[6] = 1.0;
    for dir in [ScanDirection::Forward, ScanDirection::Reverse] {
        let (h, _, _) = run(&packed, dir, true);
        for (lo, hi) in [(0, 6), (6, 10)] {
            let alone = Case {
                bs: 1,
                t: hi - lo,
                d: 4,
                a: c.a[lo * 4..hi * 4].to_vec(),
                b: c.b[lo * 4..hi * 4].to_vec(),
                r: (0..hi - lo).map(|i| if i == 0 { 1.0 } else { 0.0 }).collect(),
                w: c.w[lo * 4..hi * 4].to_vec(),
            };
            let (ha, _, _) = run(&alone, dir, true);
            assert_close("segment", &h[lo * 4..hi * 4], &ha, 1e-6);
        }
    }
}

/// Central differences of loss = Σ h·w in f64 arithmetic on the slice kernel.
#[test]
fn finite_difference_gradients() {
    let c = case(2, 7, 3, 0.2, 7);
    let loss = |a: &[f32], b: &[f32], dir| {
        let mut h = vec![0f32; a.len()];
        scan_forward_slices(a, b, &c.r, &mut h, ScanDims { seq: c.t, width: c.d, direction: dir });
        h.iter().zip(&c.w).map(|(h, w)| *h as f64 * *w as f64).sum::<f64>()
    };
    for dir in [ScanDirection::Forward, ScanDirection::Reverse] {
        let (_, da, db) = run(&c, dir, true);
        let eps = 1e-2f32;
        for i in (0..c.a.len()).step_by(5) {
            let (mut ap, mut am) = (c.a.clone(), c.a.clone());
            ap[i] += eps;
            am[i] -= eps;
            let fd = (loss(&ap, &c.b, dir) - loss(&am, &c.b, dir)) / (2.0 * eps as f64);
            assert!((fd - da[i] as f64).abs() < 1e-3 * (1.0 + fd.abs()), "{dir:?} da[{i}]: fd {fd} vs {}", da[i]);
            let (mut bp, mut bm) = (c.b.clone(), c.b.clone());
            bp[i] += eps;
            bm[i] -= eps;
            let fd = (loss(&c.a, &bp, dir) - loss(&c.a, &bm, dir)) / (2.0 * eps as f64);
            assert!((fd - db[i] as f64).abs() < 1e-3 * (1.0 + fd.abs()), "{dir:?} db[{i}]: fd {fd} vs {}", db[i]);
        }
    }
}

#[test]
fn resets_from_segment_ids() {
    let r = resets_from_segments(&[1, 1, 2, 2, 0, 0, 1, 1, 1, 2, 2, 2], 2, 6);
    assert_eq!(r, [1., 0., 1., 0., 1., 0., 1., 0., 0., 1., 0., 0.]);
}
