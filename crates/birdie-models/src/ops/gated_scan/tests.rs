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
    let (bs, t, n) = (2, 19, 5);
    let mut s = 21;
    let device = Device::flex().autodiff();
    let t3 = |v: Vec<f32>| Tensor::<3>::from_data(TensorData::new(v, [bs, t, n]), &device);
    let t2 = |v: Vec<f32>| Tensor::<2>::from_data(TensorData::new(v, [bs, t]), &device);
    let zf = t3(rand(bs * t * n, &mut s)).require_grad();
    let zi = t3(rand(bs * t * n, &mut s)).require_grad();
    let z = t3(rand(bs * t * n, &mut s)).require_grad();
    let w = t3(rand(bs * t * n, &mut s));
    let reset = t2((0..bs * t).map(|i| if i % t == 0 || i % 5 == 2 { 1.0 } else { 0.0 }).collect());
    let mask = t2((0..bs * t).map(|i| if i % t < 12 { 1.0 } else { 0.0 }).collect());
    let h = if fused {
        gated_scan(zf.clone(), zi.clone(), z.clone(), reset, mask, dir)
    } else {
        gated_scan_reference(zf.clone(), zi.clone(), z.clone(), reset, mask, dir)
    };
    let grads = (h.clone() * w).sum().backward();
    let v = |t: Tensor<3>| t.into_data().try_to_vec::<f32>().unwrap();
    vec![v(h), v(zf.grad(&grads).unwrap()), v(zi.grad(&grads).unwrap()), v(z.grad(&grads).unwrap())]
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
