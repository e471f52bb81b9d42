//! [`Training`]: a run set up and under way — its model, optimiser, controller and pipeline — and one step of it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use birdie_core::controller::EvalSchedule;
use birdie_core::pipeline::{validation_batches, ShardDocuments};
use birdie_core::{Controller, PackedBatch, Pipeline, PipelineConfig};
use birdie_data::{ShardSet, Split};
use birdie_models::{Model, ModelConfig};
use birdie_run::{clipped_step, procedure_arms, sequence_batch, TrainConfig};
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::prelude::*;

use super::{evaluation, resume, StepMetrics, TrainError, TrainRun, MAX_BAD_STEPS};

/// The copy of a `custom` procedure's objectives file in the run directory, which the run's `config.toml` names.
pub const RUN_OBJECTIVES: &str = "objectives.toml";

/// A run under way.
pub struct Training {
    /// The config it trains with (a `custom` procedure's objectives read from the run directory's copy).
    pub config: TrainConfig,
    pub model_config: ModelConfig,
    /// Arm labels for the metrics: each arm's name, with the parameters that tell it apart when several share it.
    pub arm_names: Vec<String>,
    /// Taken out for the optimiser step, which consumes it; present between steps ([`Training::model`]).
    model: Option<Model>,
    pub optimizer: ModuleOptimizer,
    pub controller: Option<Controller>,
    pub pipeline: Pipeline,
    /// Per-arm validation batches, fixed for the run.
    pub validation: Vec<PackedBatch>,
    /// The evaluation steps (with or without a controller).
    schedule: EvalSchedule,
    /// Steps completed.
    pub completed: u64,
    /// Tokens (input positions) trained on.
    pub tokens: u64,
    /// Non-finite steps in a row.
    bad_steps: usize,
    pub(super) device: Device,
}

impl Training {
    /// The model being trained.
    pub fn model(&self) -> &Model {
        self.model.as_ref().expect("the model is present between steps")
    }

    /// Sets `run` up: writes its `config.toml`, reads its arms and data, builds the model, optimiser and controller
    /// (seeded by the config's seed), restores the latest checkpoint with `run.resume`, and starts the pipeline.
    pub fn start(run: &TrainRun) -> Result<Training, TrainError> {
        std::fs::create_dir_all(&run.out_dir).map_err(TrainError::write(&run.out_dir))?;
        let config = run_config(run)?;
        let cfg = &config;
        let arms = procedure_arms(cfg)?;
        let arm_names = birdie_core::arm::labels(&arms);
        if let Some((name, need)) =
            arm_names.iter().zip(&arms).map(|(n, a)| (n, a.min_budget())).find(|(_, need)| *need > cfg.data.seq_len)
        {
            return Err(TrainError::SeqLenTooShort { seq_len: cfg.data.seq_len, arm: name.clone(), need });
        }

        let set = Arc::new(ShardSet::open_for(&run.shards, &run.tokenizer)?);
        let train_docs = Arc::new(ShardDocuments::new(set.clone(), Split::Train)?);
        let val_docs = ShardDocuments::new(set, Split::Validation)?;
        let specials = run.tokenizer.specials().clone();
        let pipe_cfg = PipelineConfig {
            batch_size: cfg.data.batch_size,
            seq_len: cfg.data.seq_len,
            seed: cfg.seed,
            workers: if cfg.data.workers == 0 { rayon::current_num_threads() } else { cfg.data.workers },
            ..PipelineConfig::default()
        };
        let validation = validation_batches(&arms, &specials, &val_docs, cfg.data.validation_rows, &pipe_cfg)?;
        let vocab = cfg.model.vocab_size(run.tokenizer.vocab_size());
        let model_config = cfg.model.resolve(vocab, cfg.data.seq_len)?;
        cfg.run.precision.check(cfg.run.device)?;
        let device = cfg.run.device.device()?.autodiff();
        let mut model = model_config.init_seeded(&device, cfg.seed);
        let mut optimizer = birdie_run::optimizer::adamw(&cfg.optimizer);
        let mut controller = if cfg.procedure.name.uses_controller() {
            let kinds: Vec<&str> = arms.iter().map(|a| a.spec.name()).collect();
            let initial: Vec<f64> = arms.iter().map(|a| a.prob).collect();
            let rm = crate::reward_model::build(cfg.reward_model.clone(), kinds.len(), cfg.seed);
            Some(Controller::new(cfg.controller.clone(), cfg.total_steps, &kinds, &initial, cfg.seed, rm)?)
        } else {
            None
        };
        let resumed = if run.resume {
            let (m, o, state) = resume::latest(&run.out_dir, model, optimizer, controller.as_mut())?;
            (model, optimizer) = (m, o);
            Some(state)
        } else {
            None
        };
        let (completed, tokens) = resumed.as_ref().map_or((0, 0), |s| (s.step, s.tokens));
        let mut pipeline = Pipeline::start(pipe_cfg, arms, specials, train_docs, resumed.map(|s| s.pipeline))?;
        if let (0, Some(c)) = (completed, &controller) {
            pipeline.set_mixture(c.mixture())?;
        }
        let schedule = config.controller.schedule(config.total_steps);
        Ok(Training {
            config,
            model_config,
            arm_names,
            model: Some(model),
            optimizer,
            controller,
            pipeline,
            validation,
            schedule,
            completed,
            tokens,
            bad_steps: 0,
            device,
        })
    }

