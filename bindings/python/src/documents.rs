//! The documents of a run, tokenized: texts handed over by Python, files read here (txt, jsonl, parquet), a birdie
//! shard directory, or the bundled corpus.

use std::path::PathBuf;
use std::sync::Arc;

use birdie_core::pipeline::{DocumentSource, ShardDocuments};
use birdie_data::corpus::{collect_inputs, open_input, split_for_text, Record};
use birdie_data::{BundledCorpus, ReadOptions, ShardSet, Split, Tokenizer};
use rayon::prelude::*;

/// Share of documents given without a split that go to validation (by a hash of the text, so the split does not
/// depend on the order).
pub const VALIDATION_FRACTION: f64 = 0.05;

/// Where the documents come from.
pub enum DocumentInput {
    /// Train and validation texts; an empty validation list is filled by the hash split of the train texts.
    Texts { train: Vec<String>, validation: Vec<String> },
    /// Files and directories, split by the hash of each document's text.
    Paths(Vec<PathBuf>),
    /// A birdie shard directory with its train and validation splits.
    Shards(PathBuf),
    /// birdie's bundled corpus.
    Bundled,
}

/// Train and validation documents.
pub type Splits = (Arc<dyn DocumentSource>, Arc<dyn DocumentSource>);

impl DocumentInput {
    pub fn from_args(
        train: Option<Vec<String>>,
        validation: Option<Vec<String>>,
        paths: Option<Vec<String>>,
        shards: Option<String>,
    ) -> Result<Self, String> {
        match (train, paths, shards) {
            (Some(train), None, None) => Ok(DocumentInput::Texts { train, validation: validation.unwrap_or_default() }),
            (None, Some(p), None) => Ok(DocumentInput::Paths(p.into_iter().map(PathBuf::from).collect())),
            (None, None, Some(s)) => Ok(DocumentInput::Shards(PathBuf::from(s))),
            (None, None, None) => Ok(DocumentInput::Bundled),
            _ => Err("give one source of documents: texts, paths or shards".into()),
        }
    }

    /// Reads and tokenizes the documents (in parallel); errors name the file or say what is empty. Records passed
    /// over (an empty line, a row without text) are appended to `skipped`, naming each.
    pub fn load(self, tokenizer: &Tokenizer, skipped: &mut Vec<String>) -> Result<Splits, String> {
        let (train, validation) = match self {
            DocumentInput::Shards(dir) => {
                let set = Arc::new(ShardSet::open_for(&dir, tokenizer).map_err(|e| e.to_string())?);
                let train = ShardDocuments::new(set.clone(), Split::Train).map_err(|e| e.to_string())?;
                let validation = ShardDocuments::new(set, Split::Validation).map_err(|e| e.to_string())?;
                return Ok((Arc::new(train), Arc::new(validation)));
            }
            DocumentInput::Texts { train, validation } if validation.is_empty() => hash_split(train),
            DocumentInput::Texts { train, validation } => (train, validation),
            DocumentInput::Paths(paths) => hash_split(read_paths(&paths, skipped)?),
            DocumentInput::Bundled => {
                let corpus = BundledCorpus::load().map_err(|e| e.to_string())?;
                let texts = |s| corpus.split(s).map(|d| d.text.clone()).collect::<Vec<_>>();
                (texts(Split::Train), texts(Split::Validation))
            }
        };
        let train = tokenize(tokenizer, &train)?;
        let validation = tokenize(tokenizer, &validation)?;
        if train.is_empty() {
            return Err("the dataset has no training documents (every text was empty)".into());
        }
        if validation.is_empty() {
            return Err("the dataset has no validation documents: give a validation split or more documents".into());
        }
        Ok((Arc::new(train), Arc::new(validation)))
    }
}

/// (train, validation) by the hash of each text.
fn hash_split(texts: Vec<String>) -> (Vec<String>, Vec<String>) {
    let (validation, train): (Vec<String>, Vec<String>) =
        texts.into_iter().partition(|t| split_for_text(t, VALIDATION_FRACTION) == Split::Validation);
    if validation.is_empty() && train.len() > 1 {
        // Too few documents for the hash to pick one: the last one validates.
        let mut train = train;
        let last = train.pop().into_iter().collect();
        return (train, last);
    }
    (train, validation)
}

/// The texts of every document under `paths`; a record passed over goes to `skipped`, an unreadable file is an
/// error.
fn read_paths(paths: &[PathBuf], skipped: &mut Vec<String>) -> Result<Vec<String>, String> {
    let selection = collect_inputs(paths, None).map_err(|e| e.to_string())?;
    let mut texts = Vec::new();
    for file in &selection.files {
        for record in open_input(file, &ReadOptions::default()).map_err(|e| e.to_string())? {
            match record.map_err(|e| e.to_string())? {
                Record::Document(d) => texts.push(d.text),
                Record::Skipped(s) => skipped.push(format!("{}: {}", s.what, s.reason)),
            }
        }
    }
    Ok(texts)
}

/// Token ids of each non-empty text.
fn tokenize(tokenizer: &Tokenizer, texts: &[String]) -> Result<Vec<Vec<u32>>, String> {
    let docs: Vec<Vec<u32>> = texts
        .par_chunks(256)
        .map(|chunk| {
            let refs: Vec<&str> = chunk.iter().map(String::as_str).collect();
            tokenizer.encode_batch(&refs).map_err(|e| e.to_string())
        })
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .flatten()
        .filter(|d| !d.is_empty())
        .collect();
    Ok(docs)
}
