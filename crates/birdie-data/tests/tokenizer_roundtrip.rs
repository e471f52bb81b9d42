//! The bundled tokenizer round-trips text exactly, and a tokenizer saved and reloaded encodes identically.

use birdie_data::{BundledCorpus, Split, Tokenizer};

#[test]
fn heldout_text_roundtrips_exactly() {
    let tok = Tokenizer::bundled().unwrap();
    let corpus = BundledCorpus::load().unwrap();
    let mut docs = 0;
    for doc in corpus.split(Split::Heldout) {
        let ids = tok.encode(&doc.text).unwrap();
        assert!(ids.iter().all(|&id| (id as usize) < tok.vocab_size()));
        let back = tok.decode(&ids).unwrap();
        assert!(back == doc.text, "{} does not round-trip", doc.id);
        docs += 1;
    }
    assert!(docs >= 30, "{docs}");
}

#[test]
fn bundled_tokenizer_has_birdie_layout() {
    let tok = Tokenizer::bundled().unwrap();
    assert_eq!(tok.vocab_size(), 8192);
    assert!(tok.added_special_tokens().is_empty());
    let st = tok.specials();
    assert_eq!((st.pad, st.end_of_document, st.start_of_generation), (0, 1, 2));
    assert_eq!(st.sentinels().len(), 512);
}

#[test]
fn saved_tokenizer_reloads_with_same_ids_and_hash() {
    let tok = Tokenizer::bundled().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokenizer.json");
    tok.save(&path).unwrap();
    let again = Tokenizer::from_file(&path).unwrap();
    assert_eq!(again.hash(), tok.hash());
    let text = "It is a truth universally acknowledged, that a single man in possession of a good fortune…";
    assert_eq!(again.encode(text).unwrap(), tok.encode(text).unwrap());
}

/// `birdie tokenizer train --vocab-size 8192` on the bundled train split reproduces `data/tokenizer.json`.
#[test]
fn bundled_tokenizer_is_reproducible_from_the_train_split() {
    let corpus = BundledCorpus::load().unwrap();
    let texts: Vec<String> = corpus.split(Split::Train).map(|d| d.text.clone()).collect();
    let trained = Tokenizer::train(texts.into_iter(), 8192).unwrap();
    assert_eq!(trained.hash(), Tokenizer::bundled().unwrap().hash());
}
