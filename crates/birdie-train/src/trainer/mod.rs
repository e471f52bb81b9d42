//! The training loop (design §3.2): pipeline batches → model loss over label positions → backward → global-norm clip →
//! AdamW step; at the controller's evaluation steps, per-arm validation losses go to the controller (or, for
//! procedures without one, only to the metrics), and the new mixture goes to the pipeline.
//!
//! [`Training::start`] sets a run up (config, arms, data, model, optimiser, controller, pipeline) and, with `resume`,
//! continues from the latest checkpoint exactly as if the run had not stopped; [`Training::step`] is one step;
//! checkpoints are written every `checkpoint.every` steps and at the last step of a call. `interrupt` (set by the
//! CLI's Ctrl-C handler) stops the run after the current step with a checkpoint. At the end of every call the plots
//! are rendered as SVG and PNG ([`crate::run_plots`]).

mod checkpointing;
mod error;
mod evaluation;
mod metrics;
mod resume;
mod training;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use birdie_data::Tokenizer;
use birdie_run::TrainConfig;

pub use error::TrainError;
pub use metrics::{EvalMetrics, StepMetrics};
pub use resume::RestoreError;
pub use training::{Training, RUN_OBJECTIVES};

/// Steps in a row with a non-finite loss or gradient norm (no update applied) that stop the run.
pub const MAX_BAD_STEPS: usize = 5;

/// A run's inputs, resolved by the caller.
pub struct TrainRun {
    pub config: TrainConfig,
    pub tokenizer: Tokenizer,
    /// Directory of token shards (train and validation splits).
    pub shards: PathBuf,
    pub out_dir: PathBuf,
    /// The absolute step at which this call stops (`--steps`), ≤ total_steps.
    pub stop_at: u64,
    /// Continue from the latest checkpoint under `out_dir`.
    pub resume: bool,
    /// Set (by a Ctrl-C handler) to stop after the current step with a checkpoint.
    pub interrupt: Option<Arc<AtomicBool>>,
}

/// Trains from step 0 (or the latest checkpoint, with `run.resume`) to `run.stop_at`, writing `metrics.jsonl`,
/// `config.toml` and checkpoints into `run.out_dir`; `on_step` sees every step's metrics (progress display).
pub fn train(run: TrainRun, on_step: &mut dyn FnMut(&StepMetrics)) -> Result<Vec<StepMetrics>, TrainError> {
    let mut training = Training::start(&run)?;
    let mut log = metrics::MetricsLog::open(&run.out_dir, training.completed)?;
    let stop = run.stop_at.min(training.config.total_steps);
    let mut all = Vec::new();
    while training.completed < stop {
        let m = training.step()?;
        log.append(&m)?;
        on_step(&m);
        all.push(m);
        let done = training.completed;
        let interrupted = run.interrupt.as_ref().is_some_and(|f| f.load(Ordering::SeqCst));
        if done % training.config.checkpoint.every == 0 || done == stop || interrupted {
            checkpointing::save(&training, &run.out_dir)?;
        }
        if interrupted {
            tracing::warn!("interrupted: stopped after step {done} with a checkpoint");
            break;
        }
    }
    crate::run_plots::render_run(&run.out_dir)?;
    Ok(all)
}
