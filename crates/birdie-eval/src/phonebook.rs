//! Phone-book retrieval (design §6.1): a book of `First Last: DDD-DDD-DDDD` lines and a question naming 1–32 of them.
//!
//! - `multi` (the paper's format, Fig. 9): the question before and after the book; the answer lists the numbers in
//!   the order asked, comma + space separated.
//! - `single` (the "Repeat After Me" study's format): the book, two solved queries from it, then `Name:`; the answer
//!   is the number (exact match).
//!
//! Metrics per (entries, queries): digit accuracy (the gold digits compared position by position with the generated
//! digits; chance ≈ 10%) and exact match (every digit right). Names come from the census lists, digits are uniform.

use std::collections::HashSet;

use birdie_core::SampleRng;
use rand::seq::SliceRandom;
use rand::Rng;

use crate::evaluator::Evaluator;
use crate::finetune::{finetune, FinetuneOptions};
use crate::metrics::digit_accuracy;
use crate::names::Names;
use crate::report::EvalReport;
use crate::{EvalError, Progress};

/// Question layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhonebookFormat {
    Multi,
    Single,
}

impl std::str::FromStr for PhonebookFormat {
    type Err = EvalError;
    fn from_str(s: &str) -> Result<Self, EvalError> {
        match s {
            "multi" => Ok(PhonebookFormat::Multi),
            "single" => Ok(PhonebookFormat::Single),
            _ => Err(EvalError::Option(format!("format = {s:?}: expected \"multi\" or \"single\""))),
        }
    }
}

/// One test item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhonebookItem {
    pub prompt: String,
    /// The gold answer text.
    pub answer: String,
    /// (name, number) of each entry of the book, in book order.
    pub book: Vec<(String, String)>,
    /// The queried names and their numbers, in the order asked.
    pub queried: Vec<(String, String)>,
}

/// Digits of a phone number in the paper's format (`555-123-4567`).
pub const PAPER_DIGITS: usize = 10;

/// A number of `digits` uniform digits, grouped as phone numbers are: 10 → `ddd-ddd-dddd`, 7 → `ddd-dddd`, up to 4
/// ungrouped; in general groups of 3 with the last group taking the remaining 4 or fewer.
fn number(rng: &mut SampleRng, digits: usize) -> String {
    let d: String = (0..digits).map(|_| char::from(b'0' + rng.random_range(0..10u8))).collect();
    let mut groups = Vec::new();
    let mut rest = d.as_str();
    while rest.len() > 4 {
        let (head, tail) = rest.split_at(3);
        groups.push(head);
        rest = tail;
    }
    groups.push(rest);
    groups.join("-")
}

/// "A", "A and B", "A, B, and C".
fn list_names(names: &[String]) -> String {
    match names.len() {
        0 => String::new(),
        1 => names[0].clone(),
        2 => format!("{} and {}", names[0], names[1]),
        n => format!("{}, and {}", names[..n - 1].join(", "), names[n - 1]),
    }
}

/// A book of `entries` distinct names with distinct `digits`-digit numbers and a question about `queries` of them
/// (`Single` asks one and shows two solved examples, so it needs 3 entries). `jrt` writes the book twice before the
/// question. Fewer digits than entries can tell apart are raised to what they need.
pub fn make_item(
    rng: &mut SampleRng,
    entries: usize,
    queries: usize,
    format: PhonebookFormat,
    jrt: bool,
    digits: usize,
) -> PhonebookItem {
    let names = Names::bundled();
    let entries = entries.max(match format {
        PhonebookFormat::Multi => queries.max(1),
        PhonebookFormat::Single => 3,
    });
    let digits = digits.max(((entries as f64).log10().ceil() as usize + 1).max(1));
    let (mut seen, mut numbers) = (HashSet::new(), HashSet::new());
    let mut book = Vec::with_capacity(entries);
    while book.len() < entries {
        let name = names.draw(rng);
        let num = number(rng, digits);
        if seen.insert(name.clone()) && numbers.insert(num.clone()) {
            book.push((name, num));
        }
    }
    let lines: String = book.iter().map(|(n, d)| format!("{n}: {d}\n")).collect();
    let book_text = if jrt { format!("{lines}\n{lines}") } else { lines };
    let mut idx: Vec<usize> = (0..book.len()).collect();
    idx.shuffle(rng);
    match format {
        PhonebookFormat::Multi => {
            let queried: Vec<(String, String)> = idx[..queries.max(1)].iter().map(|&i| book[i].clone()).collect();
            let asked: Vec<String> = queried.iter().map(|(n, _)| n.clone()).collect();
            let q = if asked.len() == 1 {
                format!("What is the phone number for {}?", asked[0])
            } else {
                format!("What are the phone numbers for {}?", list_names(&asked))
            };
            let it = if asked.len() == 1 { "it" } else { "them" };
            let prompt = format!(
                "{q} Find {it} in the phonebook below.\n\nPhonebook:\n{book_text}\n{q} Find {it} in the phonebook above.\n"
            );
            let answer = queried.iter().map(|(_, d)| d.as_str()).collect::<Vec<_>>().join(", ");
            PhonebookItem { prompt, answer, book, queried }
        }
        PhonebookFormat::Single => {
            let (a, b, q) = (&book[idx[0]], &book[idx[1]], book[idx[2]].clone());
            let prompt = format!("{book_text}\n{}: {}\n{}: {}\n{}:", a.0, a.1, b.0, b.1, q.0);
            PhonebookItem { prompt, answer: format!(" {}", q.1), book, queried: vec![q] }
        }
    }
}

