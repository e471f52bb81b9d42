//! Building one batch: the deterministic heart of the pipeline.
//!
//! Batch k is filled from one stream with `SampleRng::derive(seed, stream, k)`: the budget for the next sample is
//! the largest free space of any row; the next arm is the oldest *deferred* arm that fits, else a fresh draw from
//! the whole mixture; its sample goes to the fullest row that can take it (best fit).
//!
//! An arm fits where its [`Arm::reliable_budget`] is free (the space in which it never fails for lack of room). A
//! fresh draw that does not fit is not thrown away but deferred: it waits in the stream's [`Cursor`] and is placed
//! first wherever it fits, in this batch or the stream's next one. So every draw becomes a sample and the realised
//! share of each arm (counted in samples) follows the mixture, also near the ends of rows where only small samples
//! fit. A deferred arm whose weight is 0 in the mixture of a later batch is dropped there. Per-sample failures are recovered (B5):
//! - `NoSpace` (the arm needed more room than it expected): the arm is deferred again and not tried in this batch
//!   any more; the document is kept for the next arm;
//! - `TooShort` / `NothingMasked` (the text is too short for this arm): the arm is kept and the stream moves to the
//!   next document; the tokens passed over are counted per arm.
//!
//! After `redraw_after` text failures of the same arm in a row the arm is drawn anew; `max_consecutive_failures`
//! failures without a sample stop the pipeline with an error naming the arms that failed. A batch is complete when
//! no row has `min_sample_budget` free positions, when no arm of the mixture fits any more, or when the deferred
//! arms reach [`MAX_DEFERRED`] (the rest of the rows is padding and the deferred arms open the next batch).

use birdie_data::SpecialTokens;
use rand::Rng;

use super::source::DocumentSource;
use super::stream::StreamReader;
use super::{ArmStats, PipelineError};
use crate::arm::Arm;
use crate::objectives::SampleError;
use crate::packing::{Batcher, PackedBatch};
use crate::rng::SampleRng;

/// Most deferred arms a stream carries; at this many, the batch being built is closed.
pub(crate) const MAX_DEFERRED: usize = 64;

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

impl BuildContext<'_> {
    /// The free space arm `a` needs before it is tried: its reliable budget, or the whole row where that is more
    /// than a row holds (the arm is then tried in empty rows, where it succeeds most of the time).
    fn space_needed(&self, a: usize) -> usize {
        self.arms[a].reliable_budget().min(self.seq_len).max(self.arms[a].min_budget())
    }
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
    let mut sticky: Option<(usize, usize)> = None; // (arm, text failures in a row)
    let mut consecutive = 0usize;
    let mut last_error: Vec<Option<SampleError>> = vec![None; arms.len()];
    // An arm the mixture in force no longer draws is no longer owed: a weight of 0 means no sample of it.
    reader.cursor.deferred.retain(|&a| weights[a] > 0.0);
    loop {
        let budget = batcher.max_remaining();
        if budget < ctx.min_sample_budget {
            break;
        }
        let fits = |a: usize| !excluded[a] && ctx.space_needed(a) <= budget;
        let arm = match sticky {
            Some((a, _)) if fits(a) => a,
            Some((a, _)) => {
                // A text failure left the arm waiting for a new document; it no longer fits this budget.
                reader.cursor.deferred.push(a);
                sticky = None;
                continue;
            }
            None => match next_arm(ctx, weights, &fits, &mut reader.cursor.deferred, rng) {
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
                        // The arm still owes a sample: it waits for more room; the document stays.
                        excluded[arm] = true;
                        reader.cursor.deferred.insert(0, arm);
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

/// The next arm to try at the current budget: the oldest deferred arm that fits, else fresh draws from the whole
/// mixture, deferring those that do not fit. `None` when no arm of the mixture fits (or too many wait): the batch
/// is complete.
fn next_arm(
    ctx: &BuildContext<'_>,
    weights: &[f64],
    fits: &dyn Fn(usize) -> bool,
    deferred: &mut Vec<usize>,
    rng: &mut SampleRng,
) -> Option<usize> {
    if let Some(i) = deferred.iter().position(|&a| fits(a)) {
        return Some(deferred.remove(i));
    }
    if !(0..ctx.arms.len()).any(|a| weights[a] > 0.0 && fits(a)) {
        return None;
    }
    while deferred.len() < MAX_DEFERRED {
        let a = draw(weights, &|_| true, rng)?;
        if fits(a) {
            return Some(a);
        }
        deferred.push(a);
    }
    None
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
