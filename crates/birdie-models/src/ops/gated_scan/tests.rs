//! The fused gated scan against its tensor-op reference (value and the three gradients), both directions.

use burn::prelude::*;

use super::*;
use crate::test_values::Lcg;

fn rand(n: usize, seed: &mut u64) -> Vec<f32> {
    let mut g = Lcg(*seed);
    let v = g.vec(n, -2.0, 2.0);
    *seed = g.0;
    v
}

fn run(dir: ScanDirection, fused: bool) -> Vec<Vec<f32>> {
    run_on((2, 19, 5), dir, fused, &Device::flex())
}

/// (h, dzf, dzi, dz) of loss = Σ h·w at `[bs, t, n]` on `device`.
fn run_on((bs, t, n): (usize, usize, usize), dir: ScanDirection, fused: bool, device: &Device) -> Vec<Vec<f32>> {
    let mut s = 21;
    let device = device.clone().autodiff();
    let t3 = |v: Vec<f32>| Tensor::<3>::from_data(TensorData::new(v, [bs, t, n]), &device);
    let t2 = |v: Vec<f32>| Tensor::<2>::from_data(TensorData::new(v, [bs, t]), &device);
    let zf = t3(rand(bs * t * n, &mut s)).require_grad();
    let zi = t3(rand(bs * t * n, &mut s)).require_grad();
    let z = t3(rand(bs * t * n, &mut s)).require_grad();
    let w = t3(rand(bs * t * n, &mut s));
    let reset = t2((0..bs * t).map(|i| if i % t == 0 || i % 5 == 2 { 1.0 } else { 0.0 }).collect());
    let mask = t2((0..bs * t).map(|i| if i % t < 12.min(t - 1) { 1.0 } else { 0.0 }).collect());
    let h = if fused {
        gated_scan(zf.clone(), zi.clone(), z.clone(), reset, mask, dir)
    } else {
        gated_scan_reference(zf.clone(), zi.clone(), z.clone(), reset, mask, dir)
    };
    let grads = (h.clone() * w).sum().backward();
    let v = |t: Tensor<3>| t.into_data().try_to_vec::<f32>().unwrap();
    // With T = 1 the reference never uses zf, so autodiff has no gradient for it: zero.
    let dzf = zf.grad(&grads).map(v).unwrap_or_else(|| vec![0.0; bs * t * n]);
    vec![v(h), dzf, v(zi.grad(&grads).unwrap()), v(z.grad(&grads).unwrap())]
}

fn assert_all_close(what: &str, fused: &[Vec<f32>], reference: &[Vec<f32>]) {
    for (name, (a, b)) in ["h", "dzf", "dzi", "dz"].iter().zip(fused.iter().zip(reference)) {
        assert_eq!(a.len(), b.len());
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            assert!((x - y).abs() <= 1e-4 * (1.0 + y.abs()), "{what} {name}[{i}]: {x} vs {y}");
        }
    }
}

/// The CubeCL kernels on the GPU device (ops/gpu_test.rs) against the reference on the CPU: both directions, resets,
/// the transition mask, T = 1, odd sizes.
#[cfg(any(feature = "wgpu", feature = "cuda"))]
#[test]
fn gpu_kernels_match_reference() {
    let Some(device) = crate::ops::gpu_test::device("gated_scan") else { return };
    for dims in [(2, 19, 5), (1, 1, 3), (3, 70, 33)] {
        for dir in [ScanDirection::Forward, ScanDirection::Reverse] {
            let (f, r) = (run_on(dims, dir, true, &device), run_on(dims, dir, false, &Device::flex()));
            assert_all_close(&format!("gpu {dims:?} {dir:?}"), &f, &r);
        }
    }
}

#[test]
fn matches_reference_in_both_directions() {
    for dir in [ScanDirection::Forward, ScanDirection::Reverse] {
        let (f, r) = (run(dir, true), run(dir, false));
        for (name, (a, b)) in ["h", "dzf", "dzi", "dz"].iter().zip(f.iter().zip(&r)) {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                assert!((x - y).abs() <= 1e-4 * (1.0 + y.abs()), "{dir:?} {name}[{i}]: {x} vs {y}");
            }
        }
    }
}