    /// One step: the next batch's loss, backward, clip and AdamW update (none for a non-finite loss or gradient
    /// norm, which counts towards divergence), then the validation losses and the controller's update at an
    /// evaluation step.
    pub fn step(&mut self) -> Result<StepMetrics, TrainError> {
        let start = Instant::now();
        let step = self.completed;
        let cfg = &self.config;
        let packed = self.pipeline.next_batch()?;
        let batch =
            sequence_batch(&packed, self.model_config.conv_width(), self.model_config.vocab_size(), &self.device)?;
        let lr = cfg.learning_rate(step);
        let model = self.model.take().expect("the model is present between steps");
        let loss = cfg.run.precision.loss(&model, &batch);
        let loss_value = f64::from(loss.clone().into_scalar::<f32>());
        let (model, grad_norm, applied) = if loss_value.is_finite() {
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            clipped_step(&mut self.optimizer, lr, model, grads, cfg.optimizer.grad_clip)
        } else {
            (model, f64::NAN, false)
        };
        self.model = Some(model);
        if applied {
            self.bad_steps = 0;
        } else {
            self.bad_steps += 1;
            tracing::warn!(
                "step {step}: loss {loss_value}, gradient norm {grad_norm}: update skipped ({} in a row)",
                self.bad_steps
            );
            if self.bad_steps >= MAX_BAD_STEPS {
                return Err(TrainError::Diverged(self.bad_steps, step));
            }
        }
        let positions = (packed.batch_size * packed.seq_len) as u64;
        self.tokens += positions;
        self.completed = step + 1;
        let secs = start.elapsed().as_secs_f64();
        let done = self.completed;
        let eval = if self.schedule.is_eval_step(done) || done == cfg.total_steps {
            Some(evaluation::evaluate(self)?)
        } else {
            None
        };
        Ok(StepMetrics {
            step: done,
            train_loss: loss_value,
            lr,
            tokens: self.tokens,
            tokens_per_s: positions as f64 / secs,
            grad_norm,
            eval,
        })
    }
}

/// The config a run trains with; its `config.toml` is written here. A `custom` procedure's objectives file is copied
/// into the run directory ([`RUN_OBJECTIVES`]) at the start, so `--resume` and evaluation read the arms the run
/// trained on whatever happens to the original; the written config names the copy relative to the run directory
/// ([`TrainConfig::load_run`] resolves it). A resumed run keeps its copy.
fn run_config(run: &TrainRun) -> Result<TrainConfig, TrainError> {
    let (mut own, mut written) = (run.config.clone(), run.config.clone());
    if let Some(source) = &run.config.procedure.objectives {
        let copy = run.out_dir.join(RUN_OBJECTIVES);
        let same = |a: &Path, b: &Path| {
            std::fs::canonicalize(a).ok().is_some_and(|a| std::fs::canonicalize(b).ok() == Some(a))
        };
        if !(same(source, &copy) || run.resume && copy.exists()) {
            let text = std::fs::read(source).map_err(|e| TrainError::Read { path: source.clone(), source: e })?;
            std::fs::write(&copy, text).map_err(TrainError::write(&copy))?;
        }
        own.procedure.objectives = Some(copy);
        written.procedure.objectives = Some(PathBuf::from(RUN_OBJECTIVES));
    }
    let config_path = run.out_dir.join("config.toml");
    std::fs::write(&config_path, written.to_toml()).map_err(TrainError::write(&config_path))?;
    Ok(own)
}
