//! The shard file format (version 1), little-endian:
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 8 | magic `BIRDSHRD` |
//! | 8 | 4 | format version (1) |
//! | 12 | 4 | bytes per token id (2 = u16, 4 = u32) |
//! | 16 | 4 | vocabulary size (every id is below it) |
//! | 20 | 4 | reserved (0) |
//! | 24 | 8 | number of tokens `N` |
//! | 32 | 8 | number of documents `D` |
//! | 40 | 32 | SHA-256 of the tokenizer (raw bytes of [`Tokenizer::hash`](crate::Tokenizer::hash)) |
//! | 72 | 56 | zero |
//! | 128 | N × id size | token ids, documents back to back |
//! | align 8 | (D + 1) × 8 | document start offsets in tokens, then N |

/// Magic bytes at the start of every shard.
pub const MAGIC: [u8; 8] = *b"BIRDSHRD";
/// The format version this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;
/// Header size in bytes; token ids start here.
pub const HEADER_BYTES: usize = 128;

#[cfg(not(target_endian = "little"))]
compile_error!("token shards are memory-mapped as little-endian integers");

/// The fixed-size header of a shard file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub version: u32,
    pub token_bytes: u32,
    pub vocab_size: u32,
    pub num_tokens: u64,
    pub num_docs: u64,
    pub tokenizer_hash: [u8; 32],
}

impl Header {
    /// Serialises the header into its 128 bytes.
    pub fn to_bytes(&self) -> [u8; HEADER_BYTES] {
        let mut b = [0u8; HEADER_BYTES];
        b[0..8].copy_from_slice(&MAGIC);
        b[8..12].copy_from_slice(&self.version.to_le_bytes());
        b[12..16].copy_from_slice(&self.token_bytes.to_le_bytes());
        b[16..20].copy_from_slice(&self.vocab_size.to_le_bytes());
        b[24..32].copy_from_slice(&self.num_tokens.to_le_bytes());
        b[32..40].copy_from_slice(&self.num_docs.to_le_bytes());
        b[40..72].copy_from_slice(&self.tokenizer_hash);
        b
    }

    /// Parses the first 128 bytes; `None` if the magic is wrong.
    pub fn from_bytes(b: &[u8; HEADER_BYTES]) -> Option<Self> {
        if b[0..8] != MAGIC {
            return None;
        }
        let u32_at = |o: usize| u32::from_le_bytes(b[o..o + 4].try_into().expect("4 bytes"));
        let u64_at = |o: usize| u64::from_le_bytes(b[o..o + 8].try_into().expect("8 bytes"));
        Some(Header {
            version: u32_at(8),
            token_bytes: u32_at(12),
            vocab_size: u32_at(16),
            num_tokens: u64_at(24),
            num_docs: u64_at(32),
            tokenizer_hash: b[40..72].try_into().expect("32 bytes"),
        })
    }

    /// Byte offset of the document offset table.
    pub fn offsets_start(&self) -> u64 {
        (HEADER_BYTES as u64 + self.num_tokens * self.token_bytes as u64).next_multiple_of(8)
    }

    /// Total file size implied by the header.
    pub fn file_len(&self) -> u64 {
        self.offsets_start() + (self.num_docs + 1) * 8
    }
}

/// Bytes per token id for a vocabulary: 2 when every id fits in u16, else 4.
pub fn token_bytes_for_vocab(vocab_size: usize) -> u32 {
    if vocab_size <= u16::MAX as usize + 1 {
        2
    } else {
        4
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Golden header bytes: a change here is a format change and needs a new FORMAT_VERSION.
    #[test]
    fn header_layout_is_stable() {
        let h = Header {
            version: 1,
            token_bytes: 2,
            vocab_size: 8192,
            num_tokens: 5,
            num_docs: 2,
            tokenizer_hash: [0xab; 32],
        };
        let b = h.to_bytes();
        assert_eq!(&b[..8], b"BIRDSHRD");
        assert_eq!(&b[8..24], &[1, 0, 0, 0, 2, 0, 0, 0, 0, 32, 0, 0, 0, 0, 0, 0]);
        assert_eq!(&b[24..40], &[5, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0]);
        assert!(b[40..72].iter().all(|&x| x == 0xab) && b[72..].iter().all(|&x| x == 0));
        assert_eq!(Header::from_bytes(&b), Some(h));
        assert_eq!(h.offsets_start(), 144);
        assert_eq!(h.file_len(), 144 + 24);
    }

    #[test]
    fn id_width_follows_vocab() {
        assert_eq!(token_bytes_for_vocab(8192), 2);
        assert_eq!(token_bytes_for_vocab(65536), 2);
        assert_eq!(token_bytes_for_vocab(65537), 4);
    }
}
