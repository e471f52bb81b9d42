//! Running an experiment: trains and evaluates every run that is not done yet, one after another.
//!
//! Re-running continues: a run whose last checkpoint is at `total_steps` is not trained again, a run with an
//! earlier checkpoint resumes from it (exactly, as `birdie train --resume`), and an evaluation whose report
//! (RUN/eval/TASK.json) exists is not run again unless its settings changed: each report has its settings beside it
//! (RUN/eval/TASK.settings.json), and a report whose recorded settings differ from the file's is run again (a report
//! without them, written before settings were recorded, counts as done). The sweep (when there are several learning
//! rates) is trained and scored with `ppl` first; the comparison runs follow at each variant's chosen rate. Evaluations use one fixed
//! seed for every run, so every run answers the same items (the report's paired comparisons rely on it).

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Instant;

use birdie_data::Tokenizer;
use birdie_eval::dictqa::DictQaOptions;
use birdie_eval::finetune::FinetuneOptions;
use birdie_eval::infill::InfillOptions;
use birdie_eval::mqar::MqarOptions;
use birdie_eval::phonebook::PhonebookOptions;
use birdie_eval::ppl::PplOptions;
use birdie_eval::report::EvalReport;
use birdie_eval::selective_copying::SelectiveCopyingOptions;
use birdie_eval::{dictqa, infill, mqar, phonebook, ppl, selective_copying, EvalError, Evaluator};
use birdie_models::DeviceChoice;
use birdie_run::{checkpoint, TrainConfig};
use birdie_train::{train, TrainRun};

use crate::file::{EvalSpec, Experiment};
use crate::grid::{chosen_lrs, comparison_runs, sweep_runs, RunSpec};

/// The seed of every evaluation's items (the same items for every run).
pub const EVAL_SEED: u64 = 0;

/// Errors that stop an experiment (the runs finished so far stay).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{run}: training: {source}")]
    Train { run: String, source: birdie_train::TrainError },
    #[error("{run}: evaluation {task}: {source}")]
    Eval { run: String, task: String, source: Box<birdie_eval::EvalError> },
    #[error("{run}: evaluation {task}: {source}")]
    EvalReport { run: String, task: String, source: birdie_eval::report::ReportFileError },
    #[error("{run}: config: {source}")]
    Config { run: String, source: Box<birdie_run::ConfigError> },
    #[error("{run}: {message}")]
    OtherSettings { run: String, message: String },
    #[error("{run}: interrupted; run the experiment again to continue")]
    Interrupted { run: String },
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("choosing learning rates: {0}")]
    LrChoice(#[from] crate::grid::MissingPpl),
}

/// What the runner reports while it works.
#[derive(Debug, Clone)]
pub enum Event<'a> {
    /// Run `index` of `total` starts (`resumed_from`: its checkpoint step), or is already done (`done`).
    RunStart { run: &'a RunSpec, index: usize, total: usize, resumed_from: Option<u64>, done: bool },
    /// A training step finished; `eta_seconds` estimates the rest of the grid from the steps timed so far.
    Step { run: &'a RunSpec, step: u64, total_steps: u64, loss: f64, eta_seconds: Option<f64> },
    /// An evaluation ran (or was found done); `rerun`: it ran again because its settings changed.
    Eval { run: &'a RunSpec, task: &'a str, seconds: f64, skipped: bool, rerun: bool },
}

/// The data every run reads (resolved once from the base config by the caller).
pub struct RunData {
    pub tokenizer: Tokenizer,
    pub shards: PathBuf,
    /// Where every run trains and is evaluated (`--device`; the experiment file's `[set] run.device` otherwise).
    pub device: Option<DeviceChoice>,
}

/// What a call did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunSummary {
    pub trained: usize,
    pub skipped: usize,
    pub evaluations: usize,
    /// Each variant's learning rate.
    pub lrs: Vec<f64>,
}

