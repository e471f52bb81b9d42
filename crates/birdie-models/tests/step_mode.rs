//! Step mode equals the full forward: a prompt pass over prefix + start-of-generation token, then one token at a
//! time, gives the logits the full-sequence forward gives on the packed sample — for every architecture, causal and
//! bidirectional, two rows at once.

use birdie_models::{GatedSsmConfig, HawkConfig, Model, ModelError, SequenceBatch, ToyConfig, TransformerConfig};
use burn::prelude::*;

const V: usize = 48;
const PREFIX: usize = 5;
const SUFFIX: usize = 7; // start-of-generation token + 6 teacher-forced tokens

fn models(device: &Device) -> Vec<(String, Model)> {
    let mut out = Vec::new();
    for bidirectional in [false, true] {
        let tag = if bidirectional { "bidirectional" } else { "causal" };
        out.push((
            format!("hawk {tag}"),
            Model::Hawk(HawkConfig::new(V, 16, 12, 3).with_bidirectional(bidirectional).init(device)),
        ));
        out.push((
            format!("hawk tied {tag}"),
            Model::Hawk(
                HawkConfig::new(V, 16, 8, 2)
                    .with_bidirectional(bidirectional)
                    .with_tie_embeddings(true)
                    .with_conv_width(2)
                    .init(device),
            ),
        ));
        out.push((
            format!("gated-ssm {tag}"),
            Model::GatedSsm(GatedSsmConfig::new(V, 16, 12, 3).with_bidirectional(bidirectional).init(device)),
        ));
        out.push((
            format!("transformer {tag}"),
            Model::Transformer(TransformerConfig::new(V, 16, 2, 2, 32).with_prefix_lm(bidirectional).init(device)),
        ));
    }
    out.push(("toy".into(), Model::Toy(ToyConfig::new().with_vocab_size(V).with_d_model(16).init(device))));
    out
}

fn to_vec(t: Tensor<2>) -> Vec<f32> {
    t.into_data().try_to_vec::<f32>().unwrap()
}

#[test]
fn step_mode_equals_the_full_forward() {
    let device = Device::flex();
    let (rows, len) = (2, PREFIX + SUFFIX);
    let tokens: Vec<i32> = (0..rows * len).map(|i| ((i * 29 + 7) % V) as i32).collect();
    let mask: Vec<i32> = (0..rows * len).map(|i| if i % len < PREFIX { 1 } else { 3 }).collect();
    for (name, model) in models(&device) {
        let batch = SequenceBatch::new(
            &tokens,
            &vec![-100; rows * len],
            &vec![1; rows * len],
            &mask,
            rows,
            len,
            model.conv_width(),
            &device,
        );
        let full = model.forward(&batch).into_data().try_to_vec::<f32>().unwrap(); // [rows, len, V]
        let at = |r: usize, t: usize| full[(r * len + t) * V..(r * len + t + 1) * V].to_vec();
        let prompt: Vec<i32> = (0..rows).flat_map(|r| tokens[r * len..r * len + PREFIX + 1].to_vec()).collect();
        let (logits, mut state) = model.prompt(&prompt, rows, PREFIX, &device).unwrap();
        let mut got = vec![to_vec(logits)];
        for t in PREFIX + 1..len {
            let next: Vec<i32> = (0..rows).map(|r| tokens[r * len + t]).collect();
            got.push(to_vec(model.step(&next, &mut state, &device).unwrap()));
        }
        for (i, step_logits) in got.iter().enumerate() {
            let t = PREFIX + i;
            for r in 0..rows {
                let want = at(r, t);
                let have = &step_logits[r * V..(r + 1) * V];
                let err = want.iter().zip(have).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
                assert!(err < 1e-4, "{name}: row {r} position {t}: max |Δ| = {err}");
            }
        }
    }
}

#[test]
fn bad_prompts_are_errors() {
    let device = Device::flex();
    let model = Model::Transformer(TransformerConfig::new(V, 16, 2, 1, 8).init(&device));
    assert_eq!(
        model.prompt(&[1, 2, 3], 1, 3, &device).err(),
        Some(ModelError::PromptWithoutSuffix { len: 3, prefix_len: 3 })
    );
    assert_eq!(model.prompt(&[1, 2, 3], 2, 0, &device).err(), Some(ModelError::RaggedPrompt { got: 3, batch: 2 }));
    let (_, mut state) = model.prompt(&[1, 2, 3, 4, 5, 6, 7], 1, 2, &device).unwrap();
    model.step(&[1], &mut state, &device).unwrap();
    assert_eq!(model.step(&[1], &mut state, &device).err(), Some(ModelError::ContextFull { position: 8, max: 8 }));
    assert_eq!(model.step(&[1, 2], &mut state, &device).err(), Some(ModelError::StepBatch { got: 2, batch: 1 }));
}