/// Settings and size of a phone-book evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct PhonebookOptions {
    /// Book sizes (entries).
    pub entries: Vec<usize>,
    /// Numbers asked per question (`multi` only).
    pub queries: Vec<usize>,
    /// Instead of `entries`: books of about this many tokens.
    pub book_tokens: Option<usize>,
    /// Items per setting.
    pub n: usize,
    pub format: PhonebookFormat,
    pub jrt: bool,
    /// Digits per phone number (the paper: 10; fewer make the task learnable by small models).
    pub digits: usize,
    pub seed: u64,
    /// Fine-tune a copy of the model on fresh books for this many steps first (0 = no).
    pub finetune: FinetuneOptions,
}

impl Default for PhonebookOptions {
    fn default() -> Self {
        PhonebookOptions {
            entries: vec![20, 50],
            queries: vec![1, 4],
            book_tokens: None,
            n: 16,
            format: PhonebookFormat::Multi,
            jrt: false,
            digits: PAPER_DIGITS,
            seed: 0,
            finetune: FinetuneOptions::default(),
        }
    }
}

/// Entries of a book of about `tokens` tokens (measured on sample lines).
fn entries_for_tokens(ev: &Evaluator, tokens: usize, seed: u64) -> Result<usize, EvalError> {
    let mut rng = SampleRng::derive(seed, 0x7042, u64::MAX);
    let item = make_item(&mut rng, 64, 1, PhonebookFormat::Multi, false, PAPER_DIGITS);
    let lines: String = item.book.iter().map(|(n, d)| format!("{n}: {d}\n")).collect();
    let per_entry = ev.encode(&lines)?.len() as f64 / 64.0;
    Ok(((tokens as f64 / per_entry).floor() as usize).max(3))
}

/// The (entries, queries) grid.
fn settings(ev: &Evaluator, o: &PhonebookOptions) -> Result<Vec<(usize, usize)>, EvalError> {
    let entries = match o.book_tokens {
        Some(t) => vec![entries_for_tokens(ev, t, o.seed)?],
        None => o.entries.clone(),
    };
    let queries = if o.format == PhonebookFormat::Single { vec![1] } else { o.queries.clone() };
    Ok(entries.iter().flat_map(|&e| queries.iter().map(move |&q| (e, q))).collect())
}

const STREAM_EVAL: u64 = 0x7068_6f6e;
const STREAM_FINETUNE: u64 = 0x7068_6674;

/// The evaluation items of every setting (stream fixed by the seed; fine-tuning never draws from it).
/// An item with its (entries, queries) setting.
pub type SettingItem = ((usize, usize), PhonebookItem);

pub fn eval_items(settings: &[(usize, usize)], o: &PhonebookOptions) -> Vec<SettingItem> {
    let mut out = Vec::new();
    for (s, &(e, q)) in settings.iter().enumerate() {
        for i in 0..o.n {
            let mut rng = SampleRng::derive(o.seed, STREAM_EVAL, (s * 1_000_003 + i) as u64);
            out.push(((e, q), make_item(&mut rng, e, q, o.format, o.jrt, o.digits)));
        }
    }
    out
}

/// Runs the evaluation (after the optional fine-tuning) and reports per setting and overall.
/// The items [`run`] evaluates, with their (entries, queries) setting.
pub fn items(ev: &Evaluator, o: &PhonebookOptions) -> Result<Vec<SettingItem>, EvalError> {
    Ok(eval_items(&settings(ev, o)?, o))
}

