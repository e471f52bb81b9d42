//! A tiny Hawk memorises a fixed batch: the loss falls below 0.1 within a few hundred AdamW steps.

use birdie_models::{HawkConfig, SequenceBatch};
use burn::optim::{AdamWConfig, GradientsParams};
use burn::prelude::*;

#[test]
fn tiny_hawk_overfits_a_fixed_batch() {
    for bidirectional in [false, true] {
        let device = Device::flex().autodiff();
        let (v, b, t) = (64usize, 2usize, 32usize);
        let mut model = birdie_models::seeded(&device, 0, || {
            HawkConfig::new(v, 64, 64, 2).with_bidirectional(bidirectional).init(&device)
        });
        // Pseudo-random tokens and labels: a token recurs with different labels, so memorising the batch takes
        // the context (convolution and recurrence), not a per-token lookup.
        let mut g = birdie_models::test_values::Lcg(7);
        let mut draw = || g.below(v) as i32;
        let tokens: Vec<i32> = (0..b * t).map(|_| draw()).collect();
        let mask: Vec<i32> = (0..b * t).map(|i| if i % t < 8 { 1 } else { 3 }).collect();
        let labels: Vec<i32> = mask.iter().map(|&m| if m == 3 { draw() } else { -100 }).collect();
        let batch = SequenceBatch::new(&tokens, &labels, &vec![1; b * t], &mask, b, t, 4, &device);
        let mut optim = AdamWConfig::new().init();
        let mut loss = f32::INFINITY;
        let mut steps = 0;
        for _ in 0..400 {
            steps += 1;
            let l = model.loss(&batch);
            loss = l.clone().into_scalar::<f32>();
            if loss < 0.1 {
                break;
            }
            let grads = GradientsParams::from_grads(l.backward(), &model);
            model = optim.step(3e-3, model, grads);
        }
        assert!(loss < 0.1, "bidirectional {bidirectional}: loss {loss} after {steps} steps");
        assert!(steps > 5, "the batch was learnt in {steps} steps: too easy to mean anything");
    }
}
