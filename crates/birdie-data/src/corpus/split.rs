//! Train / validation / held-out splits.
//!
//! The bundled corpus is split by its committed manifest. A user's corpus is split by a hash of each document's
//! text, so the same document always lands in the same split whatever the file order or the other documents.

use sha2::{Digest, Sha256};

/// Which part of a corpus a document belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Split {
    /// Training text.
    Train,
    /// Validation text (the controller's per-arm validation batches).
    Validation,
    /// Evaluation text never used in training or validation.
    Heldout,
}

impl Split {
    /// All splits, in display order.
    pub const ALL: [Split; 3] = [Split::Train, Split::Validation, Split::Heldout];

    /// The split's name as used in file names and the manifest.
    pub fn as_str(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Validation => "validation",
            Split::Heldout => "heldout",
        }
    }
}

impl std::fmt::Display for Split {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Split {
    type Err = super::UnknownName;
    fn from_str(s: &str) -> Result<Self, super::UnknownName> {
        match s {
            "train" => Ok(Split::Train),
            "validation" => Ok(Split::Validation),
            "heldout" => Ok(Split::Heldout),
            other => {
                Err(super::UnknownName { what: "split", value: other.into(), expected: "train, validation or heldout" })
            }
        }
    }
}

/// Split of a user document: validation when the first 8 bytes of SHA-256(text), read as a big-endian fraction of
/// 2^64, fall below `validation_fraction`; train otherwise.
pub fn split_for_text(text: &str, validation_fraction: f64) -> Split {
    let digest = Sha256::digest(text.as_bytes());
    let x = u64::from_be_bytes(digest[..8].try_into().expect("SHA-256 has 32 bytes"));
    if (x as f64) < validation_fraction * (u64::MAX as f64) {
        Split::Validation
    } else {
        Split::Train
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_split_is_stable_and_close_to_fraction() {
        let n = 20_000;
        let val = (0..n).filter(|i| split_for_text(&format!("document {i}"), 0.05) == Split::Validation).count();
        assert!((800..1200).contains(&val), "{val}");
        assert_eq!(split_for_text("same text", 0.5), split_for_text("same text", 0.5));
        assert_eq!(split_for_text("anything", 0.0), Split::Train);
        assert_eq!(split_for_text("anything", 1.0), Split::Validation);
    }
}
