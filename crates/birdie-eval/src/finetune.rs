//! Training a model on generated task samples: the phone-book fine-tuning before evaluation (the paper fine-tunes
//! 1000 steps first) and MQAR's `--train` protocol. AdamW with the trainer's weight-decay exclusions, global-norm
//! clipping at 1, linear warmup then cosine decay to 10%; the loss counts the target's scored positions only, laid
//! out exactly as the evaluation reads them ([`EvalModel`]'s prompt style).

use birdie_core::packing::{Batcher, IGNORE_INDEX};
use birdie_core::SampleRng;
use birdie_models::{Model, ModelError, SequenceBatch};
use birdie_run::clipped_step;
use birdie_run::config::{warmup_cosine, OptimizerConfig};
use birdie_run::optimizer::adamw;
use birdie_run::sequence_batch;
use burn::optim::GradientsParams;

use crate::evaluator::Evaluator;
use crate::lm::{EvalModel, TargetSample};
use crate::{EvalError, Progress};

/// Size and speed of a fine-tuning run.
#[derive(Debug, Clone, PartialEq)]
pub struct FinetuneOptions {
    /// Optimiser steps (0 = none).
    pub steps: u64,
    /// Samples per step (each in its own row).
    pub batch_size: usize,
    pub lr: f64,
    pub seed: u64,
}

impl Default for FinetuneOptions {
    fn default() -> Self {
        FinetuneOptions { steps: 0, batch_size: 8, lr: 3e-4, seed: 0 }
    }
}

impl FinetuneOptions {
    /// Warmup over the first 10% of the steps, cosine decay to 10% of `lr` at the end.
    pub fn learning_rate(&self, step: u64) -> f64 {
        warmup_cosine(self.lr, (self.steps / 10).max(1), self.steps, 0.1, step)
    }
}

/// One packed training batch of `samples`, each in its own row, with labels only where the target is scored.
fn training_batch(lm: &EvalModel, samples: &[TargetSample], conv_width: usize) -> Result<SequenceBatch, ModelError> {
    let laid: Vec<(Vec<u32>, Vec<u32>, usize)> = samples
        .iter()
        .map(|s| {
            let (prefix, forced) = lm.layout(&s.prompt, s.raw);
            let n = forced.len();
            (prefix, forced.into_iter().chain(s.target.iter().copied()).collect(), n)
        })
        .collect();
    let seq = laid.iter().map(|(p, l, _)| p.len() + l.len()).max().unwrap_or(1);
    let mut batcher = Batcher::new(samples.len(), seq, lm.start_of_generation);
    for (k, (prefix, label, _)) in laid.iter().enumerate() {
        batcher.add(prefix, label, k).expect("a row per sample, as long as the longest");
    }
    let mut packed = batcher.take();
    for seg in &packed.segments {
        let (_, _, forced) = laid[seg.arm];
        let s = &samples[seg.arm];
        for t in 0..seg.label_len {
            let counts = t >= forced && s.scored.as_ref().is_none_or(|m| m.get(t - forced).copied().unwrap_or(false));
            if !counts {
                packed.label_ids[seg.row * packed.seq_len + seg.start + seg.input_len + t] = IGNORE_INDEX;
            }
        }
    }
    sequence_batch(&packed, conv_width, lm.vocab, &lm.device.clone().autodiff())
}

/// Trains `model` (on an autodiff device) on samples from `draw` (seeded per step from (`opts.seed`, `stream`, step)); returns the model and
/// the loss of every step. `progress` sees (step, steps).
pub fn fit(
    lm: &EvalModel,
    mut model: Model,
    opts: &FinetuneOptions,
    stream: u64,
    draw: &mut dyn FnMut(&mut SampleRng) -> Result<TargetSample, EvalError>,
    progress: Progress,
) -> Result<(Model, Vec<f64>), EvalError> {
    let cfg = OptimizerConfig { lr: opts.lr, betas: [0.9, 0.95], eps: 1e-8, weight_decay: 0.1, grad_clip: 1.0 };
    let mut optim = adamw(&cfg);
    let conv_width = model.conv_width();
    let mut losses = Vec::with_capacity(opts.steps as usize);
    for step in 0..opts.steps {
        let mut rng = SampleRng::derive(opts.seed, stream, step);
        let samples = (0..opts.batch_size).map(|_| draw(&mut rng)).collect::<Result<Vec<_>, _>>()?;
        let batch = training_batch(lm, &samples, conv_width)?;
        let loss = model.loss(&batch);
        let value = f64::from(loss.clone().into_scalar::<f32>());
        if value.is_finite() {
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = clipped_step(&mut optim, opts.learning_rate(step), model, grads, cfg.grad_clip).0;
        }
        losses.push(value);
        progress(step as usize + 1, opts.steps as usize);
    }
    Ok((model, losses))
}

/// Draws one (prompt, answer) text pair.
pub type TextDraw<'a> = &'a mut dyn FnMut(&mut SampleRng) -> Result<(String, String), EvalError>;

/// Fine-tunes a copy of the evaluator's model on text (prompt, answer) pairs from `draw`.
pub fn finetune(
    ev: &Evaluator,
    opts: &FinetuneOptions,
    stream: u64,
    draw: TextDraw,
    progress: Progress,
) -> Result<Model, EvalError> {
    let mut tokens = |rng: &mut SampleRng| -> Result<TargetSample, EvalError> {
        let (prompt, answer) = draw(rng)?;
        let mut target = ev.encode(&answer)?;
        target.push(ev.tokenizer.specials().end_of_document);
        Ok(TargetSample::new(ev.encode(&prompt)?, target))
    };
    let (model, losses) = fit(&ev.lm, ev.model.clone(), opts, stream, &mut tokens, progress)?;
    if let (Some(first), Some(last)) = (losses.first(), losses.last()) {
        tracing::info!("fine-tuned {} steps: loss {first:.3} → {last:.3}", losses.len());
    }
    Ok(model)
}
