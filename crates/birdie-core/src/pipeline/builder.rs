//! Building one batch: the deterministic heart of the pipeline.
//!
//! Batch k is filled from one stream with `SampleRng::derive(seed, stream, k)`: the budget for the next sample is
//! the largest free space of any row; an arm is drawn from the mixture among the arms whose minimum budget fits;
//! its sample goes to the fullest row that can take it (best fit). Per-sample failures are recovered (B5):
//! - `NoSpace`: the arm cannot work in what is left of this batch; it is not drawn again for this batch;
//! - `TooShort` / `NothingMasked` (a short text where no span could be masked): the arm is kept and the stream
//!   moves to the next document; the tokens passed over are counted per arm.
//!
//! After `redraw_after` failures of the same arm in a row the arm is drawn anew; `max_consecutive_failures`
//! failures without a sample stop the pipeline with an error naming the arms that failed.

use birdie_data::SpecialTokens;
use rand::Rng;

use super::source::DocumentSource;
use super::stream::StreamReader;
use super::{ArmStats, PipelineError};
use crate::arm::Arm;
use crate::objectives::SampleError;
use crate::packing::{Batcher, PackedBatch};
use crate::rng::SampleRng;

/// Fixed inputs of batch building.
pub(crate) struct BuildContext<'a> {
    pub arms: &'a [Arm],
    pub specials: &'a SpecialTokens,
    pub source: &'a dyn DocumentSource,
    pub batch_size: usize,
    pub seq_len: usize,
    /// A batch is complete when no row has this much space left.
    pub min_sample_budget: usize,
    pub redraw_after: usize,
    pub max_consecutive_failures: usize,
}

/// Builds one batch from `reader` with `rng`, drawing arms with `weights`.
pub(crate) fn build_batch(
    ctx: &BuildContext<'_>,
    weights: &[f64],
    reader: &mut StreamReader,
    rng: &mut SampleRng,
    batch_index: u64,
) -> Result<(PackedBatch, Vec<ArmStats>), PipelineError> {
    let arms = ctx.arms;
    let mut batcher = Batcher::new(ctx.batch_size, ctx.seq_len, ctx.specials.start_of_generation);
    let mut stats = vec![ArmStats::default(); arms.len()];
    let mut excluded = vec![false; arms.len()];
    let mut sticky: Option<(usize, usize)> = None; // (arm, failures in a row)
    let mut consecutive = 0usize;
    let mut last_error: Vec<Option<SampleError>> = vec![None; arms.len()];
    loop {
        let budget = batcher.max_remaining();
        if budget < ctx.min_sample_budget {
            break;
        }
        let eligible = |a: usize| !excluded[a] && weights[a] > 0.0 && arms[a].min_budget() <= budget;
        let arm = match sticky {
            Some((a, _)) if eligible(a) => a,
            _ => match draw(weights, &eligible, rng) {
                Some(a) => a,
                None => break,
            },
        };
        let text = reader.current(ctx.source);
        if text.is_empty() {
            return Err(PipelineError::NoData { what: "every document of the stream is empty".into() });
        }
        match arms[arm].apply(text, budget, ctx.specials, rng) {
            Ok(s) => {
                batcher.add(&s.input, &s.label, arm).expect("a sample within the largest free space fits its row");
                reader.consume(s.consumed);
                let st = &mut stats[arm];
                st.samples += 1;
                st.input_tokens += s.input.len() as u64;
                st.label_tokens += s.label.len() as u64;
                st.text_tokens += s.consumed as u64;
                sticky = None;
                consecutive = 0;
            }
            Err(e) => {
                stats[arm].failures += 1;
                match e {
                    SampleError::NoSpace { .. } => {
                        excluded[arm] = true;
                        sticky = None;
                        continue;
                    }
                    SampleError::TooShort { .. } | SampleError::NothingMasked { .. } => {
                        stats[arm].skipped_tokens += reader.skip_doc() as u64
                    }
                }
                last_error[arm] = Some(e);
                consecutive += 1;
                let fails = match sticky {
                    Some((a, f)) if a == arm => f + 1,
                    _ => 1,
                };
                sticky = if fails >= ctx.redraw_after { None } else { Some((arm, fails)) };
                if consecutive >= ctx.max_consecutive_failures {
                    let detail: Vec<String> = (0..arms.len())
                        .filter(|&a| stats[a].failures > 0)
                        .map(|a| {
                            let why = last_error[a].as_ref().map(|e| e.to_string()).unwrap_or_default();
                            format!("arm {a} ({}): {} failures, last: {why}", arms[a].name, stats[a].failures)
                        })
                        .collect();
                    return Err(PipelineError::TooManyFailures {
                        batch: batch_index,
                        failures: consecutive,
                        detail: detail.join("; "),
                    });
                }
            }
        }
    }
    Ok((batcher.take(), stats))
}

/// Draws an arm with probability ∝ weight among the eligible ones.
fn draw(weights: &[f64], eligible: &dyn Fn(usize) -> bool, rng: &mut SampleRng) -> Option<usize> {
    let total: f64 = (0..weights.len()).filter(|&a| eligible(a)).map(|a| weights[a]).sum();
    if total <= 0.0 {
        return None;
    }
    let mut x = rng.random::<f64>() * total;
    let mut last = None;
    for a in (0..weights.len()).filter(|&a| eligible(a)) {
        last = Some(a);
        if x < weights[a] {
            return Some(a);
        }
        x -= weights[a];
    }
    last
}
