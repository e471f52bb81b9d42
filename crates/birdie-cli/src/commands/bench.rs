//! `birdie bench pipeline`: data pipeline throughput.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use birdie_core::config::{arms_from_toml, preset, PRESETS};
use birdie_core::pipeline::{ArmStats, ShardDocuments};
use birdie_core::{Arm, Pipeline, PipelineConfig};
use birdie_data::{ShardSet, Split};

use super::{bundled_shards, load_tokenizer};
use crate::cli::{BenchCommand, BenchPipelineArgs};

pub fn run(command: BenchCommand) -> anyhow::Result<()> {
    match command {
        BenchCommand::Pipeline(args) => pipeline(args),
    }
}

/// Arms of a preset name or a TOML file.
pub fn load_arms(config: &str) -> anyhow::Result<Vec<Arm>> {
    if PRESETS.contains(&config) || !Path::new(config).exists() {
        return Ok(preset(config)?);
    }
    let text = std::fs::read_to_string(config).with_context(|| format!("reading {config}"))?;
    Ok(arms_from_toml(&text, config)?)
}

fn pipeline(args: BenchPipelineArgs) -> anyhow::Result<()> {
    let tok = load_tokenizer(None)?;
    let arms = load_arms(&args.config)?;
    let dir = match &args.shards {
        Some(d) => d.clone(),
        None => bundled_shards(&tok)?,
    };
    let set = Arc::new(ShardSet::open_for(&dir, &tok)?);
    let source = Arc::new(ShardDocuments::new(set, Split::Train)?);
    let workers = rayon::current_num_threads();
    let cfg = PipelineConfig {
        batch_size: args.batch,
        seq_len: args.seq,
        seed: args.seed,
        workers,
        ..PipelineConfig::default()
    };
    let names: Vec<String> = arms.iter().map(|a| a.name.clone()).collect();
    let mut p = Pipeline::start(cfg, arms, tok.specials().clone(), source, None)?;
    // Warm-up: fill the prefetch queue and page in the shards.
    let warm = Instant::now();
    while warm.elapsed() < Duration::from_millis(500) {
        p.next_batch()?;
    }
    let before: Vec<ArmStats> = p.state().stats.clone();
    let start = Instant::now();
    let (mut batches, mut filled, mut samples, mut slots) = (0u64, 0u64, 0u64, 0u64);
    while start.elapsed().as_secs_f64() < args.seconds {
        let b = p.next_batch()?;
        batches += 1;
        filled += b.filled() as u64;
        samples += b.segments.len() as u64;
        slots += (b.batch_size * b.seq_len) as u64;
    }
    let secs = start.elapsed().as_secs_f64();
    let mut out = std::io::stdout().lock();
    writeln!(out, "packed: {} tokens/s", si(filled as f64 / secs))?;
    writeln!(
        out,
        "samples: {:.0}/s  batches: {:.1}/s  ({} workers, seq {} × batch {})",
        samples as f64 / secs,
        batches as f64 / secs,
        workers,
        args.seq,
        args.batch
    )?;
    writeln!(out, "fill: {:.1}%", 100.0 * filled as f64 / slots.max(1) as f64)?;
    let stats: Vec<ArmStats> = p
        .state()
        .stats
        .iter()
        .zip(&before)
        .map(|(a, b)| ArmStats {
            samples: a.samples - b.samples,
            input_tokens: a.input_tokens - b.input_tokens,
            label_tokens: a.label_tokens - b.label_tokens,
            text_tokens: a.text_tokens - b.text_tokens,
            failures: a.failures - b.failures,
            skipped_tokens: a.skipped_tokens - b.skipped_tokens,
        })
        .collect();
    let total_tokens: u64 = stats.iter().map(ArmStats::packed_tokens).sum();
    let total_samples: u64 = stats.iter().map(|s| s.samples).sum();
    writeln!(out, "{:<34} {:>8} {:>8} {:>9}", "arm", "samples", "tokens", "failures")?;
    for (name, s) in names.iter().zip(&stats) {
        writeln!(
            out,
            "{:<34} {:>7.1}% {:>7.1}% {:>9}",
            name,
            100.0 * s.samples as f64 / total_samples.max(1) as f64,
            100.0 * s.packed_tokens() as f64 / total_tokens.max(1) as f64,
            s.failures
        )?;
    }
    Ok(())
}

/// A rate with a k/M/G suffix.
fn si(x: f64) -> String {
    if x >= 1e9 {
        format!("{:.1} G", x / 1e9)
    } else if x >= 1e6 {
        format!("{:.1} M", x / 1e6)
    } else if x >= 1e3 {
        format!("{:.1} k", x / 1e3)
    } else {
        format!("{x:.1}")
    }
}
