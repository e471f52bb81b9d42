//! `birdie data prepare`: documents → token ids → shards, one split at a time in document order.
//!
//! Documents are gathered into batches of a few MiB of text, cut into ≤ 64 KiB pieces ([`split_into_chunks`]) and
//! encoded in parallel (rayon, through the tokenizer's batch encoder); ids are appended to the document's split in
//! input order, so the output does not depend on the thread count. Memory stays bounded by the batch size plus the
//! largest document's ids, whatever the size of one line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::chunking::{split_into_chunks, MAX_CHUNK_BYTES};
use crate::corpus::{
    collect_inputs, open_input, split_for_text, BundledCorpus, Format, IngestError, ReadOptions, Record, Skipped, Split,
};
use crate::shard::{format::token_bytes_for_vocab, ShardError, ShardIndex, SplitIndex, SplitWriter, INDEX_FILE};
use crate::tokenizer::{Tokenizer, TokenizerError};

/// Where the text comes from.
#[derive(Debug, Clone)]
pub enum CorpusSource {
    /// The bundled default corpus, split by its manifest into train / validation / heldout.
    Bundled,
    /// A user's files or directories, split by a hash of each document's text.
    Files {
        paths: Vec<PathBuf>,
        /// Forced format; by default each file's extension decides.
        format: Option<Format>,
        read: ReadOptions,
        /// Fraction of documents that go to the validation split (default 0.01).
        validation_fraction: f64,
    },
}

/// Tuning knobs of the preparation.
#[derive(Debug, Clone)]
pub struct PrepareOptions {
    /// A split's shard is closed once it holds this many tokens (default 2^28).
    pub max_shard_tokens: u64,
    /// Largest piece of text handed to the tokenizer.
    pub chunk_bytes: usize,
    /// Text gathered before one parallel encoding call.
    pub batch_bytes: usize,
}

impl Default for PrepareOptions {
    fn default() -> Self {
        PrepareOptions { max_shard_tokens: 1 << 28, chunk_bytes: MAX_CHUNK_BYTES, batch_bytes: 4 << 20 }
    }
}

/// What a preparation produced.
#[derive(Debug, Clone, Default)]
pub struct PrepareReport {
    /// Per split: (tokens, documents).
    pub splits: BTreeMap<Split, (u64, u64)>,
    /// Input passed over (empty, binary or non-UTF-8 files; null or empty records).
    pub skipped: Vec<Skipped>,
    /// Files in input directories whose names matched no format.
    pub ignored_files: Vec<PathBuf>,
    /// Bytes of text tokenized.
    pub text_bytes: u64,
}

