//! Evaluation text: the bundled corpus's held-out documents (whole documents never used for training or
//! validation: the last State of the Union addresses, the last chapters of Moby-Dick, Persuasion, two plays, ten
//! Brown texts, two fortune files).

use birdie_data::{BundledCorpus, Document, Split};

use crate::EvalError;

/// The held-out documents, in manifest order.
pub fn documents() -> Result<Vec<Document>, EvalError> {
    let corpus = BundledCorpus::load()?;
    Ok(corpus.split(Split::Heldout).cloned().collect())
}

/// The source of a document id (`austen/persuasion` → `austen`).
pub fn source(id: &str) -> &str {
    id.split('/').next().unwrap_or(id)
}

/// Paragraphs (blocks separated by blank lines) with their whitespace collapsed.
pub fn paragraphs(text: &str) -> Vec<String> {
    text.split("\n\n").map(|p| p.split_whitespace().collect::<Vec<_>>().join(" ")).filter(|p| !p.is_empty()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn held_out_books_are_there() {
        let docs = documents().unwrap();
        assert!(docs.iter().any(|d| d.id == "austen/persuasion"));
        assert!(docs.iter().any(|d| source(&d.id) == "moby-dick"));
        assert_eq!(paragraphs("a  b\nc\n\n\n\nd"), vec!["a b c".to_string(), "d".to_string()]);
    }
}
