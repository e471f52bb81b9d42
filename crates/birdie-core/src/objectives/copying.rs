//! Copying (design §1.2): reproduce the input exactly. Input and label are the same text, so it gets half the budget.

use birdie_data::SpecialTokens;

use super::{half_budget_text, Objective, Sample, SampleError};
use crate::rng::SampleRng;

/// Parameters of copying (none; the arm's length range controls the copied span, paper A.2).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CopyingParams {}

/// Copying.
#[derive(Debug, Clone)]
pub struct CopyingObjective(pub CopyingParams);

impl Objective for CopyingObjective {
    fn apply(
        &self,
        tokens: &[u32],
        budget: usize,
        _: &SpecialTokens,
        _: &mut SampleRng,
    ) -> Result<Sample, SampleError> {
        let used = half_budget_text(tokens, budget)?;
        Ok(Sample { input: used.to_vec(), label: used.to_vec(), consumed: used.len() })
    }

    fn min_budget(&self) -> usize {
        2
    }
}
