//! `birdie controller simulate`: the controller against a synthetic training process (and `--bench`).

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use birdie_core::config::preset;
use birdie_core::controller::simulator::{run_simulation, simulation_config, SimulatedProcess};
use birdie_core::{Controller, ControllerConfig};
use birdie_train::reward_model;
use birdie_train::RewardModelConfig;
use serde::Deserialize;

use crate::choices::ProcessChoice;
use crate::cli::{ControllerCommand, SimulateArgs};

pub fn run(command: ControllerCommand) -> anyhow::Result<()> {
    match command {
        ControllerCommand::Simulate(args) if args.bench => bench(args),
        ControllerCommand::Simulate(args) => simulate(args),
    }
}

/// The `[controller]` and `[reward_model]` tables of a config file (other tables are ignored).
#[derive(Debug, Default, Deserialize)]
struct Tables {
    #[serde(default)]
    controller: ControllerConfig,
    #[serde(default)]
    reward_model: RewardModelConfig,
}

fn read_tables(path: Option<&Path>) -> anyhow::Result<Tables> {
    let Some(path) = path else { return Ok(Tables::default()) };
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut table: toml::Table = toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    table.retain(|k, _| k == "controller" || k == "reward_model");
    let tables: Tables = table.try_into().with_context(|| format!("{}", path.display()))?;
    tables.controller.validate().with_context(|| format!("{}", path.display()))?;
    tables.reward_model.validate().with_context(|| format!("{}", path.display()))?;
    Ok(tables)
}

/// Kinds of the birdie preset's first 15 arms (the controller issue's synthetic process).
fn birdie_kinds() -> anyhow::Result<Vec<String>> {
    Ok(preset("birdie")?.iter().take(15).map(|a| a.spec.name().to_string()).collect())
}

fn short(kind: &str) -> &str {
    match kind {
        "prefix_language_modeling" => "plm",
        "infilling" => "inf",
        "next_token_prediction" => "ntp",
        "selective_copying" => "sc",
        "copying" => "copy",
        "deshuffling" => "desh",
        "autoencoding" => "ae",
        "autoencoding_with_deshuffling" => "aed",
        other => other,
    }
}

fn simulate(args: SimulateArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.evals >= 2, "--evals {}: expected at least 2", args.evals);
    let tables = read_tables(args.config.as_deref())?;
    let kinds = birdie_kinds()?;
    anyhow::ensure!((0.0..=1.0).contains(&args.delay), "--delay {}: expected a share in [0, 1]", args.delay);
    let mut process = match args.process {
        ProcessChoice::Birdie => SimulatedProcess::birdie(&kinds),
        ProcessChoice::OneBest => SimulatedProcess::one_best_arm(&kinds, 3),
    };
    process.delay = args.delay;
    let k = kinds.len();
    let model = reward_model::build(tables.reward_model.clone(), k, args.seed);
    let mut config = simulation_config(&tables.controller);
    config.class_normalisation = args.class_normalisation;
    let mut controller = Controller::new(config, args.evals as u64, &kinds, &vec![1.0; k], args.seed, model)?;
    let (reports, reduction) = run_simulation(&process, &mut controller, args.evals, args.seed)?;
    let uniform = process.fixed_mixture_reduction(&vec![1.0 / k as f64; k], args.evals, args.seed);
    let (_, best) = process.best_fixed(args.evals, args.seed, 2000);
    let mut out = std::io::stdout().lock();
    if !args.brief {
        let names: Vec<String> = kinds.iter().enumerate().map(|(i, kd)| format!("{}{}", short(kd), i)).collect();
        writeln!(out, "arms: {}", names.join(" "))?;
        for r in &reports {
            let mut order: Vec<usize> = (0..k).collect();
            order.sort_by(|&a, &b| r.mixture[b].total_cmp(&r.mixture[a]));
            let top: Vec<String> = order.iter().take(4).map(|&i| format!("{} {:.2}", names[i], r.mixture[i])).collect();
            let rewards = r.rewards.as_ref().map_or("-".to_string(), |v| {
                let mean = v.iter().sum::<f64>() / v.len() as f64;
                format!("mean {mean:+.3} saturated {:.0}%", 100.0 * r.saturated_share.unwrap_or(0.0))
            });
            let mode = if !r.agent {
                "initial"
            } else if r.explored {
                "explore"
            } else {
                "exploit"
            };
            let fit = r.reward_model.map_or("-".to_string(), |m| format!("{:.4}", m.final_mse));
            writeln!(
                out,
                "eval {:>3}  loss {:.3}  rewards {rewards:<28}  fit {fit:<6}  {mode:<7}  top: {}",
                r.step,
                r.losses.iter().flatten().sum::<f64>() / k as f64,
                top.join(", ")
            )?;
        }
    }
    let exploit: Vec<f64> =
        reports.iter().filter(|r| r.agent && !r.explored).map(|r| distance_from_uniform(&r.mixture)).collect();
    if !exploit.is_empty() {
        writeln!(
            out,
            "exploit decisions: {}, total variation from uniform mean {:.3}, max {:.3}",
            exploit.len(),
            exploit.iter().sum::<f64>() / exploit.len() as f64,
            exploit.iter().copied().fold(0.0, f64::max)
        )?;
    }
    writeln!(
        out,
        "vs uniform: {:+.1}%  vs best fixed: {:+.1}%",
        100.0 * (reduction - uniform) / uniform,
        100.0 * (reduction - best) / best
    )?;
    Ok(())
}

