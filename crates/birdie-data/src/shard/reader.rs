//! Reading shards through a read-only memory map; every size in the header is checked against the file before
//! any token is touched.

use std::fs::File;
use std::path::{Path, PathBuf};

use memmap2::Mmap;

use super::format::{Header, FORMAT_VERSION, HEADER_BYTES};
use super::ShardError;
use crate::tokenizer::hex;

/// The token ids of one document, borrowed from the mapped file.
#[derive(Debug, Clone, Copy)]
pub enum DocTokens<'a> {
    U16(&'a [u16]),
    U32(&'a [u32]),
}

impl DocTokens<'_> {
    pub fn len(&self) -> usize {
        match self {
            DocTokens::U16(s) => s.len(),
            DocTokens::U32(s) => s.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Id at position `i`.
    pub fn get(&self, i: usize) -> u32 {
        match self {
            DocTokens::U16(s) => u32::from(s[i]),
            DocTokens::U32(s) => s[i],
        }
    }

    /// Appends the ids of `range` to `out` as u32.
    pub fn extend_into(&self, range: std::ops::Range<usize>, out: &mut Vec<u32>) {
        match self {
            DocTokens::U16(s) => out.extend(s[range].iter().map(|&x| u32::from(x))),
            DocTokens::U32(s) => out.extend_from_slice(&s[range]),
        }
    }

    /// All ids as a new vector.
    pub fn to_vec(&self) -> Vec<u32> {
        let mut v = Vec::with_capacity(self.len());
        self.extend_into(0..self.len(), &mut v);
        v
    }
}

/// One memory-mapped shard file.
pub struct Shard {
    path: PathBuf,
    map: Mmap,
    header: Header,
}

impl std::fmt::Debug for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shard").field("path", &self.path).field("header", &self.header).finish()
    }
}

impl Shard {
    /// Opens and validates a shard file.
    ///
    /// # Errors
    /// [`ShardError::BadMagic`], [`ShardError::UnsupportedVersion`], [`ShardError::Truncated`] or
    /// [`ShardError::Corrupt`], naming the file.
    pub fn open(path: &Path) -> Result<Self, ShardError> {
        let io = |e| ShardError::Io { path: path.to_path_buf(), source: e };
        let file = File::open(path).map_err(io)?;
        // SAFETY: the map is read-only; shard files are written under a temporary name and renamed into place, so
        // a file is not modified after it appears under its final name.
        let map = unsafe { Mmap::map(&file) }.map_err(io)?;
        let found = map.len() as u64;
        let head: &[u8; HEADER_BYTES] = map
            .get(..HEADER_BYTES)
            .and_then(|h| h.try_into().ok())
            .ok_or(ShardError::Truncated { path: path.to_path_buf(), expected: HEADER_BYTES as u64, found })?;
        let header = Header::from_bytes(head).ok_or_else(|| ShardError::BadMagic { path: path.to_path_buf() })?;
        if header.version != FORMAT_VERSION {
            return Err(ShardError::UnsupportedVersion {
                path: path.to_path_buf(),
                found: header.version,
                supported: FORMAT_VERSION,
            });
        }
        let corrupt = |reason: String| ShardError::Corrupt { path: path.to_path_buf(), reason };
        if header.token_bytes != 2 && header.token_bytes != 4 {
            return Err(corrupt(format!("token id size {} (expected 2 or 4)", header.token_bytes)));
        }
        let expected = header
            .num_tokens
            .checked_mul(header.token_bytes as u64)
            .and_then(|_| header.num_docs.checked_add(1))
            .map(|_| header.file_len())
            .ok_or_else(|| corrupt("header sizes overflow".into()))?;
        if found != expected {
            return Err(if found < expected {
                ShardError::Truncated { path: path.to_path_buf(), expected, found }
            } else {
                corrupt(format!("file has {found} bytes, header implies {expected}"))
            });
        }
        let shard = Shard { path: path.to_path_buf(), map, header };
        let offsets = shard.offsets();
        if offsets.first() != Some(&0)
            || offsets.last() != Some(&header.num_tokens)
            || offsets.windows(2).any(|w| w[0] > w[1])
        {
            return Err(corrupt("document offset table is not monotone from 0 to the token count".into()));
        }
        Ok(shard)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn header(&self) -> &Header {
        &self.header
    }

    /// Hex SHA-256 of the tokenizer the shard was made with.
    pub fn tokenizer_hash(&self) -> String {
        hex(&self.header.tokenizer_hash)
    }

    pub fn num_tokens(&self) -> u64 {
        self.header.num_tokens
    }

    pub fn num_docs(&self) -> usize {
        self.header.num_docs as usize
    }

    fn offsets(&self) -> &[u64] {
        let start = self.header.offsets_start() as usize;
        let bytes = &self.map[start..start + (self.num_docs() + 1) * 8];
        // SAFETY: the map is page-aligned and `start` is a multiple of 8, so the slice is aligned for u64; the
        // length is a multiple of 8 and lies inside the map (checked in `open`); any bit pattern is a valid u64.
        let (pre, table, post) = unsafe { bytes.align_to::<u64>() };
        debug_assert!(pre.is_empty() && post.is_empty());
        table
    }

    /// All token ids of the shard.
    pub fn tokens(&self) -> DocTokens<'_> {
        let n = self.header.num_tokens as usize;
        let bytes = &self.map[HEADER_BYTES..HEADER_BYTES + n * self.header.token_bytes as usize];
        // SAFETY: HEADER_BYTES (128) keeps the page-aligned map aligned for u16/u32; sizes were checked in `open`.
        unsafe {
            if self.header.token_bytes == 2 {
                DocTokens::U16(bytes.align_to::<u16>().1)
            } else {
                DocTokens::U32(bytes.align_to::<u32>().1)
            }
        }
    }

