//! The training loop (design §3.2): pipeline batches → model loss over label positions → backward → global-norm clip →
//! AdamW step; at the controller's evaluation steps, per-arm validation losses go to the controller (or, for
//! procedures without one, only to the metrics), and the new mixture goes to the pipeline.
//!
//! Checkpoints (`checkpoint`) are written every `checkpoint.every` steps and at the last step of a call; `resume`
//! continues from the latest one exactly as if the run had not stopped.
//!
//! `interrupt` (set by the CLI's Ctrl-C handler) stops the run after the current step with a checkpoint. At the end of
//! every call the plots are rendered as SVG and PNG (`plot`).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use birdie_core::config::{arms_from_toml, preset};
use birdie_core::pipeline::{validation_batches, ShardDocuments};
use birdie_core::{Arm, Controller, PackedBatch, Pipeline, PipelineConfig, UpdateReport};
use birdie_data::{ShardSet, Split, Tokenizer};
use birdie_models::{Model, ModelConfig, ModelError, SequenceBatch};
use burn::module::Module;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use serde::Serialize;

use crate::checkpoint::{self, TrainerState};
use crate::config::TrainConfig;
use crate::grad_clip::clipped_step;

/// Steps in a row with a non-finite loss or gradient norm (no update applied) that stop the run.
pub const MAX_BAD_STEPS: usize = 5;

/// Errors that stop training.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error("{0}")]
    Config(String),
    #[error("data: {0}")]
    Data(String),
    #[error("writing {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error(
        "the loss or the gradient norm was not finite for {0} steps in a row (last at step {1}); lower optimizer.lr \
         or check the data"
    )]
    Diverged(usize, u64),
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error("plotting the run: {0}")]
    Plot(#[from] crate::run_plots::RunPlotError),
}

/// One line of `metrics.jsonl`.
#[derive(Debug, Clone, Serialize)]
pub struct StepMetrics {
    pub step: u64,
    pub train_loss: f64,
    pub lr: f64,
    /// Tokens (input positions) seen so far.
    pub tokens: u64,
    pub tokens_per_s: f64,
    pub grad_norm: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eval: Option<EvalMetrics>,
}

/// What an evaluation step adds.
#[derive(Debug, Clone, Serialize)]
pub struct EvalMetrics {
    /// Per-arm validation loss (mean over label tokens), by arm name (`null` where it was not finite).
    pub val_loss: Vec<(String, f64)>,
    /// Arms whose validation loss was not finite: missing at this evaluation (no reward across it).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<String>,
    /// The batch-weighted mixture the interval ending here trained on (the controller's recorded action).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trained_on: Option<Vec<f64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rewards: Option<Vec<f64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub saturated_share: Option<f64>,
    pub mixture: Vec<f64>,
    pub agent: bool,
    pub explored: bool,
    pub controller_seconds: f64,
}

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

/// The arms of a run's procedure.
pub fn procedure_arms(config: &TrainConfig) -> Result<Vec<Arm>, TrainError> {
    match config.procedure.name.objective_preset() {
        Some(name) => preset(name).map_err(|e| TrainError::Config(e.to_string())),
        None => {
            let path = config.procedure.objectives.as_ref().expect("validated: custom has objectives");
            let text = std::fs::read_to_string(path)
                .map_err(|e| TrainError::Config(format!("reading {}: {e}", path.display())))?;
            arms_from_toml(&text, &path.display().to_string()).map_err(|e| TrainError::Config(e.to_string()))
        }
    }
}

/// The copy of a `custom` procedure's objectives file in the run directory, which the run's `config.toml` names.
pub const RUN_OBJECTIVES: &str = "objectives.toml";

