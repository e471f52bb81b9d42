//! Deshuffling (design §1.3), token level: a `percentage_to_shuffle` share of the token positions is chosen and the
//! tokens at those positions are permuted; the label is the original text. Shuffling token ids (not characters)
//! keeps input and label the same length, so the budget split is exact (the reference's risk R1 cannot happen).

use birdie_data::SpecialTokens;
use rand::seq::{index, SliceRandom};

use super::{half_budget_text, Objective, Sample, SampleError};
use crate::rng::SampleRng;

/// Parameters of deshuffling.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeshufflingParams {
    /// Share of token positions whose tokens are permuted, in [0, 1] (paper: 0.5 and 1.0; reference 0.75).
    pub percentage_to_shuffle: f64,
}

impl Default for DeshufflingParams {
    fn default() -> Self {
        DeshufflingParams { percentage_to_shuffle: 0.75 }
    }
}

/// Deshuffling.
#[derive(Debug, Clone)]
pub struct DeshufflingObjective(pub DeshufflingParams);

impl Objective for DeshufflingObjective {
    fn apply(
        &self,
        tokens: &[u32],
        budget: usize,
        _: &SpecialTokens,
        rng: &mut SampleRng,
    ) -> Result<Sample, SampleError> {
        let used = half_budget_text(tokens, budget)?;
        let n = used.len();
        let m = ((n as f64) * self.0.percentage_to_shuffle).floor() as usize;
        let mut input = used.to_vec();
        if m >= 2 {
            let mut positions = index::sample(rng, n, m).into_vec();
            positions.sort_unstable();
            let mut values: Vec<u32> = positions.iter().map(|&p| used[p]).collect();
            values.shuffle(rng);
            for (&p, v) in positions.iter().zip(values) {
                input[p] = v;
            }
        }
        Ok(Sample { input, label: used.to_vec(), consumed: n })
    }

    fn min_budget(&self) -> usize {
        2
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{specials, text};
    use super::*;

    #[test]
    fn input_is_a_permutation_and_label_the_original() {
        let obj = DeshufflingObjective(DeshufflingParams { percentage_to_shuffle: 1.0 });
        let s = obj.apply(&text(50), 200, &specials(), &mut SampleRng::from_seed_u64(3)).unwrap();
        assert_eq!(s.label, text(50));
        assert_ne!(s.input, s.label);
        let mut sorted = s.input.clone();
        sorted.sort();
        assert_eq!(sorted, text(50));
    }

    #[test]
    fn zero_percent_keeps_order() {
        let obj = DeshufflingObjective(DeshufflingParams { percentage_to_shuffle: 0.0 });
        let s = obj.apply(&text(50), 60, &specials(), &mut SampleRng::from_seed_u64(3)).unwrap();
        assert_eq!(s.input, text(30));
        assert_eq!(s.consumed, 30);
    }
}