/// Runs the experiment into `root` (`root/experiment.toml` is the file's copy, `root/runs/NAME/` the runs).
pub fn run_experiment(
    exp: &Experiment,
    root: &Path,
    data: &RunData,
    interrupt: Option<Arc<AtomicBool>>,
    on_event: &mut dyn FnMut(Event<'_>),
) -> Result<RunSummary, RunError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| RunError::Io { path: path.clone(), source }
    };
    std::fs::create_dir_all(root.join("runs")).map_err(io(root))?;
    let copy = root.join("experiment.toml");
    std::fs::write(&copy, &exp.text).map_err(io(&copy))?;
    let mut summary = RunSummary::default();
    let mut clock = Clock::new(exp);
    let sweep = sweep_runs(exp);
    let ppl_only: Vec<EvalSpec> = vec![exp
        .evals
        .iter()
        .find(|e| matches!(e, EvalSpec::Ppl { .. }))
        .cloned()
        .unwrap_or(EvalSpec::Ppl { max_tokens: 16_384 })];
    // Runs to train: the sweep plus the comparison's seeds it does not cover.
    let covered = if sweep.is_empty() { 0 } else { exp.sweep_seeds };
    clock.remaining_runs = sweep.len() + exp.variants.len() * (exp.seeds.len() - covered);
    let mut index = 0;
    let total = clock.remaining_runs;
    for run in &sweep {
        index += 1;
        train_run(exp, root, run, data, (index, total), &interrupt, &mut clock, &mut summary, on_event)?;
        evaluate_run(root, run, data, &ppl_only, &mut summary, on_event)?;
    }
    let lrs = chosen_lrs(exp, root).map_err(RunError::LrChoice)?;
    for run in comparison_runs(exp, &lrs) {
        let in_sweep = sweep.contains(&run);
        if !in_sweep {
            index += 1;
            train_run(exp, root, &run, data, (index, total), &interrupt, &mut clock, &mut summary, on_event)?;
        }
        evaluate_run(root, &run, data, &exp.evals, &mut summary, on_event)?;
    }
    summary.lrs = lrs;
    Ok(summary)
}

/// Seconds per training step measured in this call, for the grid's ETA.
struct Clock {
    steps_per_run: u64,
    remaining_runs: usize,
    timed_steps: u64,
    timed_seconds: f64,
}

impl Clock {
    fn new(exp: &Experiment) -> Self {
        let steps = exp.config(0, exp.seeds[0], exp.lrs[0]).map(|c| c.total_steps).unwrap_or(0);
        Clock { steps_per_run: steps, remaining_runs: 0, timed_steps: 0, timed_seconds: 0.0 }
    }

    fn eta(&self, steps_left_in_run: u64) -> Option<f64> {
        (self.timed_steps > 0).then(|| {
            let per_step = self.timed_seconds / self.timed_steps as f64;
            let left = steps_left_in_run + self.steps_per_run * self.remaining_runs.saturating_sub(1) as u64;
            per_step * left as f64
        })
    }
}

#[allow(clippy::too_many_arguments)]
fn train_run(
    exp: &Experiment,
    root: &Path,
    run: &RunSpec,
    data: &RunData,
    (index, total): (usize, usize),
    interrupt: &Option<Arc<AtomicBool>>,
    clock: &mut Clock,
    summary: &mut RunSummary,
    on_event: &mut dyn FnMut(Event<'_>),
) -> Result<(), RunError> {
    let mut config = exp
        .config(run.variant, run.seed, run.lr)
        .map_err(|source| RunError::Config { run: run.name.clone(), source: Box::new(source) })?;
    if let Some(device) = data.device {
        config.run.device = device;
    }
    let dir = run.dir(root);
    if let Some(differs) = trained_with_other_settings(&dir, &config) {
        return Err(RunError::OtherSettings {
            run: run.name.clone(),
            message: format!(
                "{} was trained with other settings than the file gives it now ({differs}); move that run \
                 directory away to train it anew, or restore the file",
                dir.join("config.toml").display()
            ),
        });
    }
    let last = checkpoint::latest(&dir).map(|(step, _)| step);
    let done = last == Some(config.total_steps);
    on_event(Event::RunStart { run, index, total, resumed_from: last.filter(|_| !done), done });
    if done {
        summary.skipped += 1;
        clock.remaining_runs = clock.remaining_runs.saturating_sub(1);
        return Ok(());
    }
    let total_steps = config.total_steps;
    let train_run = TrainRun {
        config,
        tokenizer: data.tokenizer.clone(),
        shards: data.shards.clone(),
        out_dir: dir,
        stop_at: total_steps,
        resume: last.is_some(),
        interrupt: interrupt.clone(),
    };
    let mut previous = Instant::now();
    train(train_run, &mut |m| {
        let now = Instant::now();
        if m.eval.is_none() {
            clock.timed_steps += 1;
            clock.timed_seconds += (now - previous).as_secs_f64();
        }
        previous = now;
        let eta_seconds = clock.eta(total_steps - m.step);
        on_event(Event::Step { run, step: m.step, total_steps, loss: m.train_loss, eta_seconds });
    })
    .map_err(|source| RunError::Train { run: run.name.clone(), source })?;
    if let Some(flag) = interrupt {
        if flag.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(RunError::Interrupted { run: run.name.clone() });
        }
    }
    summary.trained += 1;
    clock.remaining_runs = clock.remaining_runs.saturating_sub(1);
    Ok(())
}