/// The config a run trains with, and the one written as its `config.toml`. A `custom` procedure's objectives file is
/// copied into the run directory ([`RUN_OBJECTIVES`]) at the start, so `--resume` and evaluation read the arms the
/// run trained on whatever happens to the original; the written config names the copy relative to the run directory
/// ([`TrainConfig::load_run`] resolves it). A resumed run keeps its copy.
fn run_config(run: &TrainRun) -> Result<(TrainConfig, TrainConfig), TrainError> {
    let (mut own, mut written) = (run.config.clone(), run.config.clone());
    if let Some(source) = &run.config.procedure.objectives {
        let copy = run.out_dir.join(RUN_OBJECTIVES);
        let same = |a: &Path, b: &Path| {
            std::fs::canonicalize(a).ok().is_some_and(|a| std::fs::canonicalize(b).ok() == Some(a))
        };
        if !(same(source, &copy) || run.resume && copy.exists()) {
            let text = std::fs::read(source).map_err(|e| {
                TrainError::Config(format!("procedure.objectives = {}: reading it: {e}", source.display()))
            })?;
            std::fs::write(&copy, text).map_err(|source| TrainError::Io { path: copy.clone(), source })?;
        }
        own.procedure.objectives = Some(copy);
        written.procedure.objectives = Some(PathBuf::from(RUN_OBJECTIVES));
    }
    Ok((own, written))
}

/// The model inputs of a packed batch for a model of `vocab_size` ids: where a batch enters the model, so every token
/// and label id is checked against the vocabulary here (an id outside it would otherwise fail as an index panic in
/// the middle of a step).
///
/// # Errors
/// [`ModelError::TokenOutOfVocabulary`] naming the batch's largest id and the vocabulary size.
pub fn sequence_batch(
    b: &PackedBatch,
    conv_width: usize,
    vocab_size: usize,
    device: &Device,
) -> Result<SequenceBatch, ModelError> {
    let largest = b.input_ids.iter().chain(&b.label_ids).copied().max().unwrap_or(0);
    if largest >= 0 && largest as usize >= vocab_size {
        return Err(ModelError::TokenOutOfVocabulary { largest: largest as u32, vocab_size });
    }
    Ok(SequenceBatch::new(
        &b.input_ids,
        &b.label_ids,
        &b.segment_ids,
        &b.attention_mask,
        b.batch_size,
        b.seq_len,
        conv_width,
        device,
    ))
}

