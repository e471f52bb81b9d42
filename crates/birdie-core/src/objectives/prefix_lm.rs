//! Prefix language modelling (design §1.4): the first `prefix_fraction` of the text is the bidirectional input, the
//! rest the causal label. The text appears once, so the whole budget is available.

use birdie_data::SpecialTokens;

use super::{Objective, Sample, SampleError};
use crate::rng::SampleRng;

/// Parameters of prefix-LM.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PrefixLmParams {
    /// Share of the used text placed in the input (paper's "S" denoiser: 0.75).
    pub prefix_fraction: f64,
}

impl Default for PrefixLmParams {
    fn default() -> Self {
        PrefixLmParams { prefix_fraction: 0.75 }
    }
}

/// Prefix-LM.
#[derive(Debug, Clone)]
pub struct PrefixLmObjective(pub PrefixLmParams);

impl Objective for PrefixLmObjective {
    fn apply(
        &self,
        tokens: &[u32],
        budget: usize,
        _: &SpecialTokens,
        _: &mut SampleRng,
    ) -> Result<Sample, SampleError> {
        if budget < 2 {
            return Err(SampleError::NoSpace { budget, needed: 2 });
        }
        let used = &tokens[..tokens.len().min(budget)];
        if used.len() < 2 {
            return Err(SampleError::TooShort { needed: 2, got: used.len() });
        }
        let p = ((used.len() as f64 * self.0.prefix_fraction).floor() as usize).clamp(1, used.len() - 1);
        Ok(Sample { input: used[..p].to_vec(), label: used[p..].to_vec(), consumed: used.len() })
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
    fn splits_at_the_fraction() {
        let obj = PrefixLmObjective(PrefixLmParams::default());
        let s = obj.apply(&text(100), 40, &specials(), &mut SampleRng::from_seed_u64(0)).unwrap();
        assert_eq!((s.input.len(), s.label.len(), s.consumed), (30, 10, 40));
        assert_eq!([s.input, s.label].concat(), text(40));
        let s = obj.apply(&text(2), 40, &specials(), &mut SampleRng::from_seed_u64(0)).unwrap();
        assert_eq!((s.input.len(), s.label.len()), (1, 1));
        assert!(obj.apply(&text(1), 40, &specials(), &mut SampleRng::from_seed_u64(0)).is_err());
    }
}
