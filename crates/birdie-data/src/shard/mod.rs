//! Token shards: memory-mappable files of token ids with document boundaries, and the JSON index of a shard
//! directory.
//!
//! A shard directory holds `index.json` (format version, tokenizer hash and vocabulary size, per split the shard
//! files with their token and document counts) and one or more `<split>-NNNNN.bin` files per split. Each shard file
//! is self-describing ([`format`]): a 128-byte header, the token ids (u16 when the vocabulary fits, else u32), and
//! the document offset table.

pub mod format;
mod index;
mod reader;
mod writer;

use std::path::PathBuf;

pub use index::{ShardEntry, ShardIndex, ShardSet, SplitIndex, SplitShards, INDEX_FILE};

/// The index layout version this build writes.
pub fn index_version() -> u32 {
    index::INDEX_VERSION
}
pub use reader::{DocTokens, Shard};
pub use writer::{ShardWriter, SplitWriter};

/// Errors reading or writing token shards.
#[derive(Debug, thiserror::Error)]
pub enum ShardError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path} is not a birdie token shard (bad magic bytes); rebuild it with `birdie data prepare`")]
    BadMagic { path: PathBuf },
    #[error("{path}: shard format version {found} is not supported (this build reads {supported}); rebuild it with `birdie data prepare`")]
    UnsupportedVersion { path: PathBuf, found: u32, supported: u32 },
    #[error("{path} is truncated: expected {expected} bytes, found {found}")]
    Truncated { path: PathBuf, expected: u64, found: u64 },
    #[error("{path} is corrupt: {reason}")]
    Corrupt { path: PathBuf, reason: String },
    #[error("{path}: bad shard index: {reason}")]
    Index { path: PathBuf, reason: String },
    #[error("shards in {dir} were made with tokenizer {shards} but the tokenizer given is {tokenizer}; prepare the shards again with this tokenizer (`birdie data prepare --tokenizer …`) or pass the tokenizer they were made with")]
    TokenizerMismatch { dir: PathBuf, shards: String, tokenizer: String },
    #[error("{dir} has no {split} split")]
    MissingSplit { dir: PathBuf, split: String },
    #[error("token id {id} does not fit the shard's {bits}-bit ids")]
    IdTooLarge { id: u32, bits: u32 },
}
