//! Story infilling (paper A.16) from held-out books: 3–7 consecutive paragraphs, one replaced by `(blank)`, four
//! choices — the paragraph and three distractor paragraphs from elsewhere in the same book — scored by
//! length-normalised log-likelihood of `(X) <choice>` after the prompt; the lowest mean loss is the answer.
//! Chance: 25%.

use birdie_core::SampleRng;
use rand::seq::IndexedRandom;
use rand::Rng;

use crate::evaluator::Evaluator;
use crate::lm::TargetSample;
use crate::report::EvalReport;
use crate::{heldout, EvalError, Progress};

/// Books the items come from (held-out novels and chapters).
pub const BOOK_SOURCES: [&str; 2] = ["austen", "moby-dick"];
/// Paragraph length range in words (keeps prompts near the training row length).
pub const WORDS: (usize, usize) = (5, 150);

#[derive(Debug, Clone, PartialEq)]
pub struct InfillOptions {
    /// Items (each with 3–7 entries, drawn uniformly).
    pub n: usize,
    pub seed: u64,
}

impl Default for InfillOptions {
    fn default() -> Self {
        InfillOptions { n: 60, seed: 0 }
    }
}

/// One multiple-choice item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InfillItem {
    pub prompt: String,
    /// The four targets `(A) …` … `(D) …`.
    pub choices: Vec<String>,
    pub answer: usize,
    pub entries: usize,
}

const LETTERS: [char; 4] = ['A', 'B', 'C', 'D'];

/// An item from `books` (each a list of paragraphs), or `None` when no book has a window of `k` usable paragraphs
/// plus 3 distractors.
pub fn make_item(rng: &mut SampleRng, books: &[Vec<String>], k: usize) -> Option<InfillItem> {
    let ok = |p: &String| (WORDS.0..=WORDS.1).contains(&p.split_whitespace().count());
    for _ in 0..5000 {
        let book = &books[rng.random_range(0..books.len())];
        if book.len() < k + 3 {
            continue;
        }
        let start = rng.random_range(0..=book.len() - k);
        let window = &book[start..start + k];
        if !window.iter().all(ok) {
            continue;
        }
        let blank = rng.random_range(0..k);
        let pool: Vec<&String> = book
            .iter()
            .enumerate()
            .filter(|(i, p)| (*i < start || *i >= start + k) && ok(p) && !window.contains(p))
            .map(|(_, p)| p)
            .collect();
        let mut distractors: Vec<&String> = Vec::new();
        for p in pool.choose_multiple(rng, pool.len().min(12)) {
            if distractors.len() < 3 && !distractors.contains(p) {
                distractors.push(p);
            }
        }
        if distractors.len() < 3 {
            continue;
        }
        let mut options: Vec<&String> = distractors;
        let answer = rng.random_range(0..4);
        options.insert(answer, &window[blank]);
        let mut prompt = String::from(
            "Consider the following sequence of events, then select a choice that best fills in the missing entry:\n",
        );
        for (i, p) in window.iter().enumerate() {
            let text = if i == blank { "(blank)" } else { p.as_str() };
            prompt.push_str(&format!("{}. {text}\n", i + 1));
        }
        prompt.push_str("\nChoices:\n");
        for (l, o) in LETTERS.iter().zip(&options) {
            prompt.push_str(&format!("({l}) {o}\n"));
        }
        prompt.push_str("\nWhich choice best fills in the missing entry?\n");
        let choices = LETTERS.iter().zip(&options).map(|(l, o)| format!("({l}) {o}")).collect();
        return Some(InfillItem { prompt, choices, answer, entries: k });
    }
    None
}

/// The held-out books as paragraph lists.
pub fn books() -> Result<Vec<Vec<String>>, EvalError> {
    Ok(heldout::documents()?
        .iter()
        .filter(|d| BOOK_SOURCES.contains(&heldout::source(&d.id)))
        .map(|d| heldout::paragraphs(&d.text))
        .collect())
}

/// The `o.n` items [`run`] evaluates (3–7 paragraphs each).
pub fn items(o: &InfillOptions) -> Result<Vec<InfillItem>, EvalError> {
    let books = books()?;
    (0..o.n)
        .map(|i| {
            let mut rng = SampleRng::derive(o.seed, 0x696e_666c, i as u64);
            let k = rng.random_range(3..=7);
            make_item(&mut rng, &books, k)
                .ok_or_else(|| EvalError::Data("no story window in the held-out books".into()))
        })
        .collect()
}

pub fn run(ev: &Evaluator, o: &InfillOptions, progress: Progress) -> Result<EvalReport, EvalError> {
    let mut report = EvalReport::new("infill", &ev.checkpoint, o.seed);
    let mut per = [(0usize, 0usize); 8];
    for (i, item) in items(o)?.into_iter().enumerate() {
        let k = item.entries;
        let prompt = ev.encode(&item.prompt)?;
        let samples = item
            .choices
            .iter()
            .map(|c| Ok(TargetSample::new(prompt.clone(), ev.encode(c)?)))
            .collect::<Result<Vec<_>, EvalError>>()?;
        let scored = ev.lm.score(&samples)?;
        let best = (0..4).min_by(|&a, &b| scored[a].mean_nll().total_cmp(&scored[b].mean_nll())).unwrap_or(0);
        per[k].0 += usize::from(best == item.answer);
        per[k].1 += 1;
        progress(i + 1, o.n);
    }
    for (k, (hits, n)) in per.iter().enumerate().filter(|(_, p)| p.1 > 0) {
        report.push("accuracy", *hits as f64 / *n as f64, 0.25, &format!("entries={k}"));
    }
    let (hits, n) = per.iter().fold((0, 0), |a, p| (a.0 + p.0, a.1 + p.1));
    report.n = n;
    report.push("accuracy", hits as f64 / n.max(1) as f64, 0.25, "all");
    Ok(report)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]

        #[test]
        fn the_answer_is_the_blanked_paragraph(seed in 0u64..10_000, k in 3usize..=7) {
            let books: Vec<Vec<String>> = (0..2)
                .map(|b| (0..40).map(|i| format!("book {b} paragraph {i} has some words in it to count")).collect())
                .collect();
            let a = make_item(&mut SampleRng::derive(seed, 0, 0), &books, k).unwrap();
            prop_assert_eq!(&a, &make_item(&mut SampleRng::derive(seed, 0, 0), &books, k).unwrap());
            prop_assert_eq!(a.choices.len(), 4);
            prop_assert_eq!(a.prompt.matches("(blank)").count(), 1);
            let gold = a.choices[a.answer][4..].to_string();
            // The gold paragraph is missing from the story but listed among the choices; the book it came from
            // also holds every distractor.
            prop_assert_eq!(a.prompt.matches(gold.as_str()).count(), 1);
            let book = gold.split(' ').nth(1).unwrap().to_string();
            for c in &a.choices {
                prop_assert_eq!(c[4..].split(' ').nth(1).unwrap(), book.as_str());
            }
            let numbered = a.prompt.lines().filter(|l| l.chars().next().is_some_and(|c| c.is_ascii_digit())).count();
            prop_assert_eq!(numbered, k);
        }
    }
}
