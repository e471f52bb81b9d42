//! One module per command group; each turns parsed arguments into library calls and prints results.

mod bench;
mod config;
mod controller;
mod data;
mod eval;
mod experiment;
mod generate;
mod model;
mod preview;
mod tokenizer;
mod train;

use std::path::{Path, PathBuf};

use anyhow::Context;
use birdie_data::Tokenizer;

use crate::cli::{Command, InputArgs};

pub fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Data(c) => data::run(c),
        Command::Tokenizer(c) => tokenizer::run(c),
        Command::Preview(args) => preview::run(args),
        Command::Train(args) => train::run(args),
        Command::Config(c) => config::run(c),
        Command::Generate(args) => generate::run(args),
        Command::Plot(args) => {
            for p in birdie_train::run_plots::render_run(&args.run_dir)? {
                println!("{}", p.display());
            }
            Ok(())
        }
        Command::Model(c) => model::run(c),
        Command::Controller(c) => controller::run(c),
        Command::Bench(c) => bench::run(c),
        Command::Eval(c) => eval::run(c),
        Command::Experiment(c) => experiment::run(c),
    }
}

/// birdie's cache directory: `$BIRDIE_CACHE_DIR`, else `$XDG_CACHE_HOME/birdie`, else `~/.cache/birdie`.
pub fn cache_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("BIRDIE_CACHE_DIR") {
        return PathBuf::from(d);
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(|| PathBuf::from(".cache"));
    base.join("birdie")
}

/// The tokenizer and shard directory a run config names (`bundled`: the bundled ones, shards prepared on first use).
pub fn run_data(config: &birdie_run::TrainConfig) -> anyhow::Result<(Tokenizer, PathBuf)> {
    let tokenizer = match config.data.tokenizer.as_str() {
        "bundled" => load_tokenizer(None)?,
        path => load_tokenizer(Some(Path::new(path)))?,
    };
    let shards = match config.data.shards.as_str() {
        "bundled" => bundled_shards(&tokenizer)?,
        path => PathBuf::from(path),
    };
    Ok((tokenizer, shards))
}

/// Shards of the bundled corpus for `tok`, prepared into the cache on first use.
pub fn bundled_shards(tok: &Tokenizer) -> anyhow::Result<PathBuf> {
    let cache = cache_dir();
    let bar = crate::progress::bytes_bar("preparing");
    let dir = birdie_data::ensure_bundled_shards(tok, &cache, &mut |done, total| {
        bar.set_length(total);
        bar.set_position(done);
    })
    .with_context(|| format!("preparing the bundled corpus under {}", cache.display()))?;
    bar.finish_and_clear();
    Ok(dir)
}

/// The tokenizer at `path`, or the bundled one; warns about special tokens that had to be added.
pub fn load_tokenizer(path: Option<&Path>) -> anyhow::Result<Tokenizer> {
    let tok = match path {
        Some(p) => Tokenizer::from_file(p)?,
        None => Tokenizer::bundled().context("loading the bundled tokenizer")?,
    };
    let added = tok.added_special_tokens();
    if !added.is_empty() {
        let shown: Vec<&str> = added.iter().take(6).map(String::as_str).collect();
        let more =
            if added.len() > shown.len() { format!(" and {} more", added.len() - shown.len()) } else { "".into() };
        eprintln!(
            "warning: tokenizer {} lacks {} birdie special tokens; added {}{more}",
            path.map(|p| p.display().to_string()).unwrap_or_default(),
            added.len(),
            shown.join(", ")
        );
    }
    Ok(tok)
}

/// The parsed read options of `--format`, `--text-field`, `--txt-documents`.
pub fn read_options(args: &InputArgs) -> anyhow::Result<(Option<birdie_data::Format>, birdie_data::ReadOptions)> {
    let format = args.format.map(Into::into);
    let read =
        birdie_data::ReadOptions { text_field: args.text_field.clone(), txt_documents: args.txt_documents.into() };
    Ok((format, read))
}
