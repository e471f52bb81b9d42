//! The multi-threaded, deterministic batch pipeline (design §4, B5, B12, A9, A13).
//!
//! - **Determinism independent of threads.** Batch k is built by logical stream `k mod S` (S fixed by the config,
//!   not by the worker count) with `SampleRng::derive(seed, stream, k)`; each stream's documents and position are
//!   its own ([`Cursor`]). Workers own disjoint sets of streams and send finished batches, which the consumer
//!   hands out in order k = 0, 1, 2, … So 1 and 4 workers give identical batches.
//! - **Bounded prefetch.** Workers may build batch k only while `k < consumed + D` (D = `prefetch`).
//! - **Deterministic mixture updates.** [`Pipeline::set_mixture`] after `consumed` batches applies from batch
//!   `consumed + D` — the first batch no worker can have started — so an update lands at the same batch in every
//!   run (B12 fixed).
//! - **Resumable.** [`Pipeline::state`] is the state after the last *consumed* batch (stream cursors, mixture
//!   schedule, per-arm counters); starting from it continues the same sequence of batches.
//! - **Fault tolerant.** Per-sample failures are recovered inside batch building ([`batch_filling`]); only structural
//!   errors or too many consecutive failures stop the pipeline.

mod batch_filling;
mod source;
mod stream;
mod validation;

use std::collections::BTreeMap;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

use birdie_data::SpecialTokens;
use crossbeam_channel::{bounded, Receiver, Sender};

pub use source::{DocumentSource, ShardDocuments};
pub use stream::Cursor;
pub use validation::validation_batches;

use crate::arm::Arm;
use crate::packing::PackedBatch;
use crate::rng::SampleRng;
use batch_filling::{build_batch, BuildContext};
use stream::StreamReader;

/// Shape and policy of a pipeline.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PipelineConfig {
    pub batch_size: usize,
    pub seq_len: usize,
    pub seed: u64,
    /// Worker threads (does not change the batches).
    pub workers: usize,
    /// Logical streams S (changes the batches; fixed per run).
    pub streams: usize,
    /// Batches built ahead of the consumer, D (changes when mixture updates take effect; fixed per run).
    pub prefetch: usize,
    /// A batch is complete when no row has this many free positions.
    pub min_sample_budget: usize,
    /// Failures of one arm in a row before another arm is drawn.
    pub redraw_after: usize,
    /// Failures without any sample that stop the pipeline.
    pub max_consecutive_failures: usize,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        PipelineConfig {
            batch_size: 8,
            seq_len: 2048,
            seed: 0,
            workers: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
            streams: 16,
            prefetch: 8,
            min_sample_budget: 32,
            redraw_after: 4,
            max_consecutive_failures: 1000,
        }
    }
}

/// Per-arm counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ArmStats {
    pub samples: u64,
    pub input_tokens: u64,
    pub label_tokens: u64,
    /// Text tokens consumed.
    pub text_tokens: u64,
    pub failures: u64,
    /// Text tokens passed over because they were too short for the arm.
    pub skipped_tokens: u64,
}

impl ArmStats {
    pub fn add(&mut self, o: &ArmStats) {
        self.samples += o.samples;
        self.input_tokens += o.input_tokens;
        self.label_tokens += o.label_tokens;
        self.text_tokens += o.text_tokens;
        self.failures += o.failures;
        self.skipped_tokens += o.skipped_tokens;
    }

    /// Packed positions used (input + label).
    pub fn packed_tokens(&self) -> u64 {
        self.input_tokens + self.label_tokens
    }
}

/// Errors that stop the pipeline.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PipelineError {
    #[error("no data: {what}")]
    NoData { what: String },
    #[error("bad pipeline configuration: {0}")]
    Config(String),
    #[error("batch {batch}: {failures} consecutive sample failures without a sample ({detail})")]
    TooManyFailures { batch: u64, failures: usize, detail: String },
    #[error("pipeline workers stopped unexpectedly")]
    Disconnected,
}

