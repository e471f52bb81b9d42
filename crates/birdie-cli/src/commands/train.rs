//! `birdie train`: one training run with a progress bar; outputs under the run directory.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use birdie_run::TrainConfig;
use birdie_train::{train, TrainRun};
use indicatif::{ProgressBar, ProgressStyle};

use super::run_data;
use crate::cli::TrainArgs;

pub fn run(args: TrainArgs) -> anyhow::Result<()> {
    let name = Path::new(&args.config).file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let out_dir = args.out.clone().unwrap_or_else(|| PathBuf::from("runs").join(&name));
    let mut config = if args.resume {
        let own = out_dir.join("config.toml");
        anyhow::ensure!(own.exists(), "--resume: {} does not exist (no run to continue there)", own.display());
        TrainConfig::load_run(&out_dir)?
    } else {
        TrainConfig::load(&args.config)?
    };
    if let Some(seed) = args.seed {
        anyhow::ensure!(
            !args.resume || seed == config.seed,
            "--seed {seed} differs from the resumed run's seed {}",
            config.seed
        );
        config.seed = seed;
    }
    if let Some(device) = args.device.choice {
        config.run.device = device;
    }
    if let Some(precision) = args.precision {
        config.run.precision = precision;
    }
    let stop_at = args.steps.unwrap_or(config.total_steps);
    anyhow::ensure!(
        stop_at <= config.total_steps,
        "--steps {stop_at} is past the config's total_steps = {} (--steps is the absolute step to stop at)",
        config.total_steps
    );
    let (tokenizer, shards) = run_data(&config)?;
    let bar = ProgressBar::new(stop_at);
    bar.set_style(
        ProgressStyle::with_template("step {pos}/{len} [{elapsed_precise} < {eta_precise}] {msg}")
            .expect("static template"),
    );
    // Ctrl-C: finish the current step, write a checkpoint, stop; a second Ctrl-C exits at once.
    let interrupt = Arc::new(AtomicBool::new(false));
    signal_hook::flag::register_conditional_shutdown(signal_hook::consts::SIGINT, 130, interrupt.clone())?;
    signal_hook::flag::register(signal_hook::consts::SIGINT, interrupt.clone())?;
    let run = TrainRun {
        config,
        tokenizer,
        shards,
        out_dir: out_dir.clone(),
        stop_at,
        resume: args.resume,
        interrupt: Some(interrupt.clone()),
    };
    let mut top = String::new();
    let metrics = train(run, &mut |m| {
        bar.set_position(m.step);
        let mut msg = format!("loss {:.3}  lr {:.2e}  {:.0} tok/s", m.train_loss, m.lr, m.tokens_per_s);
        if let Some(e) = &m.eval {
            let mean = e.val_loss.iter().map(|(_, l)| l).sum::<f64>() / e.val_loss.len().max(1) as f64;
            msg.push_str(&format!("  val {mean:.3}"));
            let mut order: Vec<usize> = (0..e.mixture.len()).collect();
            order.sort_by(|&a, &b| e.mixture[b].total_cmp(&e.mixture[a]));
            top = order
                .iter()
                .take(3)
                .map(|&i| format!("{} {:.2}", e.val_loss.get(i).map_or("?", |(n, _)| n.as_str()), e.mixture[i]))
                .collect::<Vec<_>>()
                .join(", ");
        }
        if !top.is_empty() {
            msg.push_str(&format!("  top: {top}"));
        }
        bar.set_message(msg);
    })?;
    bar.finish_and_clear();
    let last = metrics.last();
    let step = last.map_or(0, |m| m.step);
    if interrupt.load(Ordering::SeqCst) && step < stop_at {
        println!(
            "interrupted after step {step}: checkpoint written; continue with --resume --out {}",
            out_dir.display()
        );
    }
    println!("trained {step} steps; final loss {}", last.map_or("-".into(), |m| format!("{:.4}", m.train_loss)));
    println!(
        "outputs: {} (metrics.jsonl, config.toml, checkpoints/, training_loss, validation_loss and mixture plots as .png and .svg)",
        out_dir.display()
    );
    Ok(())
}
