//! The fused loss against the tensor-op reference (value and gradient) and hand-worked values.

use std::sync::Arc;

use burn::prelude::*;

use super::*;
use crate::test_values::Lcg;

fn logits(n: usize, v: usize, seed: u64) -> Vec<f32> {
    Lcg(seed).vec(n * v, -4.0, 4.0)
}

fn run(z: &[f32], labels: &[i32], v: usize, fused: bool) -> (f32, Vec<f32>) {
    run_on(z, labels, v, fused, &Device::flex())
}

/// (loss, 3·∂loss/∂z) on `device`.
fn run_on(z: &[f32], labels: &[i32], v: usize, fused: bool, device: &Device) -> (f32, Vec<f32>) {
    let device = device.clone().autodiff();
    let n = labels.len();
    let x = Tensor::<2>::from_data(TensorData::new(z.to_vec(), [n, v]), &device).require_grad();
    let loss = if fused {
        softmax_cross_entropy(x.clone(), Arc::new(labels.to_vec()))
    } else {
        softmax_cross_entropy_reference(x.clone(), labels)
    };
    let grads = (loss.clone() * 3.0).backward();
    let l = loss.into_data().try_to_vec::<f32>().unwrap()[0];
    (l, x.grad(&grads).unwrap().into_data().try_to_vec::<f32>().unwrap())
}

#[test]
fn matches_reference_with_ignored_rows() {
    let (n, v) = (37, 53);
    let z = logits(n, v, 1);
    let labels: Vec<i32> = (0..n).map(|i| if i % 4 == 1 { IGNORE_INDEX } else { ((i * 7) % v) as i32 }).collect();
    let (l1, g1) = run(&z, &labels, v, true);
    let (l0, g0) = run(&z, &labels, v, false);
    assert!((l1 - l0).abs() <= 1e-4 * (1.0 + l0.abs()), "{l1} vs {l0}");
    for (i, (a, b)) in g1.iter().zip(&g0).enumerate() {
        assert!((a - b).abs() <= 1e-4 * (1.0 + b.abs()), "grad[{i}]: {a} vs {b}");
    }
    // Ignored rows get no gradient.
    assert!(g1[v..2 * v].iter().all(|&x| x == 0.0));
}

/// The CubeCL kernels on the GPU device (ops/gpu_test.rs) against the reference on the CPU: ignored rows, a
/// vocabulary that is not a multiple of the cube's 128 threads, all rows ignored, large logits.
#[cfg(any(feature = "wgpu", feature = "cuda"))]
#[test]
fn gpu_kernels_match_reference() {
    let Some(device) = crate::ops::gpu_test::device("softmax_cross_entropy") else { return };
    for (n, v) in [(37, 53), (5, 1000), (2, 3)] {
        let mut z = logits(n, v, 2);
        z[0] = 1000.0;
        let labels: Vec<i32> = (0..n).map(|i| if i % 4 == 1 { IGNORE_INDEX } else { ((i * 7) % v) as i32 }).collect();
        for labels in [labels, vec![IGNORE_INDEX; n]] {
            let (l1, g1) = run_on(&z, &labels, v, true, &device);
            let (l0, g0) = run(&z, &labels, v, false);
            assert!((l1 - l0).abs() <= 1e-4 * (1.0 + l0.abs()), "gpu {n}×{v} loss {l1} vs {l0}");
            for (i, (a, b)) in g1.iter().zip(&g0).enumerate() {
                assert!((a - b).abs() <= 1e-4 * (1.0 + b.abs()), "gpu {n}×{v} grad[{i}]: {a} vs {b}");
            }
        }
    }
}

#[test]
fn hand_worked_value() {
    // Uniform logits over 4 classes: loss = ln 4 for every labelled row; the ignored row changes nothing.
    let (l, g) = run(&[0.0; 12], &[2, IGNORE_INDEX, 0], 4, true);
    assert!((l - 4f32.ln()).abs() < 1e-6);
    // d/dz = 3 · (1/2) · (1/4 − [v = y]).
    assert!((g[0] - 0.375).abs() < 1e-6 && (g[2] + 1.125).abs() < 1e-6);
}

#[test]
fn all_ignored_is_zero() {
    let (l, g) = run(&[1.0; 6], &[IGNORE_INDEX, IGNORE_INDEX], 3, true);
    assert_eq!(l, 0.0);
    assert!(g.iter().all(|&x| x == 0.0));
}

#[test]
fn large_logits_stay_finite() {
    let (l, g) = run(&[1000.0, -1000.0, 0.0], &[1], 3, true);
    assert!((l - 2000.0).abs() < 1e-2, "{l}");
    assert!(g.iter().all(|x| x.is_finite()));
}