/// Trains from step 0 to `run.stop_at`, writing `metrics.jsonl` and `config.toml` into `run.out_dir`; `on_step` sees
/// every step's metrics (progress display).
pub fn train(run: TrainRun, on_step: &mut dyn FnMut(&StepMetrics)) -> Result<Vec<StepMetrics>, TrainError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| TrainError::Io { path: path.clone(), source }
    };
    std::fs::create_dir_all(&run.out_dir).map_err(io(&run.out_dir))?;
    let (own, written) = run_config(&run)?;
    let cfg = &own;
    let config_path = run.out_dir.join("config.toml");
    std::fs::write(&config_path, written.to_toml()).map_err(io(&config_path))?;

    let arms = procedure_arms(cfg)?;
    let kinds: Vec<&str> = arms.iter().map(|a| a.spec.name()).collect();
    // Arm labels for the metrics: the arm's name, with the parameters that tell it apart when several share it.
    let names: Vec<String> = birdie_core::arm::labels(&arms);
    let initial: Vec<f64> = arms.iter().map(|a| a.prob).collect();
    if let Some((name, need)) =
        names.iter().zip(&arms).map(|(n, a)| (n, a.min_budget())).find(|(_, need)| *need > cfg.data.seq_len)
    {
        return Err(TrainError::Config(format!(
            "data.seq_len = {} is shorter than arm {name}'s minimum sample of {need} tokens",
            cfg.data.seq_len
        )));
    }

    let set = Arc::new(ShardSet::open_for(&run.shards, &run.tokenizer).map_err(|e| TrainError::Data(e.to_string()))?);
    let train_docs =
        Arc::new(ShardDocuments::new(set.clone(), Split::Train).map_err(|e| TrainError::Data(e.to_string()))?);
    let val_docs = ShardDocuments::new(set, Split::Validation).map_err(|e| TrainError::Data(e.to_string()))?;
    let specials = run.tokenizer.specials().clone();
    let pipe_cfg = PipelineConfig {
        batch_size: cfg.data.batch_size,
        seq_len: cfg.data.seq_len,
        seed: cfg.seed,
        workers: if cfg.data.workers == 0 { rayon::current_num_threads() } else { cfg.data.workers },
        ..PipelineConfig::default()
    };
    let validation = validation_batches(&arms, &specials, &val_docs, cfg.data.validation_rows, &pipe_cfg)
        .map_err(|e| TrainError::Data(e.to_string()))?;
    let vocab = cfg.model.vocab_size(run.tokenizer.vocab_size());
    let model_cfg: ModelConfig =
        cfg.model.resolve(vocab, cfg.data.seq_len).map_err(|e| TrainError::Config(e.to_string()))?;
    let device = Device::flex().autodiff();
    let mut model: Model = model_cfg.init_seeded(&device, cfg.seed);
    let conv_width = model_cfg.conv_width();
    let mut optim: ModuleOptimizer = crate::optimizer::adamw(&cfg.optimizer);

    let mut controller = if cfg.procedure.name.uses_controller() {
        let rm = crate::reward_model::build(cfg.reward_model.clone(), kinds.len(), cfg.seed);
        let c = Controller::new(cfg.controller.clone(), cfg.total_steps, &kinds, &initial, cfg.seed, rm)
            .map_err(|e| TrainError::Config(e.to_string()))?;
        Some(c)
    } else {
        None
    };
    // --resume: the newest checkpoint that loads completely; a damaged one is reported (naming the file) and the
    // previous one is used.
    let mut resumed: Option<TrainerState> = None;
    if run.resume {
        let all = checkpoint::all(&run.out_dir);
        if all.is_empty() {
            return Err(TrainError::Config(format!(
                "--resume: no checkpoint under {}",
                run.out_dir.join("checkpoints").display()
            )));
        }
        let mut errors = Vec::new();
        for (_, dir) in all {
            match restore(&dir, model.clone(), optim.clone(), controller.as_mut()) {
                Ok((m, o, state)) => {
                    if !errors.is_empty() {
                        tracing::warn!("{}; resuming from {}", errors.join("; "), dir.display());
                    }
                    (model, optim, resumed) = (m, o, Some(state));
                    break;
                }
                Err(e) => errors.push(e.to_string()),
            }
        }
        if resumed.is_none() {
            return Err(TrainError::Config(format!("--resume: no usable checkpoint: {}", errors.join("; "))));
        }
    }
    let mut pipeline =
        Pipeline::start(pipe_cfg, arms, specials, train_docs, resumed.as_ref().map(|s| s.pipeline.clone()))
            .map_err(|e| TrainError::Data(e.to_string()))?;
    if let (None, Some(c)) = (&resumed, &controller) {
        pipeline.set_mixture(c.mixture()).map_err(|e| TrainError::Data(e.to_string()))?;
    }
    let schedule = cfg.controller.schedule(cfg.total_steps);

    let metrics_path = run.out_dir.join("metrics.jsonl");
    let mut first_step = 0u64;
    let mut tokens = 0u64;
    if let Some(state) = &resumed {
        first_step = state.step;
        tokens = state.tokens;
        // Keep the metrics up to the checkpoint; the steps after it are run again.
        let old = std::fs::read_to_string(&metrics_path).unwrap_or_default();
        let kept: String = old
            .lines()
            .filter(|l| {
                serde_json::from_str::<serde_json::Value>(l)
                    .ok()
                    .and_then(|v| v["step"].as_u64())
                    .is_some_and(|s| s <= first_step)
            })
            .map(|l| format!("{l}\n"))
            .collect();
        std::fs::write(&metrics_path, kept).map_err(io(&metrics_path))?;
    } else {
        std::fs::write(&metrics_path, "").map_err(io(&metrics_path))?;
    }
    let mut metrics_file = std::fs::OpenOptions::new().append(true).open(&metrics_path).map_err(io(&metrics_path))?;
    let mut all = Vec::new();
    let mut bad = 0usize;
    let stop = run.stop_at.min(cfg.total_steps);
    for step in first_step..stop {
        let start = Instant::now();
        let packed = pipeline.next_batch().map_err(|e| TrainError::Data(e.to_string()))?;
        let batch = sequence_batch(&packed, conv_width, vocab, &device)?;
        let lr = cfg.learning_rate(step);
        let loss = model.loss(&batch);
        let loss_value = f64::from(loss.clone().into_scalar::<f32>());
        let mut grad_norm = f64::NAN;
        let mut applied = false;
        if loss_value.is_finite() {
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            (model, grad_norm, applied) = clipped_step(&mut optim, lr, model, grads, cfg.optimizer.grad_clip);
        }
        if applied {
            bad = 0;
        } else {
            // A non-finite loss or gradient norm: no update, and the step counts towards divergence.
            bad += 1;
            tracing::warn!(
                "step {step}: loss {loss_value}, gradient norm {grad_norm}: update skipped ({bad} in a row)"
            );
            if bad >= MAX_BAD_STEPS {
                return Err(TrainError::Diverged(bad, step));
            }
        }
        tokens += (packed.batch_size * packed.seq_len) as u64;
        let done = step + 1;
        let secs = start.elapsed().as_secs_f64();
        let eval = if schedule.is_eval_step(done) || done == cfg.total_steps {
            Some(evaluate(&model, &validation, &model_cfg, &names, controller.as_mut(), done, &mut pipeline)?)
        } else {
            None
        };
        let m = StepMetrics {
            step: done,
            train_loss: loss_value,
            lr,
            tokens,
            tokens_per_s: (packed.batch_size * packed.seq_len) as f64 / secs,
            grad_norm,
            eval,
        };
        let line = serde_json::to_string(&m).expect("metrics serialise");
        writeln!(metrics_file, "{line}").map_err(io(&metrics_path))?;
        on_step(&m);
        all.push(m);
        let interrupted = run.interrupt.as_ref().is_some_and(|f| f.load(Ordering::SeqCst));
        if done % cfg.checkpoint.every == 0 || done == stop || interrupted {
            let state = TrainerState {
                format: checkpoint::FORMAT,
                step: done,
                tokens,
                pipeline: pipeline.state().clone(),
                controller: controller.as_ref().map(|c| c.save().0),
            };
            let ckpt = run.out_dir.join("checkpoints");
            checkpoint::save(&run.out_dir, done, cfg.checkpoint.keep, |tmp| {
                let meta = BTreeMap::from([
                    ("format".to_string(), "pt".to_string()),
                    ("birdie_step".to_string(), done.to_string()),
                ]);
                crate::safetensors::write(&model, &tmp.join("model.safetensors"), &meta)
                    .map_err(std::io::Error::other)?;
                let optim_bytes =
                    optim.to_record().into_bytes().map_err(|e| std::io::Error::other(format!("{e:?}")))?;
                checkpoint::write_synced(&tmp.join("optimizer.bpk"), &optim_bytes)?;
                if let Some(c) = controller.as_ref() {
                    checkpoint::write_synced(&tmp.join("reward_model.bin"), &c.save().1)?;
                }
                let json = serde_json::to_vec(&state).expect("trainer state serialises");
                checkpoint::write_synced(&tmp.join("trainer.json"), &json)
            })
            .map_err(io(&ckpt))?;
        }
        if interrupted {
            tracing::warn!("interrupted: stopped after step {done} with a checkpoint");
            break;
        }
    }
    crate::run_plots::render_run(&run.out_dir)?;
    Ok(all)
}

