//! Autoencoding and autoencoding + deshuffling (design §1.6, paper Table 1): spans of the text are replaced by
//! sentinels in the input and the label is the *whole* original text (BART-style reconstruction).
//!
//! With `deshuffle_fraction > 0` (the `autoencoding_with_deshuffling` objective, B3 fixed) the unmasked runs
//! between sentinels are also shuffled: `round(fraction · runs)` runs are chosen and permuted among their slots,
//! sentinels stay in place (decision A8). The label is still the original text.

use birdie_data::SpecialTokens;
use rand::seq::{index, SliceRandom};

use super::spans::{stochastic_spans_retrying, MaskBudget, StochasticMasker};
use super::{Objective, Sample, SampleError};
use crate::rng::SampleRng;

/// Parameters of autoencoding (+ deshuffling).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AutoencodingParams {
    /// Target share of masked tokens c (0, 1).
    pub corruption_rate: f64,
    /// Mean span length.
    pub tokens_per_mask: f64,
    /// Most spans per sample (≤ 512 sentinels).
    pub max_mask_spans: usize,
    /// Share of unmasked runs that are permuted, in [0, 1]. Unset: 0 for `autoencoding`, 0.75 for
    /// `autoencoding_with_deshuffling` (reference `deshuffling_percentage`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deshuffle_fraction: Option<f64>,
    /// Passes before giving up when no span was masked.
    pub max_attempts: usize,
}

impl Default for AutoencodingParams {
    fn default() -> Self {
        AutoencodingParams {
            corruption_rate: 0.5,
            tokens_per_mask: 3.0,
            max_mask_spans: 512,
            deshuffle_fraction: None,
            max_attempts: 100,
        }
    }
}

/// Run-shuffling share of `autoencoding_with_deshuffling` when unset (reference `deshuffling_percentage`).
pub const DEFAULT_DESHUFFLE_FRACTION: f64 = 0.75;

/// Autoencoding (+ deshuffling).
#[derive(Debug, Clone)]
pub struct AutoencodingObjective {
    params: AutoencodingParams,
    deshuffle_fraction: f64,
    masker: StochasticMasker,
}

impl AutoencodingObjective {
    /// `with_deshuffling` selects the default run-shuffling share when the parameters leave it unset.
    pub fn new(params: AutoencodingParams, with_deshuffling: bool) -> Self {
        let masker = StochasticMasker::new(params.corruption_rate, params.tokens_per_mask);
        let default = if with_deshuffling { DEFAULT_DESHUFFLE_FRACTION } else { 0.0 };
        let deshuffle_fraction = params.deshuffle_fraction.unwrap_or(default);
        AutoencodingObjective { params, deshuffle_fraction, masker }
    }
}

/// input = kept + spans, label = all processed tokens.
struct AutoencodeBudget(usize);

impl MaskBudget for AutoencodeBudget {
    fn fits_span(&self, i: usize, len: usize, spans: usize, masked: usize) -> bool {
        (i - masked) + spans + 1 + i + len <= self.0
    }
    #[allow(clippy::int_plus_one)] // written as the budget formula: kept + 1, sentinels, label + 1
    fn fits_keep(&self, i: usize, spans: usize, masked: usize) -> bool {
        (i - masked + 1) + spans + i + 1 <= self.0
    }
}

