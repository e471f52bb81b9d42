//! Infilling / span corruption (design §1.5): masked spans are replaced by sentinel tokens in the input; the label
//! lists each sentinel followed by the tokens it replaced (T5 style, paper Table 1). Sentinels are single special
//! tokens, so a sample spends exactly one input and one label token per span.
//!
//! Two maskers: `stochastic` (Birdie's per-position masker, the reference's behaviour) and `t5` (exact noise and
//! span counts). Spans are capped at `max_mask_spans` ≤ [`SENTINEL_COUNT`](birdie_data::SENTINEL_COUNT).

use birdie_data::SpecialTokens;

use super::spans::{stochastic_spans_retrying, t5_counts, t5_spans, MaskBudget, Span, StochasticMasker};
use super::{Objective, Sample, SampleError};
use crate::rng::SampleRng;

/// Which span masker to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Masker {
    /// Birdie's per-position masker (design §1.5).
    #[default]
    Stochastic,
    /// T5's exact masker: `round(n·c)` masked tokens in `round(n·c/μ)` spans.
    T5,
}

/// Parameters of infilling.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct InfillingParams {
    /// Target share of masked tokens c (0, 1).
    pub corruption_rate: f64,
    /// Mean span length μ ≥ 1.
    pub mean_tokens_per_span: f64,
    /// Most spans per sample (≤ 512 sentinels; reference default 20).
    pub max_mask_spans: usize,
    pub masker: Masker,
    /// Stochastic masker: passes before giving up when no span was masked.
    pub max_attempts: usize,
}

impl Default for InfillingParams {
    fn default() -> Self {
        InfillingParams {
            corruption_rate: 0.15,
            mean_tokens_per_span: 3.0,
            max_mask_spans: 20,
            masker: Masker::Stochastic,
            max_attempts: 100,
        }
    }
}

/// Infilling.
#[derive(Debug, Clone)]
pub struct InfillingObjective {
    params: InfillingParams,
    masker: StochasticMasker,
}

impl InfillingObjective {
    pub fn new(params: InfillingParams) -> Self {
        let masker = StochasticMasker::new(params.corruption_rate, params.mean_tokens_per_span);
        InfillingObjective { params, masker }
    }
}

/// input = kept + spans, label = spans + masked.
struct InfillBudget(usize);

impl MaskBudget for InfillBudget {
    fn fits_span(&self, i: usize, len: usize, spans: usize, masked: usize) -> bool {
        (i - masked) + (spans + 1) + (spans + 1) + masked + len <= self.0
    }
    fn fits_keep(&self, i: usize, spans: usize, masked: usize) -> bool {
        (i - masked + 1) + 2 * spans + masked <= self.0
    }
}

impl Objective for InfillingObjective {
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
        let max_spans = self.params.max_mask_spans.min(specials.sentinels().len());
        let (spans, consumed) = match self.params.masker {
            Masker::Stochastic => {
                if tokens.is_empty() {
                    return Err(SampleError::TooShort { needed: 1, got: 0 });
                }
                let n = tokens.len().min(budget);
                let budget = InfillBudget(budget);
                let space = (budget.0, self.reliable_budget());
                stochastic_spans_retrying(
                    &self.masker,
                    n,
                    max_spans,
                    &budget,
                    self.params.max_attempts,
                    rng,
                    tokens.len(),
                    space,
                )?
            }
            Masker::T5 => {
                let rate = self.params.corruption_rate;
                let mean = self.params.mean_tokens_per_span;
                let n0 = tokens.len().min(budget);
                let (_, s0) =
                    t5_counts(n0, rate, mean, max_spans).ok_or(SampleError::TooShort { needed: 2, got: n0 })?;
                let mut n = if n0 + 2 * s0 > budget { budget - 2 * s0 } else { n0 };
                // Spans grow with n: take the largest n whose sample still fits.
                while n < n0 && t5_counts(n + 1, rate, mean, max_spans).is_some_and(|(_, s)| n + 1 + 2 * s <= budget) {
                    n += 1;
                }
                let (noise, spans) =
                    t5_counts(n, rate, mean, max_spans).ok_or(SampleError::NoSpace { budget, needed: 4 })?;
                (t5_spans(n, noise, spans, rng), n)
            }
        };
        Ok(build(&tokens[..consumed], &spans, specials.sentinels()))
    }

    fn min_budget(&self) -> usize {
        3 // one kept token + sentinel in the input, sentinel + one token in the label (less one when nothing kept)
    }

    /// Room for the longest span with its two sentinels and a kept token.
    fn reliable_budget(&self) -> usize {
        self.masker.longest_span() + 3
    }
}

