//! Writing shards: a file is written under a temporary name, synced and renamed into place when finished, so a
//! crash never leaves a half-written shard under its final name.

use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::format::{token_bytes_for_vocab, Header, FORMAT_VERSION, HEADER_BYTES};
use super::{ShardEntry, ShardError};
use crate::corpus::Split;

/// Writes one shard file.
pub struct ShardWriter {
    path: PathBuf,
    tmp: PathBuf,
    out: BufWriter<File>,
    header: Header,
    offsets: Vec<u64>,
}

impl ShardWriter {
    /// Starts `path` for a tokenizer with `vocab_size` ids and hash `tokenizer_hash` (64 hex digits).
    pub fn create(path: &Path, vocab_size: usize, tokenizer_hash: &str) -> Result<Self, ShardError> {
        let tmp = path.with_extension("bin.tmp");
        let io = |e| ShardError::Io { path: tmp.clone(), source: e };
        let mut out = BufWriter::with_capacity(1 << 20, File::create(&tmp).map_err(io)?);
        out.write_all(&[0u8; HEADER_BYTES]).map_err(io)?;
        let header = Header {
            version: FORMAT_VERSION,
            token_bytes: token_bytes_for_vocab(vocab_size),
            vocab_size: u32::try_from(vocab_size).map_err(|_| ShardError::Corrupt {
                path: path.to_path_buf(),
                reason: format!("vocabulary size {vocab_size} exceeds u32"),
            })?,
            num_tokens: 0,
            num_docs: 0,
            tokenizer_hash: parse_hash(tokenizer_hash)
                .ok_or_else(|| ShardError::Corrupt { path: path.to_path_buf(), reason: "bad tokenizer hash".into() })?,
        };
        Ok(ShardWriter { path: path.to_path_buf(), tmp, out, header, offsets: vec![0] })
    }

    /// Number of tokens written so far.
    pub fn num_tokens(&self) -> u64 {
        self.header.num_tokens
    }

    /// Appends one document.
    pub fn push_document(&mut self, ids: &[u32]) -> Result<(), ShardError> {
        let io = |e| ShardError::Io { path: self.tmp.clone(), source: e };
        if let Some(&bad) = ids.iter().find(|&&id| id >= self.header.vocab_size) {
            return Err(ShardError::Corrupt {
                path: self.path.clone(),
                reason: format!("token id {bad} is not below the vocabulary size {}", self.header.vocab_size),
            });
        }
        if self.header.token_bytes == 2 {
            let bytes: Vec<u8> = ids.iter().flat_map(|&id| (id as u16).to_le_bytes()).collect();
            self.out.write_all(&bytes).map_err(io)?;
        } else {
            let bytes: Vec<u8> = ids.iter().flat_map(|&id| id.to_le_bytes()).collect();
            self.out.write_all(&bytes).map_err(io)?;
        }
        self.header.num_tokens += ids.len() as u64;
        self.header.num_docs += 1;
        self.offsets.push(self.header.num_tokens);
        Ok(())
    }

    /// Writes the offset table and header, syncs, and renames the file into place.
    pub fn finish(mut self) -> Result<ShardEntry, ShardError> {
        let io = |e| ShardError::Io { path: self.tmp.clone(), source: e };
        let written = HEADER_BYTES as u64 + self.header.num_tokens * self.header.token_bytes as u64;
        let pad = (self.header.offsets_start() - written) as usize;
        self.out.write_all(&vec![0u8; pad]).map_err(io)?;
        let table: Vec<u8> = self.offsets.iter().flat_map(|o| o.to_le_bytes()).collect();
        self.out.write_all(&table).map_err(io)?;
        self.out.seek(SeekFrom::Start(0)).map_err(io)?;
        self.out.write_all(&self.header.to_bytes()).map_err(io)?;
        let file = self.out.into_inner().map_err(|e| io(e.into_error()))?;
        file.sync_all().map_err(io)?;
        drop(file);
        std::fs::rename(&self.tmp, &self.path).map_err(|e| ShardError::Io { path: self.path.clone(), source: e })?;
        Ok(ShardEntry {
            file: self.path.file_name().expect("shard path has a file name").to_string_lossy().into_owned(),
            tokens: self.header.num_tokens,
            documents: self.header.num_docs,
        })
    }
}

/// Writes one split as a sequence of shards of at most `max_tokens` tokens each (a document never straddles two
/// shards; a single larger document gets a shard of its own).
pub struct SplitWriter {
    dir: PathBuf,
    split: Split,
    vocab_size: usize,
    hash: String,
    max_tokens: u64,
    current: Option<ShardWriter>,
    done: Vec<ShardEntry>,
}

impl SplitWriter {
    pub fn new(dir: &Path, split: Split, vocab_size: usize, hash: &str, max_tokens: u64) -> Self {
        SplitWriter {
            dir: dir.to_path_buf(),
            split,
            vocab_size,
            hash: hash.to_string(),
            max_tokens: max_tokens.max(1),
            current: None,
            done: Vec::new(),
        }
    }

    /// Appends one document, starting a new shard when the current one would exceed the limit.
    pub fn push_document(&mut self, ids: &[u32]) -> Result<(), ShardError> {
        if let Some(w) = &self.current {
            if w.num_tokens() > 0 && w.num_tokens() + ids.len() as u64 > self.max_tokens {
                let w = self.current.take().expect("checked");
                self.done.push(w.finish()?);
            }
        }
        if self.current.is_none() {
            let name = format!("{}-{:05}.bin", self.split.as_str(), self.done.len());
            self.current = Some(ShardWriter::create(&self.dir.join(name), self.vocab_size, &self.hash)?);
        }
        self.current.as_mut().expect("created above").push_document(ids)
    }

    /// Finishes the last shard; returns every shard written (none if no document was pushed).
    pub fn finish(mut self) -> Result<Vec<ShardEntry>, ShardError> {
        if let Some(w) = self.current.take() {
            self.done.push(w.finish()?);
        }
        Ok(self.done)
    }
}

fn parse_hash(hex: &str) -> Option<[u8; 32]> {
    if hex.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}