/// Total variation distance of a mixture from the uniform one: ½ Σ |p_i − 1/K|.
fn distance_from_uniform(p: &[f64]) -> f64 {
    let k = p.len() as f64;
    0.5 * p.iter().map(|x| (x - 1.0 / k).abs()).sum::<f64>()
}

fn bench(args: SimulateArgs) -> anyhow::Result<()> {
    let tables = read_tables(args.config.as_deref())?;
    let k = 15;
    let rows = 40;
    let history: Vec<Vec<f32>> =
        (0..rows)
            .map(|r| {
                (0..2 * k)
                    .map(|i| {
                        if i < k {
                            6.0 - 0.02 * r as f32 - 0.01 * i as f32
                        } else {
                            ((r * 7 + i * 3) % 11) as f32 / 70.0
                        }
                    })
                    .collect()
            })
            .collect();
    let targets: Vec<Vec<f32>> =
        (0..rows).map(|r| (0..k).map(|i| (((r + i) % 9) as f32 - 4.0) / 10.0).collect()).collect();
    let cfg = &tables.controller;
    let candidates = birdie_core::controller::candidates(
        cfg.candidates,
        cfg.num_candidates(),
        k,
        &mut birdie_core::SampleRng::from_seed_u64(args.seed),
    );
    let cand_rows: Vec<Vec<f32>> = candidates
        .iter()
        .map(|c| history[rows - 1][..k].iter().copied().chain(c.iter().map(|&v| v as f32)).collect())
        .collect();
    let config = &tables.reward_model;
    let (update, train, score) = time_updates(config, &history, &targets, &cand_rows, args.seed);
    let iterations = config.iterations.max(1) as f64;
    let mut out = std::io::stdout().lock();
    writeln!(out, "update: {:.0} ms", update * 1e3)?;
    writeln!(
        out,
        "train: {:.2} ms per iteration ({iterations} iterations on {:.0}% of the {rows} history rows each)",
        train * 1e3 / iterations,
        100.0 * config.row_keep
    )?;
    writeln!(out, "scoring: {:.1} ms ({} candidates)", score * 1e3, cand_rows.len())?;
    if config.row_keep < 1.0 {
        let every_row = RewardModelConfig { row_keep: 1.0, ..config.clone() };
        let (update, ..) = time_updates(&every_row, &history, &targets, &cand_rows, args.seed);
        writeln!(out, "update training on every row (row_keep = 1): {:.0} ms", update * 1e3)?;
    }
    writeln!(
        out,
        "reward model: {:?}, {} parameters, {k} arms, {rows} history rows, {} threads",
        config.arch,
        reward_model::num_params(config, k),
        rayon::current_num_threads()
    )?;
    Ok(())
}

/// Median seconds of (update, training, scoring) over four updates of a fresh model on the same history.
fn time_updates(
    config: &RewardModelConfig,
    history: &[Vec<f32>],
    targets: &[Vec<f32>],
    candidates: &[Vec<f32>],
    seed: u64,
) -> (f64, f64, f64) {
    let mut model = reward_model::build(config.clone(), history[0].len() / 2, seed);
    let (mut updates, mut trains, mut scores) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..4 {
        let t0 = Instant::now();
        model.train(history, targets);
        let t1 = Instant::now();
        let _ = model.predict(history, candidates);
        let t2 = Instant::now();
        trains.push((t1 - t0).as_secs_f64());
        scores.push((t2 - t1).as_secs_f64());
        updates.push((t2 - t0).as_secs_f64());
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    (median(&mut updates), median(&mut trains), median(&mut scores))
}
