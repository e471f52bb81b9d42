//! Dictionary-lookup QA: a context of K `word: gloss` entries (WordNet glosses, `data/eval/wordnet-glosses.tsv.zst`,
//! licence in `data/LICENSES/wordnet.txt`), then "What does X mean?"; the answer is X's gloss. Scored on the first
//! generated line: exact match, SQuAD token F1 and the paper's "answer contains label". The chance level of F1 is
//! measured, not assumed: the F1 of another entry's gloss from the same context against the gold one.

use std::collections::HashSet;
use std::sync::OnceLock;

use birdie_core::SampleRng;
use rand::Rng;

use crate::evaluator::Evaluator;
use crate::metrics::{contains_label, exact_match, token_f1};
use crate::report::EvalReport;
use crate::{EvalError, Progress};

static GLOSSES: &[u8] = include_bytes!("../data/wordnet-glosses.tsv.zst");
/// Gloss length range in words.
pub const GLOSS_WORDS: (usize, usize) = (3, 20);

/// (headword, gloss) entries: the first lemma of each synset with a single-word-or-phrase headword, the gloss without
/// its quoted examples.
pub fn entries() -> Result<&'static [(String, String)], EvalError> {
    static ENTRIES: OnceLock<Result<Vec<(String, String)>, String>> = OnceLock::new();
    let r = ENTRIES.get_or_init(|| {
        let text = zstd::decode_all(GLOSSES).map_err(|e| format!("wordnet-glosses.tsv.zst: {e}"))?;
        let text = String::from_utf8(text).map_err(|e| format!("wordnet-glosses.tsv.zst: {e}"))?;
        let mut out = Vec::new();
        for line in text.lines() {
            let mut f = line.split('\t');
            let (Some(_pos), Some(lemmas), Some(gloss)) = (f.next(), f.next(), f.next()) else { continue };
            let word = lemmas.split(';').next().unwrap_or("").trim();
            let gloss = gloss.split("; \"").next().unwrap_or("").trim().trim_end_matches(';').trim();
            let n = gloss.split_whitespace().count();
            if word.is_empty() || !(GLOSS_WORDS.0..=GLOSS_WORDS.1).contains(&n) || gloss.contains('\n') {
                continue;
            }
            out.push((word.to_string(), gloss.to_string()));
        }
        Ok(out)
    });
    r.as_deref().map_err(|e| EvalError::Data(e.clone()))
}

#[derive(Debug, Clone, PartialEq)]
pub struct DictQaOptions {
    /// Entries per context.
    pub entries: Vec<usize>,
    /// Items per setting.
    pub n: usize,
    pub jrt: bool,
    pub seed: u64,
}

impl Default for DictQaOptions {
    fn default() -> Self {
        DictQaOptions { entries: vec![5, 20], n: 16, jrt: false, seed: 0 }
    }
}

/// One question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DictQaItem {
    pub prompt: String,
    pub answer: String,
    /// A gloss of another entry of the context (the F1 chance baseline).
    pub other: String,
    pub context: Vec<(String, String)>,
}

/// `k` entries with distinct headwords and glosses, and a question about one of them.
pub fn make_item(rng: &mut SampleRng, all: &[(String, String)], k: usize, jrt: bool) -> DictQaItem {
    let k = k.max(2);
    let (mut words, mut glosses) = (HashSet::new(), HashSet::new());
    let mut context = Vec::with_capacity(k);
    while context.len() < k {
        let (w, g) = &all[rng.random_range(0..all.len())];
        if words.insert(w.to_lowercase()) && glosses.insert(g.clone()) {
            context.push((w.clone(), g.clone()));
        }
    }
    let q = rng.random_range(0..k);
    let other = (q + rng.random_range(1..k)) % k;
    let lines: String = context.iter().map(|(w, g)| format!("{w}: {g}\n")).collect();
    let body = if jrt { format!("{lines}\n{lines}") } else { lines };
    let prompt = format!("Dictionary:\n{body}\nWhat does {} mean?\n", context[q].0);
    DictQaItem { prompt, answer: context[q].1.clone(), other: context[other].1.clone(), context }
}

/// The items [`run`] evaluates: `o.n` per entry count of `o.entries`, in that order.
pub fn items(o: &DictQaOptions) -> Result<Vec<Vec<DictQaItem>>, EvalError> {
    let all = entries()?;
    Ok(o.entries
        .iter()
        .enumerate()
        .map(|(s, &k)| {
            (0..o.n)
                .map(|i| make_item(&mut SampleRng::derive(o.seed, 0x6471_6100 + s as u64, i as u64), all, k, o.jrt))
                .collect()
        })
        .collect())
}

pub fn run(ev: &Evaluator, o: &DictQaOptions, progress: Progress) -> Result<EvalReport, EvalError> {
    let items = items(o)?;
    let mut report = EvalReport::new("dictqa", &ev.checkpoint, o.seed);
    let mut sums = [0.0f64; 4];
    let total = o.entries.len() * o.n;
    let mut done = 0;
    for (&k, setting_items) in o.entries.iter().zip(&items) {
        let mut m = [0.0f64; 4];
        for item in setting_items {
            let max_new = ev.encode(&item.answer)?.len() + 16;
            let generated = ev.answer(&item.prompt, max_new)?;
            let line = generated.trim_start().lines().next().unwrap_or("").to_string();
            m[0] += exact_match(&line, &item.answer);
            m[1] += token_f1(&line, &item.answer);
            m[2] += contains_label(&line, &item.answer);
            m[3] += token_f1(&item.other, &item.answer);
            done += 1;
            progress(done, total);
        }
        let setting = format!("entries={k}");
        let n = o.n.max(1) as f64;
        report.push("exact_match", m[0] / n, 0.0, &setting);
        report.push("f1", m[1] / n, m[3] / n, &setting);
        report.push("contains_label", m[2] / n, 0.0, &setting);
        for (a, b) in sums.iter_mut().zip(m) {
            *a += b;
        }
    }
    let n = done.max(1) as f64;
    report.n = done;
    report.push("exact_match", sums[0] / n, 0.0, "all");
    report.push("f1", sums[1] / n, sums[3] / n, "all");
    report.push("contains_label", sums[2] / n, 0.0, "all");
    Ok(report)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn glosses_load_without_examples() {
        let e = entries().unwrap();
        assert!(e.len() > 50_000, "{}", e.len());
        assert!(e.iter().all(|(_, g)| !g.contains("; \"")));
        let knothole = e.iter().find(|(w, _)| w == "knothole").unwrap();
        assert_eq!(knothole.1, "a hole in a board where a knot came out");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]

        #[test]
        fn the_answer_is_the_queried_entry_of_the_context(seed in 0u64..10_000, k in 2usize..40, jrt: bool) {
            let all = entries().unwrap();
            let a = make_item(&mut SampleRng::derive(seed, 0, 0), all, k, jrt);
            prop_assert_eq!(&a, &make_item(&mut SampleRng::derive(seed, 0, 0), all, k, jrt));
            prop_assert_eq!(a.context.len(), k);
            let word = a.prompt.lines().last().unwrap().trim_start_matches("What does ").trim_end_matches(" mean?");
            let entry = format!("{word}: {}\n", a.answer);
            prop_assert_eq!(a.prompt.matches(entry.as_str()).count(), if jrt { 2 } else { 1 });
            prop_assert!(a.other != a.answer);
        }
    }
}