    /// Token range of document `i` within [`Shard::tokens`].
    pub fn doc_range(&self, i: usize) -> std::ops::Range<usize> {
        let o = self.offsets();
        o[i] as usize..o[i + 1] as usize
    }

    /// The token ids of document `i`.
    ///
    /// # Panics
    /// If `i >= num_docs()`.
    pub fn doc(&self, i: usize) -> DocTokens<'_> {
        let r = self.doc_range(i);
        match self.tokens() {
            DocTokens::U16(s) => DocTokens::U16(&s[r]),
            DocTokens::U32(s) => DocTokens::U32(&s[r]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::ShardWriter;
    use super::*;

    const HASH: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

    fn write(dir: &Path, vocab: usize, docs: &[Vec<u32>]) -> PathBuf {
        let path = dir.join("train-00000.bin");
        let mut w = ShardWriter::create(&path, vocab, HASH).unwrap();
        for d in docs {
            w.push_document(d).unwrap();
        }
        w.finish().unwrap();
        path
    }

    #[test]
    fn roundtrip_u16_and_u32() {
        let dir = tempfile::tempdir().unwrap();
        for vocab in [8192, 100_000] {
            let docs = vec![vec![1, 2, 3], vec![], vec![(vocab - 1) as u32]];
            let path = write(dir.path(), vocab, &docs);
            let shard = Shard::open(&path).unwrap();
            assert_eq!(shard.num_docs(), 3);
            assert_eq!(shard.num_tokens(), 4);
            assert_eq!(shard.tokenizer_hash(), HASH);
            for (i, d) in docs.iter().enumerate() {
                assert_eq!(&shard.doc(i).to_vec(), d);
            }
            assert!(!path.with_extension("bin.tmp").exists());
        }
    }

    #[test]
    fn out_of_vocab_id_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = ShardWriter::create(&dir.path().join("x.bin"), 10, HASH).unwrap();
        assert!(matches!(w.push_document(&[10]), Err(ShardError::Corrupt { .. })));
    }

    #[test]
    fn truncated_bad_magic_and_version_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), 8192, &[vec![5; 100]]);
        let bytes = std::fs::read(&path).unwrap();

        std::fs::write(&path, &bytes[..bytes.len() - 9]).unwrap();
        let err = Shard::open(&path).unwrap_err();
        assert!(matches!(err, ShardError::Truncated { .. }), "{err}");
        assert!(err.to_string().contains("train-00000.bin"));

        std::fs::write(&path, &bytes[..50]).unwrap();
        assert!(matches!(Shard::open(&path).unwrap_err(), ShardError::Truncated { expected: 128, .. }));

        let mut bad = bytes.clone();
        bad[0] = b'X';
        std::fs::write(&path, &bad).unwrap();
        assert!(matches!(Shard::open(&path).unwrap_err(), ShardError::BadMagic { .. }));

        let mut bad = bytes.clone();
        bad[8] = 9;
        std::fs::write(&path, &bad).unwrap();
        let err = Shard::open(&path).unwrap_err();
        assert!(matches!(err, ShardError::UnsupportedVersion { found: 9, supported: 1, .. }), "{err}");

        let mut bad = bytes;
        let n = bad.len();
        bad[n - 8] = 7; // last offset no longer equals the token count
        std::fs::write(&path, &bad).unwrap();
        assert!(matches!(Shard::open(&path).unwrap_err(), ShardError::Corrupt { .. }));
    }
}
