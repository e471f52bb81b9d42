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
    let (bs, t, n) = (3, 17, 6);
    let mut s = 5;
    let device = Device::flex().autodiff();
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

#[test]
fn matches_reference() {
    let (f, r) = (run(true), run(false));
    for (name, (a, b)) in ["h", "dz"].iter().zip(f.iter().zip(&r)) {
        assert_eq!(a.len(), b.len());
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            assert!((x - y).abs() <= 1e-4 * (1.0 + y.abs()), "{name}[{i}]: {x} vs {y}");
        }
    }
}
