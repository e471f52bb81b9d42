//! The special tokens every birdie tokenizer carries, and their ids.
//!
//! Birdie's objectives and packer need token *ids* that can never be produced by ordinary text (design B13): padding,
//! end of document, the start-of-generation token placed between a sample's prefix and its label (design §2.2, A11),
//! one paradigm token per objective kind (design §1, paper A.6), 512 span-corruption sentinels (heavy-corruption arms
//! use hundreds per 2048-token sample; objectives cap their spans at the sentinels available), and the
//! selective-copying markers (design §1.7). Numbered selective-copying blocks are written as a marker followed by the
//! sentinel of that number (`<|find|><|mask_3|>` … `<|res|><|mask_3|>`), so no per-number marker is needed.

use std::fmt;

/// Number of span-corruption sentinel tokens `<|mask_0|>` … `<|mask_511|>`.
pub const SENTINEL_COUNT: usize = 512;

/// Padding (never a label, never attended by real tokens).
pub const PAD: &str = "<|pad|>";
/// End of a document.
pub const END_OF_DOCUMENT: &str = "<|endoftext|>";
/// Start of generation: separates a packed sample's prefix from its teacher-forced label (design §2.2).
pub const START_OF_GENERATION: &str = "<|start_gen|>";

/// The objective kinds that have a paradigm token (design §1.0 registry, one token per kind).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Paradigm {
    NextTokenPrediction,
    PrefixLanguageModeling,
    Infilling,
    Copying,
    Deshuffling,
    Autoencoding,
    AutoencodingWithDeshuffling,
    SelectiveCopying,
}

impl Paradigm {
    /// Every paradigm, in id order.
    pub const ALL: [Paradigm; 8] = [
        Paradigm::NextTokenPrediction,
        Paradigm::PrefixLanguageModeling,
        Paradigm::Infilling,
        Paradigm::Copying,
        Paradigm::Deshuffling,
        Paradigm::Autoencoding,
        Paradigm::AutoencodingWithDeshuffling,
        Paradigm::SelectiveCopying,
    ];

    /// The token text.
    pub fn token(self) -> &'static str {
        match self {
            Paradigm::NextTokenPrediction => "<|ntp|>",
            Paradigm::PrefixLanguageModeling => "<|prefix_lm|>",
            Paradigm::Infilling => "<|infill|>",
            Paradigm::Copying => "<|copy|>",
            Paradigm::Deshuffling => "<|deshuffle|>",
            Paradigm::Autoencoding => "<|autoencode|>",
            Paradigm::AutoencodingWithDeshuffling => "<|autoencode_deshuffle|>",
            Paradigm::SelectiveCopying => "<|selective_copy|>",
        }
    }
}

/// Selective-copying markers (design §1.7): `find … sep … /find` instructions, the `ctx … /ctx` context block, `res`
/// result headers and the final `done`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Marker {
    Find,
    FindEnd,
    Separator,
    Context,
    ContextEnd,
    Result,
    Done,
}

impl Marker {
    /// Every marker, in id order.
    pub const ALL: [Marker; 7] = [
        Marker::Find,
        Marker::FindEnd,
        Marker::Separator,
        Marker::Context,
        Marker::ContextEnd,
        Marker::Result,
        Marker::Done,
    ];

    /// The token text.
    pub fn token(self) -> &'static str {
        match self {
            Marker::Find => "<|find|>",
            Marker::FindEnd => "<|/find|>",
            Marker::Separator => "<|sep|>",
            Marker::Context => "<|ctx|>",
            Marker::ContextEnd => "<|/ctx|>",
            Marker::Result => "<|res|>",
            Marker::Done => "<|done|>",
        }
    }
}

/// Text of sentinel `k` (`<|mask_k|>`).
pub fn sentinel_token(k: usize) -> String {
    format!("<|mask_{k}|>")
}

