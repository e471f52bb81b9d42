//! The fused attention against its tensor-op reference (output and the gradients of q, k and v), with packed
//! segments, prefixes, both mask kinds, and sequences that span several query blocks.

use burn::prelude::*;

use super::*;
use crate::test_values::Lcg;

/// (segment ids, prefix flags) of `bs` rows of `t`: samples of varying length, each with a prefix of about a third.
fn layout(bs: usize, t: usize) -> (Vec<f32>, Vec<f32>) {
    let (mut seg, mut pre) = (Vec::new(), Vec::new());
    for r in 0..bs {
        let (mut id, mut start) = (1.0f32, 0);
        for i in 0..t {
            let len = 5 + (id as usize * 7 + r * 3) % 40;
            if i - start == len {
                (id, start) = (id + 1.0, i);
            }
            seg.push(id);
            pre.push(if (i - start) * 3 < len { 1.0 } else { 0.0 });
        }
    }
    (seg, pre)
}

/// (out, dq, dk, dv) of loss = Σ out·w on `device`.
fn run_on(
    (bs, h, t, hd): (usize, usize, usize, usize),
    mask: AttentionMask,
    fused: bool,
    device: &Device,
) -> Vec<Vec<f32>> {
    let device = device.clone().autodiff();
    let mut g = Lcg(11);
    let n = bs * h * t * hd;
    let mut input =
        |scale: f32| Tensor::<4>::from_data(TensorData::new(g.vec(n, -scale, scale), [bs, h, t, hd]), &device);
    let (q, k, v, w) = (input(2.0).require_grad(), input(2.0).require_grad(), input(1.0).require_grad(), input(1.0));
    let (seg, pre) = layout(bs, t);
    let seg = Tensor::<2>::from_data(TensorData::new(seg, [bs, t]), &device);
    let pre = Tensor::<2>::from_data(TensorData::new(pre, [bs, t]), &device);
    let attend = if fused { masked_attention } else { masked_attention_reference };
    let out = attend(q.clone(), k.clone(), v.clone(), seg, pre, mask);
    let grads = (out.clone() * w).sum().backward();
    let values = |t: Tensor<4>| t.into_data().try_to_vec::<f32>().unwrap();
    vec![values(out), values(q.grad(&grads).unwrap()), values(k.grad(&grads).unwrap()), values(v.grad(&grads).unwrap())]
}

fn assert_all_close(what: &str, fused: &[Vec<f32>], reference: &[Vec<f32>]) {
    for (name, (a, b)) in ["out", "dq", "dk", "dv"].iter().zip(fused.iter().zip(reference)) {
        assert_eq!(a.len(), b.len());
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            assert!((x - y).abs() <= 1e-4 * (1.0 + y.abs()), "{what} {name}[{i}]: {x} vs {y}");
        }
    }
}

const SHAPES: [(usize, usize, usize, usize); 3] = [(2, 2, 150, 8), (1, 1, 1, 4), (3, 1, 64, 5)];

#[test]
fn matches_reference() {
    for mask in [AttentionMask::Causal, AttentionMask::PrefixLm] {
        for dims in SHAPES {
            let cpu = Device::flex();
            assert_all_close(
                &format!("cpu {mask:?} {dims:?}"),
                &run_on(dims, mask, true, &cpu),
                &run_on(dims, mask, false, &cpu),
            );
        }
    }
}

#[test]
fn prefix_queries_see_the_whole_prefix_and_causal_ones_do_not() {
    // One sample: prefix 0..4, then 4..6. A change to key 3 moves query 1 under the prefix-LM mask only.
    let device = Device::flex();
    let (bs, h, t, hd) = (1, 1, 6, 4);
    let mut g = Lcg(3);
    let (q, k, v) = (g.vec(t * hd, -1.0, 1.0), g.vec(t * hd, -1.0, 1.0), g.vec(t * hd, -1.0, 1.0));
    let tensor = |x: Vec<f32>| Tensor::<4>::from_data(TensorData::new(x, [bs, h, t, hd]), &device);
    let row = |x: Vec<f32>| Tensor::<2>::from_data(TensorData::new(x, [bs, t]), &device);
    let out = |k: Vec<f32>, mask| {
        let o = masked_attention(
            tensor(q.clone()),
            tensor(k),
            tensor(v.clone()),
            row(vec![1.0; 6]),
            row(vec![1., 1., 1., 1., 0., 0.]),
            mask,
        );
        o.into_data().try_to_vec::<f32>().unwrap()
    };
    let mut k2 = k.clone();
    k2[3 * hd] += 1.0;
    let moved = |mask| out(k.clone(), mask)[hd..2 * hd] != out(k2.clone(), mask)[hd..2 * hd];
    assert!(moved(AttentionMask::PrefixLm), "a prefix query ignores a later prefix key");
    assert!(!moved(AttentionMask::Causal), "a causal query sees a later key");
}

/// The CubeCL kernels on the GPU device (ops/gpu_test.rs) against the reference on the CPU.
#[cfg(any(feature = "wgpu", feature = "cuda"))]
#[test]
fn gpu_kernels_match_reference() {
    let Some(device) = crate::ops::gpu_test::device("attention") else { return };
    for mask in [AttentionMask::Causal, AttentionMask::PrefixLm] {
        for dims in SHAPES {
            let what = format!("gpu {mask:?} {dims:?}");
            assert_all_close(&what, &run_on(dims, mask, true, &device), &run_on(dims, mask, false, &Device::flex()));
        }
    }
}
