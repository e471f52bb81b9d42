//! The evaluation step: per-arm validation losses (no gradients), handed to the controller when there is one; its
//! new mixture goes to the pipeline.

use birdie_core::UpdateReport;
use birdie_models::ModelError;
use birdie_run::sequence_batch;
use burn::prelude::*;

use super::{EvalMetrics, TrainError, Training};

/// The evaluation at the step `t` has just completed.
pub(super) fn evaluate(t: &mut Training) -> Result<EvalMetrics, TrainError> {
    let step = t.completed;
    let plain = t.model().valid();
    let device = t.device.clone().inner();
    let (conv_width, vocab) = (t.model_config.conv_width(), t.model_config.vocab_size());
    let precision = t.config.run.precision;
    let losses: Vec<f64> = t
        .validation
        .iter()
        .map(|b| {
            let batch = sequence_batch(b, conv_width, vocab, &device)?;
            Ok(f64::from(precision.loss(&plain, &batch).into_scalar::<f32>()))
        })
        .collect::<Result<_, ModelError>>()?;
    let names = &t.arm_names;
    let val_loss: Vec<(String, f64)> = names.iter().cloned().zip(losses.iter().copied()).collect();
    let missing: Vec<String> =
        names.iter().zip(&losses).filter(|(_, l)| !l.is_finite()).map(|(n, _)| n.clone()).collect();
    if !missing.is_empty() {
        tracing::warn!(
            "step {step}: validation loss not finite for {}; missing at this evaluation",
            missing.join(", ")
        );
    }
    let pipeline = &mut t.pipeline;
    let Some(c) = t.controller.as_mut() else {
        return Ok(EvalMetrics {
            val_loss,
            missing,
            trained_on: None,
            rewards: None,
            saturated_share: None,
            mixture: pipeline.state().schedule.weights_for(pipeline.state().consumed).to_vec(),
            agent: false,
            explored: false,
            controller_seconds: 0.0,
        });
    };
    // The interval since the last evaluation trained on the mixtures its batches were built with (a new mixture
    // reaches the batches `prefetch` batches after it is set): that, batch-weighted, is the action it is credited.
    let trained_on = c.last_evaluation_step().map(|from| pipeline.state().schedule.mean_over(from, step));
    c.begin_evaluation(step, trained_on);
    let mut report: Option<UpdateReport> = None;
    for (arm, &l) in losses.iter().enumerate() {
        // A non-finite loss is recorded as missing for this arm at this evaluation.
        report = c.record_validation_loss(arm, l)?;
    }
    let r = report.expect("the last arm's loss completes the evaluation");
    pipeline.set_mixture(&r.mixture)?;
    Ok(EvalMetrics {
        val_loss,
        missing,
        trained_on: r.trained_on,
        rewards: r.rewards,
        saturated_share: r.saturated_share,
        mixture: r.mixture,
        agent: r.agent,
        explored: r.explored,
        controller_seconds: r.seconds,
    })
}
