//! Answer scorers: exact match, position-wise digit accuracy, SQuAD-style token F1 and "answer contains label".

/// The text lower-cased, punctuation removed, articles (a, an, the) dropped and whitespace collapsed — SQuAD's answer
/// normalisation.
pub fn normalize_answer(s: &str) -> String {
    let lower: String =
        s.to_lowercase().chars().map(|c| if c.is_alphanumeric() || c.is_whitespace() { c } else { ' ' }).collect();
    lower.split_whitespace().filter(|w| !matches!(*w, "a" | "an" | "the")).collect::<Vec<_>>().join(" ")
}

/// 1.0 when the normalised texts are equal.
pub fn exact_match(prediction: &str, gold: &str) -> f64 {
    f64::from(u8::from(normalize_answer(prediction) == normalize_answer(gold)))
}

/// SQuAD token F1 between the normalised texts (bag of words); 1.0 when both are empty.
pub fn token_f1(prediction: &str, gold: &str) -> f64 {
    let p = normalize_answer(prediction);
    let g = normalize_answer(gold);
    let p: Vec<&str> = p.split_whitespace().collect();
    let g: Vec<&str> = g.split_whitespace().collect();
    if p.is_empty() || g.is_empty() {
        return f64::from(u8::from(p.is_empty() && g.is_empty()));
    }
    let mut counts = std::collections::HashMap::new();
    for w in &g {
        *counts.entry(*w).or_insert(0i64) += 1;
    }
    let mut common = 0;
    for w in &p {
        if let Some(c) = counts.get_mut(w) {
            if *c > 0 {
                *c -= 1;
                common += 1;
            }
        }
    }
    if common == 0 {
        return 0.0;
    }
    let precision = common as f64 / p.len() as f64;
    let recall = common as f64 / g.len() as f64;
    2.0 * precision * recall / (precision + recall)
}

/// 1.0 when the normalised gold answer occurs in the normalised prediction (the paper's "answer contains label").
pub fn contains_label(prediction: &str, gold: &str) -> f64 {
    let g = normalize_answer(gold);
    if g.is_empty() {
        return 0.0;
    }
    let p = format!(" {} ", normalize_answer(prediction));
    f64::from(u8::from(p.contains(&format!(" {g} "))))
}

/// The share of the gold digits matched position-wise by the digits of `generated` (non-digits skipped on both
/// sides; missing generated digits count as wrong) — design §6.1's digit accuracy. Chance ≈ 10%.
pub fn digit_accuracy(generated: &str, gold: &str) -> f64 {
    let g: Vec<char> = gold.chars().filter(char::is_ascii_digit).collect();
    if g.is_empty() {
        return 0.0;
    }
    let hits = generated.chars().filter(char::is_ascii_digit).zip(&g).filter(|(a, b)| a == *b).count();
    hits as f64 / g.len() as f64
}

/// Share of positions where `predicted[i] == gold[i]` over the gold length.
pub fn token_accuracy(predicted: &[u32], gold: &[u32]) -> f64 {
    if gold.is_empty() {
        return 0.0;
    }
    predicted.iter().zip(gold).filter(|(a, b)| a == b).count() as f64 / gold.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digit_accuracy_compares_position_by_position() {
        assert_eq!(digit_accuracy("555-123-4567", "555-123-4567"), 1.0);
        // One wrong digit of 10.
        assert!((digit_accuracy("555-123-4568", "555-123-4567") - 0.9).abs() < 1e-12);
        // A dropped digit shifts everything after it: 3 leading hits ("555"), then "23456" vs "12345" miss... of 10.
        let acc = digit_accuracy("555-23-4567", "555-123-4567");
        assert!((acc - 0.3).abs() < 1e-12, "{acc}");
        // Two numbers, the second missing: half the digits.
        assert!((digit_accuracy("111-111-1111", "111-111-1111, 222-222-2222") - 0.5).abs() < 1e-12);
        assert_eq!(digit_accuracy("no digits", "123"), 0.0);
    }

    #[test]
    fn f1_follows_squad() {
        // Worked by hand: prediction {cat, sat, on, mat}, gold {cat, on, mat}: common 3, P = 3/4, R = 1, F1 = 6/7.
        assert!((token_f1("The cat sat on the mat.", "cat on mat") - 6.0 / 7.0).abs() < 1e-12);
        assert_eq!(token_f1("dog", "cat"), 0.0);
        assert_eq!(token_f1("A Cat!", "the cat"), 1.0);
        // Repeated words count once per occurrence: P = 1/3 ("a" dropped → {b, b, b} vs {b}), R = 1, F1 = 0.5.
        assert!((token_f1("b b b", "b") - 0.5).abs() < 1e-12);
    }

    #[test]
    fn contains_label_and_exact_match() {
        assert_eq!(contains_label("It means a small dog, I think.", "small dog"), 1.0);
        assert_eq!(contains_label("smalldog", "small dog"), 0.0);
        assert_eq!(contains_label("the dogs", "dog"), 0.0, "whole words only");
        assert_eq!(exact_match("The Small dog.", "small dog"), 1.0);
        assert_eq!(exact_match("small dogs", "small dog"), 0.0);
        assert_eq!(token_accuracy(&[1, 2, 9], &[1, 2, 3, 4]), 0.5);
    }
}
