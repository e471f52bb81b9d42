//! Next-token prediction (design §1.1), the true causal LM objective (B2 fixed): the input is empty (only the
//! paradigm token the arm adds), the label is the text. After packing, position t predicts token t from tokens < t.

use birdie_data::SpecialTokens;

use super::{Objective, Sample, SampleError};
use crate::rng::SampleRng;

/// Parameters of next-token prediction.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NextTokenParams {
    /// Reference-compatible mode (design B2): the text is also placed in the input, which makes the task copying.
    /// Default false.
    pub duplicate_text: bool,
}

/// Next-token prediction.
#[derive(Debug, Clone)]
pub struct NextTokenObjective(pub NextTokenParams);

impl Objective for NextTokenObjective {
    fn apply(
        &self,
        tokens: &[u32],
        budget: usize,
        _: &SpecialTokens,
        _: &mut SampleRng,
    ) -> Result<Sample, SampleError> {
        if tokens.is_empty() {
            return Err(SampleError::TooShort { needed: 1, got: 0 });
        }
        let k = if self.0.duplicate_text { budget / 2 } else { budget };
        if k == 0 {
            return Err(SampleError::NoSpace { budget, needed: self.min_budget() });
        }
        let used = &tokens[..tokens.len().min(k)];
        let input = if self.0.duplicate_text { used.to_vec() } else { Vec::new() };
        Ok(Sample { input, label: used.to_vec(), consumed: used.len() })
    }

    fn min_budget(&self) -> usize {
        if self.0.duplicate_text {
            2
        } else {
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{specials, text};
    use super::*;

    #[test]
    fn label_is_the_text_and_input_is_empty() {
        let obj = NextTokenObjective(NextTokenParams::default());
        let mut rng = SampleRng::from_seed_u64(1);
        let s = obj.apply(&text(10), 6, &specials(), &mut rng).unwrap();
        assert!(s.input.is_empty());
        assert_eq!(s.label, text(6));
        assert_eq!(s.consumed, 6);
        let s = obj.apply(&text(3), 100, &specials(), &mut rng).unwrap();
        assert_eq!((s.label.len(), s.consumed), (3, 3));
    }

    #[test]
    fn duplicate_mode_copies() {
        let obj = NextTokenObjective(NextTokenParams { duplicate_text: true });
        let s = obj.apply(&text(10), 8, &specials(), &mut SampleRng::from_seed_u64(1)).unwrap();
        assert_eq!(s.input, text(4));
        assert_eq!(s.label, text(4));
    }
}