pub fn run(ev: &mut Evaluator, o: &PhonebookOptions, progress: Progress) -> Result<EvalReport, EvalError> {
    let grid = settings(ev, o)?;
    let items = items(ev, o)?;
    if o.finetune.steps > 0 {
        // Fresh books over the same range of sizes; any book identical to an evaluation book is skipped.
        let held: HashSet<&str> = items.iter().map(|(_, it)| it.prompt.as_str()).collect();
        let (lo, hi) = (grid.iter().map(|g| g.0).min().unwrap_or(10), grid.iter().map(|g| g.0).max().unwrap_or(10));
        let qmax = grid.iter().map(|g| g.1).max().unwrap_or(1);
        let (format, jrt, digits) = (o.format, o.jrt, o.digits);
        let mut draw = |rng: &mut SampleRng| -> Result<(String, String), EvalError> {
            loop {
                let e = rng.random_range(lo..=hi);
                let q = rng.random_range(1..=qmax);
                let it = make_item(rng, e, q, format, jrt, digits);
                if !held.contains(it.prompt.as_str()) {
                    return Ok((it.prompt, it.answer));
                }
            }
        };
        let model = finetune(ev, &o.finetune, STREAM_FINETUNE, &mut draw, progress)?;
        ev.set_model(model);
    }
    let mut report = EvalReport::new("phonebook", &ev.checkpoint, o.seed);
    // Per setting: digit accuracy, exact match, copied-entry share, and the copied-entry chance.
    let mut per: Vec<((usize, usize), [f64; 4])> = Vec::new();
    let mut all = [0.0; 4];
    for (k, (setting, item)) in items.iter().enumerate() {
        let max_new = ev.encode(&item.answer)?.len() + 8;
        let generated = ev.answer(&item.prompt, max_new)?;
        let acc = digit_accuracy(&generated, &item.answer);
        let exact = f64::from(u8::from(acc == 1.0));
        let scores = [acc, exact, copied_entry_share(&generated, item), copied_entry_chance(item)];
        match per.iter_mut().find(|p| p.0 == *setting) {
            Some(p) => p.1.iter_mut().zip(scores).for_each(|(a, b)| *a += b),
            None => per.push((*setting, scores)),
        }
        all.iter_mut().zip(scores).for_each(|(a, b)| *a += b);
        progress(k + 1, items.len());
    }
    let n = items.len().max(1) as f64;
    for ((e, q), [digits, exact, copied, copied_chance]) in &per {
        let setting = if o.format == PhonebookFormat::Single {
            format!("entries={e}")
        } else {
            format!("entries={e}, queries={q}")
        };
        let m = o.n as f64;
        report.push("digit_accuracy", digits / m, 0.1, &setting);
        report.push("exact_match", exact / m, 0.0, &setting);
        report.push("copied_entry", copied / m, copied_chance / m, &setting);
    }
    report.push("digit_accuracy", all[0] / n, 0.1, "all");
    report.push("exact_match", all[1] / n, 0.0, "all");
    report.push("copied_entry", all[2] / n, all[3] / n, "all");
    report.n = items.len();
    Ok(report)
}

/// The share of the asked numbers that the answer copies from *some* entry of the book, right or wrong: the
/// generated digits are cut into numbers of the book's length, in order, one per queried name. It separates copying
/// from lookup: a model that copies a random entry scores 1 here and `1 / entries` in exact match.
pub fn copied_entry_share(generated: &str, item: &PhonebookItem) -> f64 {
    let book: HashSet<String> = item.book.iter().map(|(_, n)| digits_of(n)).collect();
    let width = number_width(item).max(1);
    let got: Vec<char> = generated.chars().filter(char::is_ascii_digit).collect();
    let asked = item.queried.len().max(1);
    let copied =
        got.chunks(width).take(asked).filter(|c| c.len() == width && book.contains(&c.iter().collect::<String>()));
    copied.count() as f64 / asked as f64
}

/// The copied-entry share of uniformly random digits: each asked number matches one of the book's `entries`
/// numbers with probability `entries / 10^digits`.
pub fn copied_entry_chance(item: &PhonebookItem) -> f64 {
    (item.book.len() as f64 / 10f64.powi(number_width(item) as i32)).min(1.0)
}

/// The digits of a phone number, without its separators.
fn digits_of(number: &str) -> String {
    number.chars().filter(char::is_ascii_digit).collect()
}

