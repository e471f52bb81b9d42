//! Corpus ingestion: the bundled default corpus and a user's own files (plain text, JSON lines, parquet).
//!
//! Readers yield [`Record`]s: a [`Document`], or a [`Skipped`] entry for input that is unusable but not fatal (an
//! empty file, a binary or non-UTF-8 text file); the caller counts and reports skips. Structural problems — a JSON
//! line that does not parse, a missing field or column, a directory with nothing to read — are [`IngestError`]s that
//! name the file, line or column.

mod bundled;
mod input;
mod jsonl;
mod parquet_reader;
mod split;
mod txt;

use std::path::PathBuf;

pub use bundled::{BundledCorpus, CorpusManifest, ManifestDocument, ManifestSource};
pub use input::{
    collect_inputs, open_input, Format, InputFile, InputSelection, ReadOptions, TxtDocuments, UnknownName,
};
#[doc(hidden)]
pub use parquet_reader::write_test_parquet;
pub use split::{split_for_text, Split};

/// One document: an identifier for messages (a manifest id, `path`, `path:line` or `path#row`) and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub id: String,
    pub text: String,
}

/// Input that was passed over, with the reason (counted and reported, never silent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub what: String,
    pub reason: String,
}

/// What a reader yields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    Document(Document),
    Skipped(Skipped),
}

/// Structural errors while reading a corpus.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("cannot read {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: no such file or directory")]
    NotFound { path: PathBuf },
    #[error("directory {path} contains no usable files (expected .txt, .jsonl or .parquet, optionally .zst/.gz)")]
    NoUsableFiles { path: PathBuf },
    #[error("{path}: cannot tell the format from the file name; pass --format txt|jsonl|parquet")]
    UnknownFormat { path: PathBuf },
    #[error("{path}:{line}: not valid JSON: {reason}")]
    BadJson { path: PathBuf, line: usize, reason: String },
    #[error("{path}:{line}: no field \"{field}\" (fields found: {found})")]
    MissingField { path: PathBuf, line: usize, field: String, found: String },
    #[error("{path}:{line}: field \"{field}\" is not a string")]
    FieldNotString { path: PathBuf, line: usize, field: String },
    #[error("{path}:{line}: invalid UTF-8 at byte offset {offset} of the file")]
    InvalidUtf8 { path: PathBuf, line: usize, offset: u64 },
    #[error("{path}: no column \"{column}\" (columns found: {found})")]
    MissingColumn { path: PathBuf, column: String, found: String },
    #[error("{path}: column \"{column}\" holds {found}, expected strings (BYTE_ARRAY)")]
    ColumnNotString { path: PathBuf, column: String, found: String },
    #[error("{path}: row {row} of column \"{column}\" is not valid UTF-8")]
    InvalidUtf8Value { path: PathBuf, column: String, row: u64 },
    #[error("{path}: parquet error: {reason}")]
    Parquet { path: PathBuf, reason: String },
    #[error("bundled corpus: {0}")]
    Bundled(String),
    #[error("document {id}: checksum mismatch (manifest {expected}, text {found})")]
    ChecksumMismatch { id: String, expected: String, found: String },
}
