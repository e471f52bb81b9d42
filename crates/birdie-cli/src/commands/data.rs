//! `birdie data prepare` and `birdie data stats`.

use std::io::Write;
use std::time::Instant;

use anyhow::Context;
use birdie_data::{prepare, CorpusSource, PrepareOptions, ShardSet, Split};

use super::{load_tokenizer, read_options};
use crate::cli::{DataCommand, PrepareArgs, StatsArgs};
use crate::progress::bytes_bar;

pub fn run(command: DataCommand) -> anyhow::Result<()> {
    match command {
        DataCommand::Prepare(args) => prepare_cmd(args),
        DataCommand::Stats(args) => stats_cmd(args),
        DataCommand::Batches(args) => batches_cmd(args),
    }
}

fn prepare_cmd(args: PrepareArgs) -> anyhow::Result<()> {
    let tokenizer = load_tokenizer(args.tokenizer.as_deref())?;
    let source = if args.input.input.is_empty() {
        CorpusSource::Bundled
    } else {
        let (format, read) = read_options(&args.input)?;
        CorpusSource::Files {
            paths: args.input.input.clone(),
            format,
            read,
            validation_fraction: args.validation_fraction,
        }
    };
    let opts = PrepareOptions { max_shard_tokens: args.max_shard_tokens, ..PrepareOptions::default() };
    let bar = bytes_bar("tokenizing");
    let start = Instant::now();
    let report = prepare(&source, &tokenizer, &args.out, &opts, &mut |done, total| {
        bar.set_length(total);
        bar.set_position(done);
    })
    .with_context(|| format!("preparing shards in {}", args.out.display()))?;
    bar.finish_and_clear();
    let secs = start.elapsed().as_secs_f64();

    let mut out = std::io::stdout().lock();
    for (split, (tokens, docs)) in &report.splits {
        writeln!(out, "{split}: {tokens} tokens, {docs} documents")?;
    }
    writeln!(
        out,
        "wrote {} in {:.1} s ({:.1} MB of text, {:.2} MB/s)",
        args.out.display(),
        secs,
        report.text_bytes as f64 / 1e6,
        report.text_bytes as f64 / 1e6 / secs.max(1e-9)
    )?;
    if !report.skipped.is_empty() {
        writeln!(out, "skipped {} inputs:", report.skipped.len())?;
        for s in report.skipped.iter().take(20) {
            writeln!(out, "  {}: {}", s.what, s.reason)?;
        }
        if report.skipped.len() > 20 {
            writeln!(out, "  … and {} more", report.skipped.len() - 20)?;
        }
    }
    if !report.ignored_files.is_empty() {
        writeln!(
            out,
            "ignored {} files with no recognised extension, e.g. {}",
            report.ignored_files.len(),
            report.ignored_files[0].display()
        )?;
    }
    if !report.splits.contains_key(&Split::Validation) {
        writeln!(out, "warning: no validation documents (raise --validation-fraction or add documents)")?;
    }
    Ok(())
}

fn stats_cmd(args: StatsArgs) -> anyhow::Result<()> {
    let set = ShardSet::open(&args.dir)?;
    if let Some(path) = &args.tokenizer {
        set.check_tokenizer(&load_tokenizer(Some(path))?)?;
    }
    let index = set.index();
    let mut out = std::io::stdout().lock();
    for split in Split::ALL {
        if let Some(s) = set.split(split) {
            writeln!(out, "{split}: {} tokens, {} documents", s.num_tokens(), s.num_docs())?;
        }
    }
    if set.split(Split::Train).is_some() {
        let distinct = set.distinct_ids(Split::Train);
        writeln!(
            out,
            "vocab coverage: {distinct} of {} ids ({:.1}%) occur in train",
            index.vocab_size,
            100.0 * distinct as f64 / index.vocab_size as f64
        )?;
    }
    writeln!(
        out,
        "tokenizer: {}, vocab {}, {} ids; source: {}",
        &index.tokenizer_hash[..16.min(index.tokenizer_hash.len())],
        index.vocab_size,
        index.dtype,
        index.source
    )
    .context("writing stats")?;
    Ok(())
}

/// `birdie data batches`: the pipeline's first batches over the train split, as JSON lines.
fn batches_cmd(args: crate::cli::BatchesArgs) -> anyhow::Result<()> {
    use std::io::Write as _;

    let mut p = super::bench::start_pipeline(&args.pipeline)?;
    let mut out = std::io::stdout().lock();
    for _ in 0..args.count {
        let b = p.next_batch()?;
        let rows = |v: &[i32]| v.chunks(b.seq_len).map(<[i32]>::to_vec).collect::<Vec<_>>();
        let line = serde_json::json!({
            "input_ids": rows(&b.input_ids),
            "label_ids": rows(&b.label_ids),
            "segment_ids": rows(&b.segment_ids),
            "attention_mask": rows(&b.attention_mask),
            "position_ids": rows(&b.position_ids),
        });
        writeln!(out, "{line}")?;
    }
    Ok(())
}