/// Every special token text, in the order a freshly trained birdie tokenizer assigns ids (0, 1, 2, …).
pub fn all_special_tokens() -> Vec<String> {
    let mut out = vec![PAD.to_string(), END_OF_DOCUMENT.to_string(), START_OF_GENERATION.to_string()];
    out.extend(Paradigm::ALL.iter().map(|p| p.token().to_string()));
    out.extend(Marker::ALL.iter().map(|m| m.token().to_string()));
    out.extend((0..SENTINEL_COUNT).map(sentinel_token));
    out
}

/// Ids of the special tokens in one tokenizer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecialTokens {
    pub pad: u32,
    pub end_of_document: u32,
    pub start_of_generation: u32,
    paradigms: [u32; 8],
    markers: [u32; 7],
    sentinels: Vec<u32>,
}

impl SpecialTokens {
    /// Looks every special token up with `token_to_id`; returns the texts that are missing.
    pub fn from_ids(token_to_id: impl Fn(&str) -> Option<u32>) -> Result<Self, Vec<String>> {
        Self::resolve(token_to_id)
    }

    fn resolve(token_to_id: impl Fn(&str) -> Option<u32>) -> Result<Self, Vec<String>> {
        let mut missing = Vec::new();
        let mut id = |t: &str| {
            token_to_id(t).unwrap_or_else(|| {
                missing.push(t.to_string());
                u32::MAX
            })
        };
        let pad = id(PAD);
        let end_of_document = id(END_OF_DOCUMENT);
        let start_of_generation = id(START_OF_GENERATION);
        let paradigms = Paradigm::ALL.map(|p| id(p.token()));
        let markers = Marker::ALL.map(|m| id(m.token()));
        let sentinels = (0..SENTINEL_COUNT).map(|k| id(&sentinel_token(k))).collect();
        if missing.is_empty() {
            Ok(SpecialTokens { pad, end_of_document, start_of_generation, paradigms, markers, sentinels })
        } else {
            Err(missing)
        }
    }

    /// Id of an objective kind's paradigm token.
    pub fn paradigm(&self, p: Paradigm) -> u32 {
        self.paradigms[Paradigm::ALL.iter().position(|&q| q == p).expect("ALL lists every paradigm")]
    }

    /// Id of a selective-copying marker.
    pub fn marker(&self, m: Marker) -> u32 {
        self.markers[Marker::ALL.iter().position(|&q| q == m).expect("ALL lists every marker")]
    }

    /// Ids of the sentinels `<|mask_0|>` … in order ([`SENTINEL_COUNT`] of them).
    pub fn sentinels(&self) -> &[u32] {
        &self.sentinels
    }

    /// True for any special token id.
    pub fn is_special(&self, id: u32) -> bool {
        id == self.pad
            || id == self.end_of_document
            || id == self.start_of_generation
            || self.paradigms.contains(&id)
            || self.markers.contains(&id)
            || self.sentinels.contains(&id)
    }
}

impl fmt::Display for Paradigm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.token())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn special_token_texts_are_distinct() {
        let all = all_special_tokens();
        assert_eq!(all.len(), 3 + 8 + 7 + SENTINEL_COUNT);
        let set: HashSet<_> = all.iter().collect();
        assert_eq!(set.len(), all.len());
    }

    #[test]
    fn resolve_reports_missing_tokens() {
        let missing = SpecialTokens::resolve(|t| if t == PAD { Some(0) } else { None }).unwrap_err();
        assert_eq!(missing.len(), all_special_tokens().len() - 1);
        assert!(missing.contains(&"<|mask_511|>".to_string()));
    }

    #[test]
    fn resolve_assigns_ids_in_order() {
        let all = all_special_tokens();
        let st = SpecialTokens::resolve(|t| all.iter().position(|s| s == t).map(|i| i as u32)).unwrap();
        assert_eq!((st.pad, st.end_of_document, st.start_of_generation), (0, 1, 2));
        assert_eq!(st.paradigm(Paradigm::NextTokenPrediction), 3);
        assert_eq!(st.marker(Marker::Find), 11);
        assert_eq!(st.sentinels()[0], 18);
        assert!(st.is_special(18 + 511));
        assert!(!st.is_special(18 + 512));
    }
}
