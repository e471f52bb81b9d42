//! `birdie experiment run FILE` and `birdie experiment report DIR`.

use std::io::Write as _;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use birdie_experiment::runner::{run_experiment, Event, RunData};
use birdie_experiment::Experiment;

use super::run_data;
use crate::cli::{ExperimentCommand, ExperimentRunArgs};

pub fn run(command: ExperimentCommand) -> anyhow::Result<()> {
    match command {
        ExperimentCommand::Run(args) => run_grid(args),
        ExperimentCommand::Report(args) => report(&args.dir),
    }
}

fn run_grid(args: ExperimentRunArgs) -> anyhow::Result<()> {
    let exp = Experiment::load(&args.file)?;
    let root = args
        .out
        .clone()
        .unwrap_or_else(|| args.file.parent().map(Path::to_path_buf).unwrap_or_default().join(&exp.name));
    let base = exp.config(0, exp.seeds[0], exp.lrs[0])?;
    let (tokenizer, shards) = run_data(&base)?;
    let interrupt = Arc::new(AtomicBool::new(false));
    signal_hook::flag::register_conditional_shutdown(signal_hook::consts::SIGINT, 130, interrupt.clone())?;
    signal_hook::flag::register(signal_hook::consts::SIGINT, interrupt.clone())?;
    let data = RunData { tokenizer, shards, device: args.device.choice };
    let mut err = std::io::stderr().lock();
    let mut last_print = std::time::Instant::now();
    let summary = run_experiment(&exp, &root, &data, Some(interrupt), &mut |e| match e {
        Event::RunStart { run, index, total, resumed_from, done } => {
            let what = if done {
                "done".to_string()
            } else if let Some(s) = resumed_from {
                format!("resuming at step {s}")
            } else {
                "training".to_string()
            };
            let _ = writeln!(err, "[{index}/{total}] {}: {what}", run.name);
        }
        Event::Step { run, step, total_steps, loss, eta_seconds } => {
            if step == total_steps || last_print.elapsed().as_secs_f64() >= 10.0 {
                last_print = std::time::Instant::now();
                let eta = eta_seconds.map_or("-".to_string(), format_duration);
                let _ = writeln!(err, "  {}: step {step}/{total_steps}  loss {loss:.3}  grid ETA {eta}", run.name);
            }
        }
        Event::Eval { run, task, seconds, skipped, rerun } => {
            if !skipped {
                let why = if rerun { ", settings changed" } else { "" };
                let _ = writeln!(err, "  {}: eval {task} ({seconds:.1} s{why})", run.name);
            }
        }
    })?;
    let lrs: Vec<String> = exp.variants.iter().zip(&summary.lrs).map(|(v, lr)| format!("{} {lr:e}", v.name)).collect();
    println!(
        "{}: {} runs trained, {} already done, {} evaluations; learning rates: {}",
        root.display(),
        summary.trained,
        summary.skipped,
        summary.evaluations,
        lrs.join(", ")
    );
    println!("next: birdie experiment report {}", root.display());
    Ok(())
}

fn report(dir: &Path) -> anyhow::Result<()> {
    let summary = birdie_experiment::report::write_report(dir)?;
    println!("{summary}");
    Ok(())
}

fn format_duration(seconds: f64) -> String {
    let s = seconds.round() as u64;
    format!("{}h{:02}m{:02}s", s / 3600, s / 60 % 60, s % 60)
}