/// Per-arm validation losses (no gradients), handed to the controller when there is one.
fn evaluate(
    model: &Model,
    validation: &[PackedBatch],
    model_cfg: &ModelConfig,
    names: &[String],
    controller: Option<&mut Controller>,
    step: u64,
    pipeline: &mut Pipeline,
) -> Result<EvalMetrics, TrainError> {
    let plain = model.valid();
    let device = Device::flex();
    let losses: Vec<f64> = validation
        .iter()
        .map(|b| {
            let batch = sequence_batch(b, model_cfg.conv_width(), model_cfg.vocab_size(), &device)?;
            Ok(f64::from(plain.loss(&batch).into_scalar::<f32>()))
        })
        .collect::<Result<_, ModelError>>()?;
    let val_loss: Vec<(String, f64)> = names.iter().cloned().zip(losses.iter().copied()).collect();
    let missing: Vec<String> =
        names.iter().zip(&losses).filter(|(_, l)| !l.is_finite()).map(|(n, _)| n.clone()).collect();
    if !missing.is_empty() {
        tracing::warn!(
            "step {step}: validation loss not finite for {}; missing at this evaluation",
            missing.join(", ")
        );
    }
    let Some(c) = controller else {
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
        report = c.record_validation_loss(arm, l).map_err(|e| TrainError::Config(e.to_string()))?;
    }
    let r = report.expect("the last arm's loss completes the evaluation");
    pipeline.set_mixture(&r.mixture).map_err(|e| TrainError::Data(e.to_string()))?;
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

/// Loads a checkpoint into copies of the model and optimiser and into the controller; every file is read and
/// checked before anything is applied, so a damaged checkpoint changes nothing. Errors name the file.
fn restore(
    dir: &Path,
    model: Model,
    optim: ModuleOptimizer,
    controller: Option<&mut Controller>,
) -> Result<(Model, ModuleOptimizer, TrainerState), RestoreError> {
    let read = |name: &str| {
        let path = dir.join(name);
        std::fs::read(&path).map_err(|source| RestoreError::Io { path, source })
    };
    let state_path = dir.join("trainer.json");
    let state: TrainerState = serde_json::from_slice(&read("trainer.json")?)
        .map_err(|source| RestoreError::State { path: state_path.clone(), source })?;
    let optim_record =
        burn::optim::OptimizerRecord::from_bytes(burn::tensor::Bytes::from_bytes_vec(read("optimizer.bpk")?))
            .map_err(|e| RestoreError::Optimizer { path: dir.join("optimizer.bpk"), message: format!("{e:?}") })?;
    let model = crate::safetensors::load_into(model, &dir.join("model.safetensors"))?;
    if let Some(c) = controller {
        let cstate = state.controller.clone().ok_or(RestoreError::NoControllerState(state_path))?;
        let bytes = read("reward_model.bin")?;
        c.restore(cstate, &bytes)
            .map_err(|e| RestoreError::Controller { path: dir.join("reward_model.bin"), message: e.to_string() })?;
    }
    Ok((model, optim.load_record(optim_record), state))
}

/// Why a checkpoint could not be restored; each names the file.
#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: not a trainer state: {source}")]
    State { path: PathBuf, source: serde_json::Error },
    #[error("{path}: not an optimiser record: {message}")]
    Optimizer { path: PathBuf, message: String },
    #[error(transparent)]
    Weights(#[from] crate::safetensors::SafetensorsError),
    #[error("{0}: no controller state")]
    NoControllerState(PathBuf),
    #[error("{path}: {message}")]
    Controller { path: PathBuf, message: String },
}

#[cfg(test)]
mod tests {
    use birdie_core::packing::Batcher;

    use super::*;

    #[test]
    fn token_ids_outside_the_vocabulary_are_a_typed_error_naming_both_sizes() {
        let device = Device::flex();
        let batch = |input: &[u32], label: &[u32]| {
            let mut b = Batcher::new(1, 8, 5);
            b.add(input, label, 0).unwrap();
            b.take()
        };
        // Ids up to vocab − 1 (the start-of-generation token 5 included) enter the model.
        assert!(sequence_batch(&batch(&[1, 2], &[3, 4]), 4, 6, &device).is_ok());
        // A prompt id and a label id past the vocabulary: the error names the largest id and the vocabulary size.
        for (input, label, largest) in [(&[1u32, 700][..], &[3u32][..], 700), (&[1, 2], &[3, 512], 512)] {
            let err = sequence_batch(&batch(input, label), 4, 512, &device).unwrap_err();
            assert_eq!(err, ModelError::TokenOutOfVocabulary { largest, vocab_size: 512 });
            let text = TrainError::from(err).to_string();
            assert!(text.contains(&largest.to_string()) && text.contains("vocabulary of 512"), "{text}");
        }
    }
}
