//! The bundled default corpus (`data/corpus/`), embedded in the binary so `birdie` works from any directory.
//!
//! `scripts/build-default-corpus.sh` builds it from pinned registry packages (data-sources.md): six prose sources
//! stored as zstd-compressed JSON lines (`{"id", "text"}`), and `manifest.json` giving every document's split and the
//! SHA-256 of its text. Loading verifies every checksum, so the text used is exactly the text the script produced.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

use super::{Document, IngestError, Split};
use crate::tokenizer::hex;

macro_rules! corpus_file {
    ($name:literal) => {
        ($name, include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/bundled/corpus/", $name)) as &[u8])
    };
}

/// The embedded corpus files (must match the manifest's `sources`; a test checks it).
const FILES: [(&str, &[u8]); 6] = [
    corpus_file!("sotu.jsonl.zst"),
    corpus_file!("moby-dick.jsonl.zst"),
    corpus_file!("austen.jsonl.zst"),
    corpus_file!("shakespeare.jsonl.zst"),
    corpus_file!("brown.jsonl.zst"),
    corpus_file!("fortunes.jsonl.zst"),
];
const MANIFEST: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/bundled/corpus/manifest.json"));

/// `data/corpus/manifest.json`.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct CorpusManifest {
    pub format_version: u32,
    pub sources: Vec<ManifestSource>,
    pub documents: Vec<ManifestDocument>,
}

/// One source of the bundled corpus.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestSource {
    pub name: String,
    pub file: String,
    pub package: String,
    pub license: String,
    pub documents: usize,
    pub bytes: u64,
}

/// One document of the bundled corpus: its split and the SHA-256 of its UTF-8 text.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestDocument {
    pub id: String,
    pub split: Split,
    pub bytes: u64,
    pub sha256: String,
}

impl CorpusManifest {
    /// The manifest embedded in this build.
    pub fn bundled() -> Result<Self, IngestError> {
        serde_json::from_str(MANIFEST).map_err(|e| IngestError::Bundled(format!("manifest.json: {e}")))
    }

    /// Reads `dir/manifest.json`.
    pub fn from_dir(dir: &Path) -> Result<Self, IngestError> {
        let path = dir.join("manifest.json");
        let text = std::fs::read_to_string(&path).map_err(|e| IngestError::Io { path: path.clone(), source: e })?;
        serde_json::from_str(&text).map_err(|e| IngestError::Bundled(format!("{}: {e}", path.display())))
    }
}

/// The verified documents of the bundled corpus, with their splits, in manifest order.
#[derive(Debug, Clone)]
pub struct BundledCorpus {
    pub manifest: CorpusManifest,
    pub documents: Vec<(Split, Document)>,
}

impl BundledCorpus {
    /// Decompresses and verifies the embedded corpus (about 30 MB of text).
    pub fn load() -> Result<Self, IngestError> {
        let manifest = CorpusManifest::bundled()?;
        let files: HashMap<&str, &[u8]> = FILES.iter().copied().collect();
        let documents = verify(&manifest, |name| {
            files
                .get(name)
                .map(|b| b.to_vec())
                .ok_or_else(|| IngestError::Bundled(format!("{name} is listed in the manifest but not embedded")))
        })?;
        Ok(BundledCorpus { manifest, documents })
    }

    /// Reads and verifies a corpus directory laid out like `data/corpus/` against `manifest` (used to check a
    /// rebuild by `scripts/build-default-corpus.sh` against the committed manifest).
    pub fn load_dir(dir: &Path, manifest: &CorpusManifest) -> Result<Self, IngestError> {
        let documents = verify(manifest, |name| {
            let path = dir.join(name);
            std::fs::read(&path).map_err(|e| IngestError::Io { path, source: e })
        })?;
        Ok(BundledCorpus { manifest: manifest.clone(), documents })
    }

    /// Documents of one split.
    pub fn split(&self, split: Split) -> impl Iterator<Item = &Document> {
        self.documents.iter().filter(move |(s, _)| *s == split).map(|(_, d)| d)
    }
}

fn verify(
    manifest: &CorpusManifest,
    read: impl Fn(&str) -> Result<Vec<u8>, IngestError>,
) -> Result<Vec<(Split, Document)>, IngestError> {
    let mut texts: HashMap<String, String> = HashMap::new();
    for source in &manifest.sources {
        let compressed = read(&source.file)?;
        let mut raw = String::new();
        zstd::Decoder::new(&compressed[..])
            .and_then(|mut d| d.read_to_string(&mut raw))
            .map_err(|e| IngestError::Bundled(format!("{}: cannot decompress: {e}", source.file)))?;
        for (i, line) in raw.lines().enumerate() {
            #[derive(serde::Deserialize)]
            struct Line {
                id: String,
                text: String,
            }
            let rec: Line = serde_json::from_str(line)
                .map_err(|e| IngestError::Bundled(format!("{}:{}: {e}", source.file, i + 1)))?;
            if texts.insert(rec.id.clone(), rec.text).is_some() {
                return Err(IngestError::Bundled(format!("document {} appears twice", rec.id)));
            }
        }
    }
    let mut documents = Vec::with_capacity(manifest.documents.len());
    for entry in &manifest.documents {
        let text = texts.remove(&entry.id).ok_or_else(|| {
            IngestError::Bundled(format!("document {} is in the manifest but not in the corpus", entry.id))
        })?;
        let found = hex(&Sha256::digest(text.as_bytes()));
        if found != entry.sha256 {
            return Err(IngestError::ChecksumMismatch { id: entry.id.clone(), expected: entry.sha256.clone(), found });
        }
        documents.push((entry.split, Document { id: entry.id.clone(), text }));
    }
    if let Some(extra) = texts.keys().next() {
        return Err(IngestError::Bundled(format!("document {extra} is in the corpus but not in the manifest")));
    }
    Ok(documents)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_files_match_manifest_sources() {
        let manifest = CorpusManifest::bundled().unwrap();
        let embedded: Vec<&str> = FILES.iter().map(|(n, _)| *n).collect();
        let listed: Vec<&str> = manifest.sources.iter().map(|s| s.file.as_str()).collect();
        assert_eq!(embedded, listed);
    }

    #[test]
    fn bundled_corpus_verifies_and_has_all_splits() {
        let corpus = BundledCorpus::load().unwrap();
        assert_eq!(corpus.documents.len(), corpus.manifest.documents.len());
        let bytes = |s| corpus.split(s).map(|d| d.text.len()).sum::<usize>();
        assert!(bytes(Split::Train) > 25_000_000, "{}", bytes(Split::Train));
        assert!(bytes(Split::Validation) > 100_000);
        assert!(bytes(Split::Heldout) > 1_000_000);
        // The held-out Austen novel and plays never appear in training.
        let held: Vec<_> = corpus.split(Split::Heldout).map(|d| d.id.as_str()).collect();
        assert!(held.contains(&"austen/persuasion") && held.contains(&"shakespeare/macbeth"));
    }

    #[test]
    fn tampered_text_fails_its_checksum() {
        let mut manifest = CorpusManifest::bundled().unwrap();
        manifest.documents[0].sha256 = "0".repeat(64);
        let files: HashMap<&str, &[u8]> = FILES.iter().copied().collect();
        let err = verify(&manifest, |n| Ok(files[n].to_vec())).unwrap_err();
        assert!(matches!(err, IngestError::ChecksumMismatch { .. }), "{err}");
    }
}