/// Digits per number in `item`'s book (all its numbers have the same length).
fn number_width(item: &PhonebookItem) -> usize {
    item.book.first().map_or(1, |(_, n)| digits_of(n).len())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn answers_are_in_the_book_and_items_are_seeded(seed in 0u64..1000, entries in 1usize..60, queries in 1usize..8, jrt: bool) {
            for format in [PhonebookFormat::Multi, PhonebookFormat::Single] {
                let a = make_item(&mut SampleRng::derive(seed, 1, 2), entries, queries, format, jrt, PAPER_DIGITS);
                let b = make_item(&mut SampleRng::derive(seed, 1, 2), entries, queries, format, jrt, PAPER_DIGITS);
                prop_assert_eq!(&a, &b);
                for (name, num) in &a.queried {
                    let line = format!("{name}: {num}\n");
                    prop_assert!(a.prompt.contains(&line), "{} missing", line);
                    prop_assert!(a.answer.contains(num.as_str()));
                }
                let names: HashSet<&String> = a.book.iter().map(|(n, _)| n).collect();
                prop_assert_eq!(names.len(), a.book.len(), "names are distinct");
                if format == PhonebookFormat::Multi {
                    prop_assert_eq!(a.queried.len(), queries.min(a.book.len()));
                    let gold: Vec<&str> = a.queried.iter().map(|(_, d)| d.as_str()).collect();
                    prop_assert_eq!(a.answer.clone(), gold.join(", "));
                    // The question names every queried person, before and after the book.
                    for (name, _) in &a.queried {
                        prop_assert_eq!(a.prompt.matches(&format!("{name}: ")).count(), if jrt { 2 } else { 1 });
                        prop_assert!(a.prompt.matches(name.as_str()).count() >= 3);
                    }
                }
            }
        }
    }

    #[test]
    fn the_multi_format_matches_the_paper() {
        let item = make_item(&mut SampleRng::from_seed_u64(3), 3, 2, PhonebookFormat::Multi, false, PAPER_DIGITS);
        let (a, b) = (&item.queried[0].0, &item.queried[1].0);
        let q = format!("What are the phone numbers for {a} and {b}?");
        assert!(item.prompt.starts_with(&format!("{q} Find them in the phonebook below.\n\nPhonebook:\n")));
        assert!(item.prompt.ends_with(&format!("\n\n{q} Find them in the phonebook above.\n")));
        assert_eq!(item.prompt.lines().filter(|l| l.len() > 13 && l.as_bytes()[l.len() - 5] == b'-').count(), 3);
        assert_eq!(list_names(&["A".into(), "B".into(), "C".into()]), "A, B, and C");
    }

    /// Copying is told apart from lookup: the right number, another entry's number and a made-up number.
    #[test]
    fn copied_entry_share_counts_numbers_taken_from_the_book() {
        let item = make_item(&mut SampleRng::from_seed_u64(9), 4, 2, PhonebookFormat::Multi, false, 4);
        let other = item.book.iter().find(|e| !item.queried.contains(e)).unwrap().1.clone();
        let (a, b) = (&item.queried[0].1, &item.queried[1].1);
        assert_eq!(copied_entry_share(&item.answer, &item), 1.0);
        assert_eq!(copied_entry_share(&format!("{other}, {b}"), &item), 1.0, "a wrong entry is still copied");
        assert!(digit_accuracy(&format!("{other}, {b}"), &item.answer) < 1.0);
        let made_up = (0..10_000).map(|x| format!("{x:04}")).find(|x| item.book.iter().all(|(_, n)| n != x)).unwrap();
        assert_eq!(copied_entry_share(&format!("{made_up}, {b}"), &item), 0.5);
        assert_eq!(copied_entry_share(a, &item), 0.5, "the second number missing");
        assert_eq!(copied_entry_share("", &item), 0.0);
        assert!((copied_entry_chance(&item) - 4.0 / 10_000.0).abs() < 1e-15);
    }

    /// Shorter numbers for small models: grouped like phone numbers, distinct within a book.
    #[test]
    fn numbers_have_the_requested_digits() {
        for (digits, shape) in [(10, "ddd-ddd-dddd"), (7, "ddd-dddd"), (4, "dddd"), (3, "ddd")] {
            let item = make_item(&mut SampleRng::from_seed_u64(5), 6, 1, PhonebookFormat::Multi, false, digits);
            for (_, n) in &item.book {
                let pattern: String = n.chars().map(|c| if c.is_ascii_digit() { 'd' } else { c }).collect();
                assert_eq!(pattern, shape, "{n}");
            }
        }
        // 40 entries cannot have distinct 1-digit numbers: the item raises the digits.
        let item = make_item(&mut SampleRng::from_seed_u64(5), 40, 1, PhonebookFormat::Multi, false, 1);
        assert!(item.book.iter().all(|(_, n)| n.len() == 3), "{:?}", item.book[0]);
    }
}