/// Input with sentinel j in place of span j; label = sentinel j + span j tokens, for every span.
fn build(text: &[u32], spans: &[Span], sentinels: &[u32]) -> Sample {
    let masked: usize = spans.iter().map(|s| s.len).sum();
    let mut input = Vec::with_capacity(text.len() - masked + spans.len());
    let mut label = Vec::with_capacity(masked + spans.len());
    let mut pos = 0;
    for (j, s) in spans.iter().enumerate() {
        input.extend_from_slice(&text[pos..s.start]);
        input.push(sentinels[j]);
        label.push(sentinels[j]);
        label.extend_from_slice(&text[s.start..s.start + s.len]);
        pos = s.start + s.len;
    }
    input.extend_from_slice(&text[pos..]);
    Sample { input, label, consumed: text.len() }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{specials, text};
    use super::*;

    /// Puts the masked spans back into the input: must give the consumed text.
    pub(crate) fn reconstruct(s: &Sample, sentinels: &[u32]) -> Vec<u32> {
        let mut spans: Vec<(u32, Vec<u32>)> = Vec::new();
        for &t in &s.label {
            if sentinels.contains(&t) {
                spans.push((t, Vec::new()));
            } else {
                spans.last_mut().expect("label starts with a sentinel").1.push(t);
            }
        }
        let mut out = Vec::new();
        for &t in &s.input {
            match spans.iter().find(|(sent, _)| *sent == t) {
                Some((_, body)) => out.extend(body),
                None => out.push(t),
            }
        }
        out
    }

    #[test]
    fn both_maskers_reconstruct_and_fit() {
        let st = specials();
        for masker in [Masker::Stochastic, Masker::T5] {
            let obj = InfillingObjective::new(InfillingParams {
                masker,
                corruption_rate: 0.5,
                max_mask_spans: 512,
                ..Default::default()
            });
            for seed in 0..20 {
                let toks = text(3000);
                let s = obj.apply(&toks, 500, &st, &mut SampleRng::from_seed_u64(seed)).unwrap();
                assert!(s.input.len() + s.label.len() <= 500);
                assert_eq!(reconstruct(&s, st.sentinels()), toks[..s.consumed]);
                assert!(s.label.iter().filter(|t| st.sentinels().contains(t)).count() >= 1);
            }
        }
    }

    #[test]
    fn t5_budget_is_used_and_span_count_exact() {
        let st = specials();
        let obj =
            InfillingObjective::new(InfillingParams { masker: Masker::T5, max_mask_spans: 512, ..Default::default() });
        let s = obj.apply(&text(5000), 1100, &st, &mut SampleRng::from_seed_u64(1)).unwrap();
        // n + 2·spans = 1100 with spans = round(0.15·n/3).
        let spans = s.label.iter().filter(|t| st.sentinels().contains(t)).count();
        assert_eq!(s.consumed + 2 * spans, s.input.len() + s.label.len());
        assert!(s.input.len() + s.label.len() >= 1095);
    }

    #[test]
    fn span_cap_is_honoured() {
        let st = specials();
        let obj = InfillingObjective::new(InfillingParams { corruption_rate: 0.5, ..Default::default() });
        let s = obj.apply(&text(5000), 2048, &st, &mut SampleRng::from_seed_u64(2)).unwrap();
        assert!(s.input.iter().filter(|t| st.sentinels().contains(t)).count() <= 20);
    }

    #[test]
    fn hi_gives_one_sentinel() {
        // design §1.5: infilling on a two-token text masks one token.
        let st = specials();
        let obj = InfillingObjective::new(InfillingParams { corruption_rate: 0.5, ..Default::default() });
        let s = obj.apply(&text(2), 100, &st, &mut SampleRng::from_seed_u64(7)).unwrap();
        assert_eq!(reconstruct(&s, st.sentinels()), text(2)[..s.consumed]);
    }
}
