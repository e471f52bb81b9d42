//! `index.json` of a shard directory, and [`ShardSet`]: every shard of a directory, opened and cross-checked.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::{DocTokens, Shard, ShardError};
use crate::corpus::Split;
use crate::tokenizer::Tokenizer;

/// File name of a shard directory's index.
pub const INDEX_FILE: &str = "index.json";
/// Version of the index layout.
pub const INDEX_VERSION: u32 = 1;

/// `index.json`: what a shard directory holds.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShardIndex {
    pub format_version: u32,
    /// Hex SHA-256 of the tokenizer ([`Tokenizer::hash`]).
    pub tokenizer_hash: String,
    pub vocab_size: u32,
    /// `u16` or `u32`.
    pub dtype: String,
    /// Where the text came from (`bundled default corpus` or the input paths).
    pub source: String,
    pub splits: BTreeMap<Split, SplitIndex>,
}

/// One split in the index.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SplitIndex {
    pub tokens: u64,
    pub documents: u64,
    pub shards: Vec<ShardEntry>,
}

/// One shard file in the index (its document offsets live in the file's offset table).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShardEntry {
    pub file: String,
    pub tokens: u64,
    pub documents: u64,
}

impl ShardIndex {
    /// Reads `dir/index.json`.
    pub fn read(dir: &Path) -> Result<Self, ShardError> {
        let path = dir.join(INDEX_FILE);
        let text = std::fs::read_to_string(&path).map_err(|e| ShardError::Io { path: path.clone(), source: e })?;
        let index: ShardIndex =
            serde_json::from_str(&text).map_err(|e| ShardError::Index { path: path.clone(), reason: e.to_string() })?;
        if index.format_version != INDEX_VERSION {
            return Err(ShardError::UnsupportedVersion { path, found: index.format_version, supported: INDEX_VERSION });
        }
        Ok(index)
    }

    /// Writes `dir/index.json` atomically (temporary file, sync, rename).
    pub fn write(&self, dir: &Path) -> Result<(), ShardError> {
        let path = dir.join(INDEX_FILE);
        let tmp = dir.join(format!("{INDEX_FILE}.tmp"));
        let json = serde_json::to_string_pretty(self).expect("index serialises");
        let io = |e| ShardError::Io { path: tmp.clone(), source: e };
        let mut f = std::fs::File::create(&tmp).map_err(io)?;
        std::io::Write::write_all(&mut f, json.as_bytes()).map_err(io)?;
        std::io::Write::write_all(&mut f, b"\n").map_err(io)?;
        f.sync_all().map_err(io)?;
        std::fs::rename(&tmp, &path).map_err(|e| ShardError::Io { path, source: e })
    }
}

/// The opened shards of one split.
#[derive(Debug)]
pub struct SplitShards {
    pub shards: Vec<Shard>,
}

impl SplitShards {
    pub fn num_tokens(&self) -> u64 {
        self.shards.iter().map(Shard::num_tokens).sum()
    }

    pub fn num_docs(&self) -> usize {
        self.shards.iter().map(Shard::num_docs).sum()
    }

    /// Every document of the split, in order.
    pub fn documents(&self) -> impl Iterator<Item = DocTokens<'_>> {
        self.shards.iter().flat_map(|s| (0..s.num_docs()).map(move |i| s.doc(i)))
    }
}

/// A shard directory with every shard opened and checked against the index.
#[derive(Debug)]
pub struct ShardSet {
    dir: PathBuf,
    index: ShardIndex,
    splits: BTreeMap<Split, SplitShards>,
}

impl ShardSet {
    /// Opens `dir`: reads the index, opens each shard, and checks counts and tokenizer hashes agree.
    pub fn open(dir: &Path) -> Result<Self, ShardError> {
        let index = ShardIndex::read(dir)?;
        let mut splits = BTreeMap::new();
        for (&split, entry) in &index.splits {
            let mut shards = Vec::with_capacity(entry.shards.len());
            for e in &entry.shards {
                let path = dir.join(&e.file);
                let shard = Shard::open(&path)?;
                if shard.num_tokens() != e.tokens || shard.num_docs() as u64 != e.documents {
                    return Err(ShardError::Corrupt {
                        path,
                        reason: format!(
                            "holds {} tokens / {} documents, index says {} / {}",
                            shard.num_tokens(),
                            shard.num_docs(),
                            e.tokens,
                            e.documents
                        ),
                    });
                }
                if shard.tokenizer_hash() != index.tokenizer_hash || shard.header().vocab_size != index.vocab_size {
                    return Err(ShardError::Corrupt {
                        path,
                        reason: "tokenizer hash or vocabulary size differs from index.json".into(),
                    });
                }
                shards.push(shard);
            }
            splits.insert(split, SplitShards { shards });
        }
        Ok(ShardSet { dir: dir.to_path_buf(), index, splits })
    }

    /// Opens `dir` and refuses it unless its shards were made with `tokenizer`.
    pub fn open_for(dir: &Path, tokenizer: &Tokenizer) -> Result<Self, ShardError> {
        let set = Self::open(dir)?;
        set.check_tokenizer(tokenizer)?;
        Ok(set)
    }

    /// Error unless the shards were made with `tokenizer`.
    pub fn check_tokenizer(&self, tokenizer: &Tokenizer) -> Result<(), ShardError> {
        if self.index.tokenizer_hash != tokenizer.hash() {
            return Err(ShardError::TokenizerMismatch {
                dir: self.dir.clone(),
                shards: short(&self.index.tokenizer_hash),
                tokenizer: short(tokenizer.hash()),
            });
        }
        Ok(())
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn index(&self) -> &ShardIndex {
        &self.index
    }

    /// The shards of one split, if the directory has it.
    pub fn split(&self, split: Split) -> Option<&SplitShards> {
        self.splits.get(&split)
    }

    /// The shards of one split, or [`ShardError::MissingSplit`].
    pub fn require_split(&self, split: Split) -> Result<&SplitShards, ShardError> {
        self.split(split)
            .ok_or_else(|| ShardError::MissingSplit { dir: self.dir.clone(), split: split.as_str().to_string() })
    }

    /// Number of distinct ids that occur in `split`.
    pub fn distinct_ids(&self, split: Split) -> usize {
        let mut seen = vec![false; self.index.vocab_size as usize];
        if let Some(s) = self.split(split) {
            for shard in &s.shards {
                match shard.tokens() {
                    DocTokens::U16(t) => t.iter().for_each(|&id| mark(&mut seen, u32::from(id))),
                    DocTokens::U32(t) => t.iter().for_each(|&id| mark(&mut seen, id)),
                }
            }
        }
        seen.iter().filter(|&&x| x).count()
    }
}

fn mark(seen: &mut [bool], id: u32) {
    if let Some(x) = seen.get_mut(id as usize) {
        *x = true;
    }
}

fn short(hash: &str) -> String {
    hash.chars().take(16).collect()
}