/// Errors that stop a preparation.
#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    #[error(transparent)]
    Ingest(#[from] IngestError),
    #[error(transparent)]
    Shard(#[from] ShardError),
    #[error(transparent)]
    Tokenizer(#[from] TokenizerError),
    #[error("no usable documents in {what} ({skipped} inputs skipped)")]
    NoDocuments { what: String, skipped: usize },
    #[error("output directory {dir} is not empty and holds no {INDEX_FILE}; refusing to write shards into it")]
    OutputNotEmpty { dir: PathBuf },
    #[error("validation fraction {0} is outside [0, 1)")]
    BadFraction(f64),
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
}

/// Tokenizes `source` with `tokenizer` into shards under `out`. `progress(done, total)` is called as text is
/// processed (bytes; `total` is approximate for compressed or JSON input).
pub fn prepare(
    source: &CorpusSource,
    tokenizer: &Tokenizer,
    out: &Path,
    opts: &PrepareOptions,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<PrepareReport, PrepareError> {
    let previous = prepare_output_dir(out)?;
    let mut run = Run::new(tokenizer, out, opts);
    let description = match source {
        CorpusSource::Bundled => {
            let corpus = BundledCorpus::load()?;
            let total: u64 = corpus.documents.iter().map(|(_, d)| d.text.len() as u64).sum();
            for (split, doc) in corpus.documents {
                run.push(split, doc.text, total, progress)?;
            }
            "bundled default corpus".to_string()
        }
        CorpusSource::Files { paths, format, read, validation_fraction } => {
            if !(0.0..1.0).contains(validation_fraction) {
                return Err(PrepareError::BadFraction(*validation_fraction));
            }
            let selection = collect_inputs(paths, *format)?;
            run.report.ignored_files = selection.ignored.clone();
            let total: u64 =
                selection.files.iter().map(|f| std::fs::metadata(&f.path).map(|m| m.len()).unwrap_or(0)).sum();
            for file in &selection.files {
                for record in open_input(file, read)? {
                    match record? {
                        Record::Document(doc) => {
                            let split = split_for_text(&doc.text, *validation_fraction);
                            run.push(split, doc.text, total, progress)?;
                        }
                        Record::Skipped(s) => {
                            tracing::warn!(what = %s.what, reason = %s.reason, "skipped input");
                            run.report.skipped.push(s);
                        }
                    }
                }
            }
            paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
        }
    };
    run.flush(progress)?;
    let report = run.finish(&description, previous)?;
    Ok(report)
}

/// Creates `out` if needed; returns the shard files of an index already there (replaced at the end).
fn prepare_output_dir(out: &Path) -> Result<Vec<String>, PrepareError> {
    let io = |e| PrepareError::Io { path: out.to_path_buf(), source: e };
    if out.exists() {
        if out.join(INDEX_FILE).exists() {
            let old = ShardIndex::read(out)?;
            return Ok(old.splits.values().flat_map(|s| s.shards.iter().map(|e| e.file.clone())).collect());
        }
        if std::fs::read_dir(out).map_err(io)?.next().is_some() {
            return Err(PrepareError::OutputNotEmpty { dir: out.to_path_buf() });
        }
    }
    std::fs::create_dir_all(out).map_err(io)?;
    Ok(Vec::new())
}

struct Run<'a> {
    tokenizer: &'a Tokenizer,
    out: PathBuf,
    opts: &'a PrepareOptions,
    writers: BTreeMap<Split, SplitWriter>,
    pending: Vec<(Split, String)>,
    pending_bytes: usize,
    done_bytes: u64,
    total_bytes: u64,
    report: PrepareReport,
}

impl<'a> Run<'a> {
    fn new(tokenizer: &'a Tokenizer, out: &Path, opts: &'a PrepareOptions) -> Self {
        Run {
            tokenizer,
            out: out.to_path_buf(),
            opts,
            writers: BTreeMap::new(),
            pending: Vec::new(),
            pending_bytes: 0,
            done_bytes: 0,
            total_bytes: 0,
            report: PrepareReport::default(),
        }
    }

    fn push(
        &mut self,
        split: Split,
        text: String,
        total: u64,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<(), PrepareError> {
        self.total_bytes = total;
        self.pending_bytes += text.len();
        self.pending.push((split, text));
        if self.pending_bytes >= self.opts.batch_bytes {
            self.flush(progress)?;
        }
        Ok(())
    }

    /// Encodes the pending documents (pieces of at most `batch_bytes` per parallel call) and writes them in order.
    fn flush(&mut self, progress: &mut dyn FnMut(u64, u64)) -> Result<(), PrepareError> {
        let pending = std::mem::take(&mut self.pending);
        self.pending_bytes = 0;
        let mut ids: Vec<Vec<u32>> = vec![Vec::new(); pending.len()];
        let mut group: Vec<(usize, &str)> = Vec::new();
        let mut group_bytes = 0;
        for (d, (_, text)) in pending.iter().enumerate() {
            for chunk in split_into_chunks(text, self.opts.chunk_bytes) {
                group.push((d, chunk));
                group_bytes += chunk.len();
                if group_bytes >= self.opts.batch_bytes {
                    self.encode_group(&mut group, &mut ids, progress)?;
                    group_bytes = 0;
                }
            }
        }
        self.encode_group(&mut group, &mut ids, progress)?;
        for ((split, text), ids) in pending.iter().zip(ids) {
            if ids.is_empty() {
                continue;
            }
            let writer = self.writers.entry(*split).or_insert_with(|| {
                SplitWriter::new(
                    &self.out,
                    *split,
                    self.tokenizer.vocab_size(),
                    self.tokenizer.hash(),
                    self.opts.max_shard_tokens,
                )
            });
            writer.push_document(&ids)?;
            let entry = self.report.splits.entry(*split).or_default();
            entry.0 += ids.len() as u64;
            entry.1 += 1;
            self.report.text_bytes += text.len() as u64;
        }
        Ok(())
    }

    fn encode_group(
        &mut self,
        group: &mut Vec<(usize, &str)>,
        ids: &mut [Vec<u32>],
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<(), PrepareError> {
        if group.is_empty() {
            return Ok(());
        }
        let texts: Vec<&str> = group.iter().map(|(_, t)| *t).collect();
        let encoded = self.tokenizer.encode_batch(&texts)?;
        for ((d, text), e) in group.iter().zip(encoded) {
            ids[*d].extend_from_slice(&e);
            self.done_bytes += text.len() as u64;
        }
        progress(self.done_bytes, self.total_bytes.max(self.done_bytes));
        group.clear();
        Ok(())
    }

    fn finish(self, description: &str, previous: Vec<String>) -> Result<PrepareReport, PrepareError> {
        let total_docs: u64 = self.report.splits.values().map(|s| s.1).sum();
        if total_docs == 0 {
            return Err(PrepareError::NoDocuments {
                what: description.to_string(),
                skipped: self.report.skipped.len(),
            });
        }
        let mut splits = BTreeMap::new();
        for (split, writer) in self.writers {
            let shards = writer.finish()?;
            let (tokens, documents) = self.report.splits[&split];
            splits.insert(split, SplitIndex { tokens, documents, shards });
        }
        let vocab_size = self.tokenizer.vocab_size();
        let index = ShardIndex {
            format_version: crate::shard::index_version(),
            tokenizer_hash: self.tokenizer.hash().to_string(),
            vocab_size: vocab_size as u32,
            dtype: if token_bytes_for_vocab(vocab_size) == 2 { "u16" } else { "u32" }.to_string(),
            source: description.to_string(),
            splits,
        };
        index.write(&self.out)?;
        let current: Vec<&String> = index.splits.values().flat_map(|s| s.shards.iter().map(|e| &e.file)).collect();
        for old in previous.iter().filter(|f| !current.contains(f)) {
            let _ = std::fs::remove_file(self.out.join(old));
        }
        Ok(self.report)
    }
}

/// The bundled corpus's shards for `tokenizer` under `cache_dir/shards/bundled-<hash>`, prepared on first use.
/// Returns the directory.
pub fn ensure_bundled_shards(
    tokenizer: &Tokenizer,
    cache_dir: &Path,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<PathBuf, PrepareError> {
    let dir = cache_dir.join("shards").join(format!("bundled-{}", &tokenizer.hash()[..16]));
    if crate::shard::ShardSet::open_for(&dir, tokenizer).is_ok() {
        return Ok(dir);
    }
    // A missing or broken cache is rebuilt in a fresh directory and moved into place.
    let tmp = cache_dir.join("shards").join(format!(".bundled-{}.tmp", &tokenizer.hash()[..16]));
    let _ = std::fs::remove_dir_all(&tmp);
    prepare(&CorpusSource::Bundled, tokenizer, &tmp, &PrepareOptions::default(), progress)?;
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::rename(&tmp, &dir).map_err(|e| PrepareError::Io { path: dir.clone(), source: e })?;
    Ok(dir)
}