/// Mixture probabilities by the batch they take effect from.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MixtureSchedule {
    /// (first batch, weights), sorted by first batch; the first entry starts at 0.
    pub entries: Vec<(u64, Vec<f64>)>,
}

impl MixtureSchedule {
    /// The weights in force for batch `k`.
    pub fn weights_for(&self, k: u64) -> &[f64] {
        let i = self.entries.partition_point(|(from, _)| *from <= k);
        &self.entries[i.max(1) - 1].1
    }

    /// The mixture batches `from..to` were built with, each batch weighted alike (the weights in force for the
    /// first batch when the range is empty). A mixture set after batch `s` reaches the batches only from
    /// `s + prefetch` on, so this — not the newest mixture — is what an interval of training ran on.
    pub fn mean_over(&self, from: u64, to: u64) -> Vec<f64> {
        if to <= from {
            return self.weights_for(from).to_vec();
        }
        let mut mean = vec![0.0; self.weights_for(from).len()];
        let n = (to - from) as f64;
        // Walk the entries overlapping [from, to).
        for (i, (start, w)) in self.entries.iter().enumerate() {
            let end = self.entries.get(i + 1).map_or(u64::MAX, |e| e.0);
            let (lo, hi) = (from.max(*start), to.min(end));
            if lo < hi {
                for (m, x) in mean.iter_mut().zip(w) {
                    *m += x * (hi - lo) as f64 / n;
                }
            }
        }
        mean
    }

    fn push(&mut self, from: u64, weights: Vec<f64>) {
        self.entries.retain(|(f, _)| *f < from);
        self.entries.push((from, weights));
    }
}

/// Everything needed to continue a pipeline: the state after the last consumed batch.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PipelineState {
    /// Batches consumed.
    pub consumed: u64,
    /// Cursor of each logical stream.
    pub cursors: Vec<Cursor>,
    pub schedule: MixtureSchedule,
    /// Totals over consumed batches, per arm.
    pub stats: Vec<ArmStats>,
}

struct Gate {
    consumed: u64,
    schedule: MixtureSchedule,
    stop: bool,
}

struct Shared {
    arms: Vec<Arm>,
    specials: SpecialTokens,
    source: Arc<dyn DocumentSource>,
    config: PipelineConfig,
    streams: usize,
    gate: Mutex<Gate>,
    wake: Condvar,
}

struct Built {
    index: u64,
    stream: usize,
    batch: PackedBatch,
    stats: Vec<ArmStats>,
    cursor: Cursor,
}

/// A running pipeline. Dropping it stops the workers.
pub struct Pipeline {
    shared: Arc<Shared>,
    rx: Option<Receiver<Result<Built, PipelineError>>>,
    workers: Vec<JoinHandle<()>>,
    pending: BTreeMap<u64, Built>,
    state: PipelineState,
}

