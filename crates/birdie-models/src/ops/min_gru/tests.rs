//! The fused minGRU scan against its tensor-op reference (value and gradient), with resets.

use burn::prelude::*;

use super::*;
use crate::test_values::Lcg;

fn rand(n: usize, seed: &mut u64) -> Vec<f32> {
    let mut g = Lcg(*seed);
    let v = g.vec(n, -2.0, 2.0);
    *seed = g.0;
    v
}

fn run(fused: bool) -> Vec<Vec<f32>> {
    run_on((3, 17, 6), fused, &Device::flex())
}

/// (h, dz) of loss = Σ h·w with h `[bs, t, n]` on `device`.
fn run_on((bs, t, n): (usize, usize, usize), fused: bool, device: &Device) -> Vec<Vec<f32>> {
    let mut s = 5;
    let device = device.clone().autodiff();
    let z =
        Tensor::<3>::from_data(TensorData::new(rand(bs * t * 2 * n, &mut s), [bs, t, 2 * n]), &device).require_grad();
    let w = Tensor::<3>::from_data(TensorData::new(rand(bs * t * n, &mut s), [bs, t, n]), &device);
    let reset = Tensor::<2>::from_data(
        TensorData::new((0..bs * t).map(|i| if i % t == 0 || i % 7 == 3 { 1.0f32 } else { 0.0 }).collect(), [bs, t]),
        &device,
    );
    let h = if fused { min_gru(z.clone(), reset) } else { min_gru_reference(z.clone(), reset) };
    let grads = (h.clone() * w).sum().backward();
    let v = |t: Tensor<3>| t.into_data().try_to_vec::<f32>().unwrap();
    vec![v(h), v(z.grad(&grads).unwrap())]
}

fn assert_all_close(what: &str, fused: &[Vec<f32>], reference: &[Vec<f32>]) {
    for (name, (a, b)) in ["h", "dz"].iter().zip(fused.iter().zip(reference)) {
        assert_eq!(a.len(), b.len());
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            assert!((x - y).abs() <= 1e-4 * (1.0 + y.abs()), "{what} {name}[{i}]: {x} vs {y}");
        }
    }
}

#[test]
fn matches_reference() {
    assert_all_close("cpu", &run(true), &run(false));
}

/// The CubeCL kernels on the GPU device (ops/gpu_test.rs) against the reference on the CPU: resets, T = 1, odd sizes.
#[cfg(any(feature = "wgpu", feature = "cuda"))]
#[test]
fn gpu_kernels_match_reference() {
    let Some(device) = crate::ops::gpu_test::device("min_gru") else { return };
    for dims in [(3, 17, 6), (1, 1, 5), (2, 64, 33)] {
        assert_all_close(&format!("gpu {dims:?}"), &run_on(dims, true, &device), &run_on(dims, false, &Device::flex()));
    }
}
