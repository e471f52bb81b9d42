//! Semantics of Hawk: causality, bidirectional prefix, packing isolation, parameter count.

use burn::module::Module;
use burn::prelude::*;

use super::*;

const V: usize = 64;

fn config(bidirectional: bool) -> HawkConfig {
    HawkConfig::new(V, 16, 8, 2).with_bidirectional(bidirectional)
}

/// One row: tokens, segments and attention mask given; labels −100 in the prefix, 1 elsewhere.
fn batch(tokens: &[i32], segments: &[i32], mask: &[i32], conv: usize) -> SequenceBatch {
    let labels: Vec<i32> = mask.iter().map(|&m| if m == 3 { 1 } else { -100 }).collect();
    SequenceBatch::new(tokens, &labels, segments, mask, 1, tokens.len(), conv, &Device::flex())
}

fn logits(model: &Hawk, b: &SequenceBatch) -> Vec<f32> {
    model.forward(b).into_data().try_to_vec::<f32>().unwrap()
}

fn row_eq(a: &[f32], b: &[f32], lo: usize, hi: usize) -> bool {
    a[lo * V..hi * V].iter().zip(&b[lo * V..hi * V]).all(|(x, y)| (x - y).abs() < 1e-5)
}

#[test]
fn causal_model_never_sees_the_future() {
    let model = config(false).init(&Device::flex());
    let toks: Vec<i32> = (0..12).map(|i| (i * 5 % V) as i32).collect();
    let seg = vec![1; 12];
    let mask = vec![3; 12];
    let base = logits(&model, &batch(&toks, &seg, &mask, 4));
    for t in 0..11 {
        let mut changed = toks.clone();
        changed[t + 1] = (changed[t + 1] + 7) % V as i32;
        let other = logits(&model, &batch(&changed, &seg, &mask, 4));
        assert!(row_eq(&base, &other, 0, t + 1), "position ≤ {t} changed");
        assert!(!row_eq(&base, &other, t + 1, t + 2), "position {} did not react", t + 1);
    }
}

#[test]
fn bidirectional_prefix_sees_the_whole_prefix_and_the_suffix_stays_causal() {
    let model = config(true).init(&Device::flex());
    let toks: Vec<i32> = (0..12).map(|i| (i * 3 % V) as i32).collect();
    let seg = vec![1; 12];
    let mask: Vec<i32> = (0..12).map(|i| if i < 6 { 1 } else { 3 }).collect();
    let base = logits(&model, &batch(&toks, &seg, &mask, 4));
    // A change at the end of the prefix reaches the start of the prefix.
    let mut changed = toks.clone();
    changed[5] = (changed[5] + 11) % V as i32;
    assert!(!row_eq(&base, &logits(&model, &batch(&changed, &seg, &mask, 4)), 0, 1));
    // Suffix positions never see later suffix tokens.
    for t in 6..11 {
        let mut changed = toks.clone();
        changed[t + 1] = (changed[t + 1] + 7) % V as i32;
        assert!(row_eq(&base, &logits(&model, &batch(&changed, &seg, &mask, 4)), 0, t + 1), "suffix position ≤ {t}");
    }
}

#[test]
fn packed_samples_are_isolated() {
    for bidirectional in [false, true] {
        let model = config(bidirectional).init(&Device::flex());
        let a: Vec<i32> = vec![3, 9, 27, 17, 51];
        let b: Vec<i32> = vec![4, 16, 0, 33];
        let (ma, mb) = (vec![1, 1, 3, 3, 3], vec![1, 3, 3, 3]);
        let alone_a = logits(&model, &batch(&a, &[1; 5], &ma, 4));
        let alone_b = logits(&model, &batch(&b, &[1; 4], &mb, 4));
        let packed = logits(
            &model,
            &batch(
                &[a.clone(), b.clone()].concat(),
                &[1, 1, 1, 1, 1, 2, 2, 2, 2],
                &[ma.clone(), mb.clone()].concat(),
                4,
            ),
        );
        assert!(row_eq(&packed, &alone_a, 0, 5), "first sample differs (bidirectional {bidirectional})");
        let tail: Vec<f32> = packed[5 * V..].to_vec();
        assert!(row_eq(&tail, &alone_b, 0, 4), "second sample differs (bidirectional {bidirectional})");
    }
}

#[test]
fn parameter_count_matches_formula() {
    for tie in [false, true] {
        let cfg = config(false).with_tie_embeddings(tie);
        let model = cfg.init(&Device::flex());
        assert_eq!(model.num_params(), cfg.num_params(), "tie {tie}");
    }
}

#[test]
fn loss_is_finite_and_trains() {
    use burn::optim::{AdamWConfig, GradientsParams};
    let device = Device::flex().autodiff();
    let mut model = config(true).init(&device);
    let toks: Vec<i32> = (0..16).map(|i| (i * 7 % V) as i32).collect();
    let labels: Vec<i32> = (0..16).map(|i| if i < 4 { -100 } else { (i * 3 % V) as i32 }).collect();
    let mask: Vec<i32> = (0..16).map(|i| if i < 4 { 1 } else { 3 }).collect();
    let b = SequenceBatch::new(&toks, &labels, &[1; 16], &mask, 1, 16, 4, &device);
    let mut optim = AdamWConfig::new().init();
    let first = model.loss(&b).into_scalar::<f32>();
    for _ in 0..30 {
        let loss = model.loss(&b);
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(3e-3, model, grads);
    }
    let last = model.loss(&b).into_scalar::<f32>();
    assert!(first.is_finite() && last < first * 0.8, "{first} → {last}");
}