/// A run directory's recorded config differs from `config` (data and objectives paths aside, which a moved
/// checkout changes): the first differing line of the two, or `None` when they agree or nothing was recorded.
fn trained_with_other_settings(dir: &Path, config: &TrainConfig) -> Option<String> {
    let recorded = TrainConfig::load_run(dir).ok()?;
    let without_paths = |c: &TrainConfig| {
        let mut c = c.clone();
        (c.data.tokenizer, c.data.shards, c.procedure.objectives) = (String::new(), String::new(), None);
        c.run = Default::default(); // where a run computes is not what it learns
        c.to_toml()
    };
    let (was, now) = (without_paths(&recorded), without_paths(config));
    (was != now).then(|| {
        let mut lines = was.lines().zip(now.lines()).filter(|(a, b)| a != b);
        lines.next().map_or("a section was added or removed".into(), |(a, b)| format!("was `{a}`, now `{b}`"))
    })
}

fn evaluate_run(
    root: &Path,
    run: &RunSpec,
    data: &RunData,
    evals: &[EvalSpec],
    summary: &mut RunSummary,
    on_event: &mut dyn FnMut(Event<'_>),
) -> Result<(), RunError> {
    let dir = run.dir(root);
    let mut ev: Option<Evaluator> = None;
    for spec in evals {
        let task = spec.task();
        let path = dir.join("eval").join(format!("{task}.json"));
        let settings_path = dir.join("eval").join(format!("{task}{}", birdie_eval::report::SETTINGS_SUFFIX));
        let fail = |source| RunError::Eval { run: run.name.clone(), task: task.into(), source: Box::new(source) };
        let settings = serde_json::to_string_pretty(spec).expect("evaluation settings serialise");
        let stale = match std::fs::read_to_string(&settings_path) {
            Ok(recorded) => !same_settings(&recorded, spec),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
            Err(e) => return Err(RunError::Io { path: settings_path, source: e }),
        };
        if path.exists() && !stale {
            on_event(Event::Eval { run, task, seconds: 0.0, skipped: true, rerun: false });
            continue;
        }
        if ev.is_none() {
            let device = match data.device {
                Some(d) => d,
                None => TrainConfig::load_run(&dir).map(|c| c.run.device).unwrap_or_default(),
            };
            let device = device.device().map_err(|e| fail(EvalError::Device(e)))?;
            ev = Some(Evaluator::open(&dir, None, &device).map_err(fail)?);
        }
        let ev = ev.as_mut().expect("opened above");
        let started = Instant::now();
        let report = evaluate(ev, spec).map_err(fail)?;
        report.write(&path).map_err(|source| RunError::EvalReport {
            run: run.name.clone(),
            task: task.into(),
            source,
        })?;
        std::fs::write(&settings_path, settings)
            .map_err(|e| RunError::Io { path: settings_path.clone(), source: e })?;
        summary.evaluations += 1;
        on_event(Event::Eval { run, task, seconds: started.elapsed().as_secs_f64(), skipped: false, rerun: stale });
    }
    Ok(())
}

/// Whether recorded settings (a JSON [`EvalSpec`]) are `spec`'s; unreadable ones count as different.
fn same_settings(recorded: &str, spec: &EvalSpec) -> bool {
    serde_json::from_str::<EvalSpec>(recorded).is_ok_and(|r| &r == spec)
}

/// One evaluation of the file's list, at [`EVAL_SEED`].
pub fn evaluate(ev: &mut Evaluator, spec: &EvalSpec) -> Result<EvalReport, EvalError> {
    let seed = EVAL_SEED;
    let quiet = &mut |_: usize, _: usize| {};
    match spec {
        EvalSpec::Phonebook { entries, queries, n, format, digits, finetune, finetune_lr, finetune_batch } => {
            let mut o = PhonebookOptions {
                entries: entries.clone(),
                queries: queries.clone(),
                n: *n,
                digits: *digits,
                seed,
                finetune: FinetuneOptions { steps: *finetune, seed, ..FinetuneOptions::default() },
                ..PhonebookOptions::default()
            };
            if let Some(f) = format {
                o.format = f.parse()?;
            }
            if let Some(lr) = finetune_lr {
                o.finetune.lr = *lr;
            }
            if let Some(b) = finetune_batch {
                o.finetune.batch_size = *b;
            }
            phonebook::run(ev, &o, quiet)
        }
        EvalSpec::Mqar { settings, n } => {
            mqar::run_checkpoint(ev, &MqarOptions { settings: settings.clone(), n: *n, seed, train: None })
        }
        EvalSpec::Dictqa { entries, n } => {
            dictqa::run(ev, &DictQaOptions { entries: entries.clone(), n: *n, seed, ..Default::default() }, quiet)
        }
        EvalSpec::Infill { n } => infill::run(ev, &InfillOptions { n: *n, seed }, quiet),
        EvalSpec::Ppl { max_tokens } => {
            ppl::run(ev, &PplOptions { max_tokens: *max_tokens, seed, ..Default::default() }, quiet)
        }
        EvalSpec::SelectiveCopying { spans, n } => selective_copying::run(
            ev,
            &SelectiveCopyingOptions { spans: spans.clone(), n: *n, seed, ..Default::default() },
            quiet,
        ),
    }
}