impl Pipeline {
    /// Starts the workers. `initial` is the starting mixture (normalised here; `None` = the arms' `prob`), `resume`
    /// a saved state to continue from.
    pub fn start(
        config: PipelineConfig,
        arms: Vec<Arm>,
        specials: SpecialTokens,
        source: Arc<dyn DocumentSource>,
        resume: Option<PipelineState>,
    ) -> Result<Self, PipelineError> {
        if arms.is_empty() {
            return Err(PipelineError::Config("no arms".into()));
        }
        if config.batch_size == 0 || config.seq_len < 2 || config.workers == 0 || config.streams == 0 {
            return Err(PipelineError::Config(format!(
                "batch_size {}, seq_len {}, workers {}, streams {} (each must be ≥ 1, seq_len ≥ 2)",
                config.batch_size, config.seq_len, config.workers, config.streams
            )));
        }
        if let Some(arm) = arms.iter().find(|a| a.min_budget() > config.seq_len) {
            return Err(PipelineError::Config(format!(
                "sequence length {} is shorter than the minimum of arm \"{}\" ({} tokens)",
                config.seq_len,
                arm.name,
                arm.min_budget()
            )));
        }
        let num_docs = source.num_docs();
        if num_docs == 0 {
            return Err(PipelineError::NoData { what: "the document source is empty".into() });
        }
        let streams = config.streams.min(num_docs);
        let state = match resume {
            Some(s) => {
                if s.cursors.len() != streams || s.stats.len() != arms.len() {
                    return Err(PipelineError::Config(format!(
                        "saved pipeline state has {} streams and {} arms; this run has {streams} and {}",
                        s.cursors.len(),
                        s.stats.len(),
                        arms.len()
                    )));
                }
                s
            }
            None => PipelineState {
                consumed: 0,
                cursors: vec![Cursor::default(); streams],
                schedule: MixtureSchedule {
                    entries: vec![(0, normalise(&arms.iter().map(|a| a.prob).collect::<Vec<_>>()))],
                },
                stats: vec![ArmStats::default(); arms.len()],
            },
        };
        let workers = config.workers.min(streams);
        let (tx, rx) = bounded(config.prefetch + workers);
        let shared = Arc::new(Shared {
            arms,
            specials,
            source,
            streams,
            gate: Mutex::new(Gate { consumed: state.consumed, schedule: state.schedule.clone(), stop: false }),
            wake: Condvar::new(),
            config,
        });
        let handles = (0..workers)
            .map(|w| {
                let shared = Arc::clone(&shared);
                let tx = tx.clone();
                let cursors = state.cursors.clone();
                let consumed = state.consumed;
                std::thread::Builder::new()
                    .name(format!("birdie-pipeline-{w}"))
                    .spawn(move || worker(w, workers, &shared, cursors, consumed, tx))
                    .expect("spawn pipeline worker")
            })
            .collect();
        Ok(Pipeline { shared, rx: Some(rx), workers: handles, pending: BTreeMap::new(), state })
    }

    /// The next batch, in order.
    pub fn next_batch(&mut self) -> Result<PackedBatch, PipelineError> {
        let rx = self.rx.as_ref().ok_or(PipelineError::Disconnected)?;
        loop {
            if let Some(b) = self.pending.remove(&self.state.consumed) {
                self.state.cursors[b.stream] = b.cursor;
                for (t, s) in self.state.stats.iter_mut().zip(&b.stats) {
                    t.add(s);
                }
                self.state.consumed += 1;
                let mut gate = self.shared.gate.lock().expect("pipeline gate");
                gate.consumed = self.state.consumed;
                drop(gate);
                self.shared.wake.notify_all();
                return Ok(b.batch);
            }
            match rx.recv() {
                Ok(Ok(b)) => {
                    self.pending.insert(b.index, b);
                }
                Ok(Err(e)) => return Err(e),
                Err(_) => return Err(PipelineError::Disconnected),
            }
        }
    }

    /// Hands over a new mixture (one weight per arm, normalised here); returns the batch it applies from.
    pub fn set_mixture(&mut self, weights: &[f64]) -> Result<u64, PipelineError> {
        if weights.len() != self.shared.arms.len() || weights.iter().any(|w| !(w.is_finite() && *w >= 0.0)) {
            return Err(PipelineError::Config(format!(
                "mixture needs {} finite non-negative weights, got {weights:?}",
                self.shared.arms.len()
            )));
        }
        let from = self.state.consumed + self.shared.config.prefetch as u64;
        let w = normalise(weights);
        self.state.schedule.push(from, w.clone());
        self.shared.gate.lock().expect("pipeline gate").schedule.push(from, w);
        Ok(from)
    }

    /// The state after the last consumed batch (save it with a checkpoint to resume).
    pub fn state(&self) -> &PipelineState {
        &self.state
    }

    /// The arms, in mixture order.
    pub fn arms(&self) -> &[Arm] {
        &self.shared.arms
    }
}

impl Drop for Pipeline {
    fn drop(&mut self) {
        self.shared.gate.lock().map(|mut g| g.stop = true).ok();
        self.shared.wake.notify_all();
        self.rx = None; // unblocks workers waiting to send
        for h in self.workers.drain(..) {
            let _ = h.join();
        }
    }
}