impl Objective for AutoencodingObjective {
    fn apply(
        &self,
        tokens: &[u32],
        budget: usize,
        specials: &SpecialTokens,
        rng: &mut SampleRng,
    ) -> Result<Sample, SampleError> {
        if budget < self.min_budget() {
            return Err(SampleError::NoSpace { budget, needed: self.min_budget() });
        }
        if tokens.is_empty() {
            return Err(SampleError::TooShort { needed: 1, got: 0 });
        }
        let sentinels = specials.sentinels();
        let max_spans = self.params.max_mask_spans.min(sentinels.len());
        let n = tokens.len().min(budget);
        let (spans, consumed) = stochastic_spans_retrying(
            &self.masker,
            n,
            max_spans,
            &AutoencodeBudget(budget),
            self.params.max_attempts,
            rng,
            tokens.len(),
            (budget, self.reliable_budget()),
        )?;
        let text = &tokens[..consumed];
        // Runs of kept tokens between sentinels, as (start, end) in `text`.
        let mut runs: Vec<(usize, usize)> = Vec::with_capacity(spans.len() + 1);
        let mut pos = 0;
        for s in &spans {
            runs.push((pos, s.start));
            pos = s.start + s.len;
        }
        runs.push((pos, text.len()));
        let mut order: Vec<usize> = (0..runs.len()).collect();
        let nonempty: Vec<usize> = (0..runs.len()).filter(|&r| runs[r].0 < runs[r].1).collect();
        let m = (self.deshuffle_fraction * nonempty.len() as f64).round() as usize;
        if m >= 2 {
            let chosen: Vec<usize> = index::sample(rng, nonempty.len(), m).into_iter().map(|k| nonempty[k]).collect();
            let mut perm = chosen.clone();
            perm.shuffle(rng);
            for (&slot, &run) in chosen.iter().zip(&perm) {
                order[slot] = run;
            }
        }
        let mut input = Vec::with_capacity(consumed - spans.iter().map(|s| s.len).sum::<usize>() + spans.len());
        for (slot, &run) in order.iter().enumerate() {
            input.extend_from_slice(&text[runs[run].0..runs[run].1]);
            if slot < spans.len() {
                input.push(sentinels[slot]);
            }
        }
        Ok(Sample { input, label: text.to_vec(), consumed })
    }

    fn min_budget(&self) -> usize {
        2 // one sentinel in the input, the masked token in the label
    }

    /// The whole text is the label: room for twice the longest span, its sentinel and a kept token.
    fn reliable_budget(&self) -> usize {
        2 * (self.masker.longest_span() + 2)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{specials, text};
    use super::*;

    #[test]
    fn label_is_the_text_and_input_has_sentinels() {
        let st = specials();
        let obj = AutoencodingObjective::new(AutoencodingParams::default(), false);
        for seed in 0..10 {
            let s = obj.apply(&text(2000), 600, &st, &mut SampleRng::from_seed_u64(seed)).unwrap();
            assert_eq!(s.label, text(2000)[..s.consumed]);
            assert!(s.input.len() + s.label.len() <= 600);
            let sent = s.input.iter().filter(|t| st.sentinels().contains(t)).count();
            assert!(sent >= 1);
            // Without shuffling, the kept tokens appear in order.
            let kept: Vec<u32> = s.input.iter().copied().filter(|t| !st.sentinels().contains(t)).collect();
            assert!(kept.windows(2).all(|w| w[0] < w[1]));
        }
    }

    #[test]
    fn deshuffling_permutes_runs_but_keeps_their_tokens() {
        let st = specials();
        for fraction in [0.25, 0.5, 1.0] {
            let obj = AutoencodingObjective::new(
                AutoencodingParams { deshuffle_fraction: Some(fraction), ..Default::default() },
                true,
            );
            let (measured, expected) = crate::arm::moved_share(fraction, st.sentinels(), |seed| {
                obj.apply(&text(2000), 600, &st, &mut SampleRng::from_seed_u64(seed)).unwrap().input
            });
            assert!((measured - expected).abs() < 0.02, "fraction {fraction}: moved share {measured}");
            assert!((measured - fraction).abs() < 0.05, "fraction {fraction}: moved share {measured}");
        }
        let obj = AutoencodingObjective::new(
            AutoencodingParams { deshuffle_fraction: Some(1.0), ..Default::default() },
            true,
        );
        for seed in 0..10 {
            let s = obj.apply(&text(2000), 600, &st, &mut SampleRng::from_seed_u64(seed)).unwrap();
            assert_eq!(s.label, text(2000)[..s.consumed]);
            let kept: Vec<u32> = s.input.iter().copied().filter(|t| !st.sentinels().contains(t)).collect();
            let mut sorted = kept.clone();
            sorted.sort();
            sorted.dedup();
            assert_eq!(sorted.len(), kept.len());
            // Sentinels stay in numbering order.
            let sents: Vec<u32> = s.input.iter().copied().filter(|t| st.sentinels().contains(t)).collect();
            assert!(sents.windows(2).all(|w| w[0] < w[1]));
        }
    }

    #[test]
    fn two_token_text() {
        let st = specials();
        let obj = AutoencodingObjective::new(AutoencodingParams::default(), false);
        let s = obj.apply(&text(2), 100, &st, &mut SampleRng::from_seed_u64(1)).unwrap();
        assert_eq!(s.label, text(2)[..s.consumed]);
    }
}
