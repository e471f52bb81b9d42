//! Semantics of Hawk: causality, bidirectional prefix, packing isolation, parameter count; recurrentgemma's
//! initialisation.

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
    for (tie, heads, bidirectional) in [(false, 1, false), (true, 1, true), (false, 2, true), (true, 4, false)] {
        let cfg = config(bidirectional).with_tie_embeddings(tie).with_lru_heads(heads);
        let model = cfg.init(&Device::flex());
        assert_eq!(model.num_params(), cfg.num_params(), "tie {tie}, {heads} heads");
    }
}

/// Mean and standard deviation of a tensor's values.
fn moments<const D: usize>(t: Tensor<D>) -> (f64, f64) {
    let v: Vec<f32> = t.into_data().try_to_vec().unwrap();
    let mean = v.iter().map(|&x| f64::from(x)).sum::<f64>() / v.len() as f64;
    let var = v.iter().map(|&x| (f64::from(x) - mean).powi(2)).sum::<f64>() / v.len() as f64;
    (mean, var.sqrt())
}

#[test]
fn lambda_init_matches_recurrentgemma() {
    // σ(Λ)² ~ U[0.81, 0.998] (mean 0.904).
    let lambda = init_lambda(8192, &Device::flex());
    let r2: Vec<f32> = sigmoid(lambda).powi_scalar(2).into_data().try_to_vec().unwrap();
    let (lo, hi) = r2.iter().fold((f32::MAX, f32::MIN), |(lo, hi), &x| (lo.min(x), hi.max(x)));
    let mean = r2.iter().map(|&x| f64::from(x)).sum::<f64>() / r2.len() as f64;
    assert!(lo >= 0.81 - 1e-6 && hi <= 0.998 + 1e-6, "σ(Λ)² in [{lo}, {hi}]");
    assert!(lo < 0.82 && hi > 0.988, "σ(Λ)² does not fill the range: [{lo}, {hi}]");
    assert!((mean - 0.904).abs() < 0.004, "mean σ(Λ)² = {mean}");
}

#[test]
fn init_std_of_each_projection_matches_recurrentgemma() {
    let (d, n, layers, heads) = (128, 512, 4, 4);
    let cfg = HawkConfig::new(512, d, n, layers).with_lru_heads(heads);
    let model = cfg.init(&Device::flex());
    let h = cfg.mlp_hidden() as f64;
    let final_scale = 2.0 / layers as f64;
    let b = &model.blocks[1];
    let check = |name: &str, (mean, std): (f64, f64), want: f64| {
        assert!(mean.abs() < 0.15 * want, "{name}: mean {mean}");
        assert!((std / want - 1.0).abs() < 0.1, "{name}: std {std}, want {want}");
    };
    let sd = (1.0 / d as f64).sqrt();
    check("embedding", moments(model.embed.weight.val()), sd);
    check("head", moments(model.head.as_ref().unwrap().weight.val()), sd);
    check("rec.gate", moments(b.rec.gate.weight.val()), sd);
    check("rec.input", moments(b.rec.input.weight.val()), sd);
    check("rec.conv_weight", moments(b.rec.conv_weight.val()), 0.05);
    check("rec.w_a", moments(b.rec.w_a.weight.val()), (heads as f64 / n as f64).sqrt());
    check("rec.w_x", moments(b.rec.w_x.weight.val()), (heads as f64 / n as f64).sqrt());
    check("rec.out", moments(b.rec.out.weight.val()), (final_scale / n as f64).sqrt());
    check("mlp.gate", moments(b.mlp.gate.weight.val()), sd);
    check("mlp.up", moments(b.mlp.up.weight.val()), sd);
    check("mlp.down", moments(b.mlp.down.weight.val()), (final_scale / h).sqrt());
    for (name, bias) in [("conv", b.rec.conv_bias.val()), ("w_a", b.rec.w_a.bias.val()), ("w_x", b.rec.w_x.bias.val())]
    {
        assert_eq!(moments(bias), (0.0, 0.0), "{name} bias");
    }
    assert_eq!(b.rec.w_a.weight.dims(), [heads, n / heads, n / heads]);
}

#[test]
fn lru_heads_must_divide_each_direction() {
    let init = |bidirectional: bool, heads: usize| {
        std::panic::catch_unwind(|| config(bidirectional).with_lru_heads(heads).init(&Device::flex())).is_ok()
    };
    assert!(init(false, 8) && init(true, 4) && init(false, 2));
    assert!(!init(true, 8), "8 heads over a 4-channel direction");
    assert!(!init(false, 3) && !init(false, 0));
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