/// Normalised weights (uniform if they sum to 0).
pub fn normalise(w: &[f64]) -> Vec<f64> {
    let total: f64 = w.iter().sum();
    if total > 0.0 {
        w.iter().map(|x| x / total).collect()
    } else {
        vec![1.0 / w.len() as f64; w.len()]
    }
}

fn worker(
    w: usize,
    workers: usize,
    shared: &Shared,
    cursors: Vec<Cursor>,
    consumed: u64,
    tx: Sender<Result<Built, PipelineError>>,
) {
    let s_count = shared.streams as u64;
    let cfg = &shared.config;
    // This worker's streams with the index of their next batch (the first k ≥ consumed with k mod S = s).
    let mut mine: Vec<(u64, usize, StreamReader)> = (w..shared.streams)
        .step_by(workers)
        .map(|s| {
            let s64 = s as u64;
            let first = consumed + (s64 + s_count - consumed % s_count) % s_count;
            let cursor = cursors[s].clone();
            (first, s, StreamReader::new(cfg.seed, s, shared.streams, shared.source.num_docs(), cursor))
        })
        .collect();
    let ctx = BuildContext {
        arms: &shared.arms,
        specials: &shared.specials,
        source: shared.source.as_ref(),
        batch_size: cfg.batch_size,
        seq_len: cfg.seq_len,
        min_sample_budget: cfg.min_sample_budget,
        redraw_after: cfg.redraw_after,
        max_consecutive_failures: cfg.max_consecutive_failures,
    };
    loop {
        let (slot, _) = mine.iter().enumerate().min_by_key(|(_, m)| m.0).expect("worker has a stream");
        let k = mine[slot].0;
        let weights = {
            let mut gate = shared.gate.lock().expect("pipeline gate");
            while !gate.stop && k >= gate.consumed + cfg.prefetch as u64 {
                gate = shared.wake.wait(gate).expect("pipeline gate");
            }
            if gate.stop {
                return;
            }
            gate.schedule.weights_for(k).to_vec()
        };
        let (_, stream, reader) = &mut mine[slot];
        let mut rng = SampleRng::derive(cfg.seed, *stream as u64, k);
        let result = build_batch(&ctx, &weights, reader, &mut rng, k).map(|(batch, stats)| Built {
            index: k,
            stream: *stream,
            batch,
            stats,
            cursor: reader.cursor.clone(),
        });
        let failed = result.is_err();
        if tx.send(result).is_err() || failed {
            return;
        }
        mine[slot].0 += s_count;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_lookup() {
        let mut s = MixtureSchedule { entries: vec![(0, vec![1.0, 0.0])] };
        s.push(5, vec![0.0, 1.0]);
        assert_eq!(s.weights_for(4), [1.0, 0.0]);
        assert_eq!(s.weights_for(5), [0.0, 1.0]);
        s.push(3, vec![0.5, 0.5]);
        assert_eq!(s.weights_for(100), [0.5, 0.5]);
    }

    #[test]
    fn mean_over_weights_each_batch_alike() {
        let mut s = MixtureSchedule { entries: vec![(0, vec![1.0, 0.0])] };
        s.push(8, vec![0.0, 1.0]);
        s.push(33, vec![0.5, 0.5]);
        // Batches 0..25: 8 on the first mixture, 17 on the second.
        let m = s.mean_over(0, 25);
        assert!((m[0] - 8.0 / 25.0).abs() < 1e-12 && (m[1] - 17.0 / 25.0).abs() < 1e-12, "{m:?}");
        // Batches 25..50: 8 on the second, 17 on the third; equal to averaging weights_for batch by batch.
        let naive: Vec<f64> = (0..2).map(|j| (25..50).map(|k| s.weights_for(k)[j]).sum::<f64>() / 25.0).collect();
        let m = s.mean_over(25, 50);
        for j in 0..2 {
            assert!((m[j] - naive[j]).abs() < 1e-12);
        }
        assert_eq!(s.mean_over(40, 40), vec![0.5, 0.5]);
    }
}
