//! birdie-data: the data layer of birdie.
//!
//! - [`corpus`]: the bundled default corpus (six public-domain / permissive prose sources, split by a committed
//!   manifest) and readers for a user's plain text, JSON lines and parquet files;
//! - [`Tokenizer`]: Hugging Face `tokenizers` byte-level BPE with birdie's [special tokens](special_tokens);
//! - [`shard`]: memory-mappable token shards and their index;
//! - [`prepare()`]: text → token shards, the work behind `birdie data prepare`.
//!
//! No ML framework here: higher layers read token ids from [`ShardSet`].

pub mod chunking;
pub mod corpus;
mod prepare;
pub mod shard;
pub mod special_tokens;
mod tokenizer;

pub use corpus::{BundledCorpus, Document, Format, IngestError, ReadOptions, Split, TxtDocuments, UnknownName};
pub use prepare::{ensure_bundled_shards, prepare, CorpusSource, PrepareError, PrepareOptions, PrepareReport};
pub use shard::{DocTokens, Shard, ShardError, ShardIndex, ShardSet};
pub use special_tokens::{Marker, Paradigm, SpecialTokens, SENTINEL_COUNT};
pub use tokenizer::{Tokenizer, TokenizerError};

#[doc(hidden)]
pub use corpus::write_test_parquet;
