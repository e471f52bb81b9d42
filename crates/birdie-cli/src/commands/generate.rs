//! `birdie generate`: text from a checkpoint with the models' step mode.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use birdie_train::generate::{generate, Sampling};
use birdie_train::{checkpoint, TrainConfig};
use burn::prelude::*;

use super::load_tokenizer;
use crate::cli::GenerateArgs;

/// (run directory, checkpoint directory) of a run directory or a checkpoint directory.
pub fn locate_checkpoint(path: &Path) -> anyhow::Result<(PathBuf, PathBuf)> {
    if path.join("model.safetensors").exists() {
        let run = path.parent().and_then(Path::parent).map(Path::to_path_buf).unwrap_or_default();
        return Ok((run, path.to_path_buf()));
    }
    let (_, dir) = checkpoint::latest(path)
        .with_context(|| format!("{}: neither a checkpoint nor a run directory with checkpoints/", path.display()))?;
    Ok((path.to_path_buf(), dir))
}

pub fn run(args: GenerateArgs) -> anyhow::Result<()> {
    let (run_dir, ckpt) = locate_checkpoint(&args.checkpoint)?;
    let config_path = run_dir.join("config.toml");
    let config = TrainConfig::load(&config_path.to_string_lossy())?;
    let tok = match config.data.tokenizer.as_str() {
        "bundled" => load_tokenizer(None)?,
        path => load_tokenizer(Some(Path::new(path)))?,
    };
    let vocab = if config.model.arch == "toy" { 512 } else { tok.vocab_size() };
    let device = Device::flex();
    let model_cfg = config.model.resolve(vocab, config.data.seq_len)?;
    let model = birdie_train::safetensors::load_into(model_cfg.init(&device), &ckpt.join("model.safetensors"))
        .map_err(anyhow::Error::msg)?;
    let prefix = tok.encode(&args.prompt)?;
    let specials = tok.specials();
    let sampling = Sampling { temperature: args.temperature, top_k: args.top_k, seed: args.seed };
    let out = generate(
        &model,
        &prefix,
        specials.start_of_generation,
        args.max_tokens,
        &[specials.end_of_document, specials.pad],
        &sampling,
        &device,
    )?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{}", tok.decode(&out)?)?;
    Ok(())
}
