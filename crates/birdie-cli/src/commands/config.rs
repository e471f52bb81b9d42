//! `birdie config show`: a run's fully resolved configuration.

use std::io::Write;
use std::path::Path;

use birdie_run::TrainConfig;

use super::load_tokenizer;
use crate::cli::{ConfigCommand, ConfigShowArgs};

pub fn run(command: ConfigCommand) -> anyhow::Result<()> {
    match command {
        ConfigCommand::Show(args) => show(args),
    }
}

/// The config with every derived value written out: the model's sizes for the tokenizer's vocabulary, and the
/// controller's evaluation schedule and exploration for the run length.
pub fn resolve(mut cfg: TrainConfig) -> anyhow::Result<(TrainConfig, usize)> {
    let tok = match cfg.data.tokenizer.as_str() {
        "bundled" => load_tokenizer(None)?,
        path => load_tokenizer(Some(Path::new(path)))?,
    };
    let vocab = cfg.model.vocab_size(tok.vocab_size());
    let model = cfg.model.resolve(vocab, cfg.data.seq_len)?;
    cfg.model = model.to_spec(&cfg.model.preset);
    let schedule = cfg.controller.schedule(cfg.total_steps);
    cfg.controller.eval_steps = Some(schedule.steps);
    cfg.controller.eval_every = Some(schedule.every);
    cfg.controller.agent_start = Some(schedule.agent_start);
    cfg.controller.exploration = Some(cfg.controller.exploration(cfg.total_steps));
    cfg.controller.num_candidates = Some(cfg.controller.num_candidates());
    Ok((cfg, model.num_params()))
}

fn show(args: ConfigShowArgs) -> anyhow::Result<()> {
    let cfg = TrainConfig::load(&args.config)?;
    let (cfg, params) = resolve(cfg)?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "# {} — model: {:.2} M parameters", args.config, params as f64 / 1e6)?;
    write!(out, "{}", cfg.to_toml())?;
    Ok(())
}
