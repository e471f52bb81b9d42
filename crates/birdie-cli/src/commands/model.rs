//! `birdie model info`: a model's resolved configuration and parameter count.

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use birdie_models::{ModelConfig, ModelSpec};

use super::load_tokenizer;
use crate::cli::{ModelCommand, ModelInfoArgs};

pub fn run(command: ModelCommand) -> anyhow::Result<()> {
    match command {
        ModelCommand::Info(args) => info(args),
    }
}

/// The model spec of a TOML file: its `[model]` table, or the whole file when it has none.
pub fn read_model_spec(path: &Path) -> anyhow::Result<ModelSpec> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let value: toml::Table = toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    let table = match value.get("model") {
        Some(toml::Value::Table(t)) => t.clone(),
        Some(other) => anyhow::bail!("{}: `model` must be a table, found {}", path.display(), other.type_str()),
        None => value,
    };
    table.try_into().with_context(|| format!("{}: [model]", path.display()))
}

fn info(args: ModelInfoArgs) -> anyhow::Result<()> {
    let spec = match &args.config {
        Some(path) => read_model_spec(path)?,
        None => ModelSpec::preset(args.arch.name(), args.preset.name(), args.bidirectional),
    };
    let vocab = match args.vocab {
        Some(v) => v,
        None => spec.vocab_size(load_tokenizer(args.tokenizer.as_deref())?.vocab_size()),
    };
    let cfg = spec.resolve(vocab, args.seq)?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "[model]")?;
    write!(out, "{}", toml::to_string(&cfg.to_spec(&spec.preset))?)?;
    let (embed, head) = match &cfg {
        ModelConfig::Hawk(c) => (c.vocab_size * c.d_model, if c.tie_embeddings { 0 } else { c.vocab_size * c.d_model }),
        ModelConfig::GatedSsm(c) => {
            (c.vocab_size * c.d_model, if c.tie_embeddings { 0 } else { c.vocab_size * c.d_model })
        }
        ModelConfig::Transformer(c) => {
            (c.vocab_size * c.d_model, if c.tie_embeddings { 0 } else { c.vocab_size * c.d_model })
        }
        ModelConfig::Toy(c) => (c.vocab_size * c.d_model, c.vocab_size * c.d_model + c.vocab_size),
    };
    let total = cfg.num_params();
    writeln!(
        out,
        "\nparameters: {total} ({:.2} M; embedding {:.2} M, blocks {:.2} M, head {:.2} M), vocabulary {vocab}",
        total as f64 / 1e6,
        embed as f64 / 1e6,
        (total - embed - head) as f64 / 1e6,
        head as f64 / 1e6,
    )?;
    Ok(())
}
