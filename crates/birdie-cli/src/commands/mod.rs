//! One module per command group; each turns parsed arguments into library calls and prints results.

mod data;
mod tokenizer;

use std::path::Path;

use anyhow::Context;
use birdie_data::Tokenizer;

use crate::cli::{Command, InputArgs};

pub fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Data(c) => data::run(c),
        Command::Tokenizer(c) => tokenizer::run(c),
    }
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
    let format = args.format.as_deref().map(str::parse).transpose().map_err(anyhow::Error::msg)?;
    let read = birdie_data::ReadOptions {
        text_field: args.text_field.clone(),
        txt_documents: args.txt_documents.parse().map_err(anyhow::Error::msg)?,
    };
    Ok((format, read))
}
