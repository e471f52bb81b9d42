//! Span selection shared by infilling and autoencoding.
//!
//! - [`stochastic_spans`]: Birdie's masker (design §1.5/§1.6). Walking the text left to right, at each position a
//!   corruption rate `r ~ U(0.5c, min(0.95, 2c))` and a span length `ℓ ~ Poisson(μ)` clamped to
//!   `[max(1, μ/3), 3μ]` are drawn, and a span starts there with probability `r/ℓ`; otherwise one token is kept.
//!   Per-position decisions give slightly more than the nominal rate for short spans (measured in design §1.5).
//!   The length is drawn only when a span could start (`u < r / min(min_span, tokens left)`), which skips most
//!   Poisson draws without changing the distribution.
//! - [`t5_spans`]: T5's exact masker: `round(n·c)` noise tokens in `round(noise/μ)` spans, span and gap lengths from
//!   uniform random partitions, the text starting with kept tokens.

use rand::seq::index;
use rand::Rng;
use rand_distr::{Distribution, Poisson};

use super::SampleError;
use crate::rng::SampleRng;

/// A masked span: `len` tokens starting at `start` of the consumed text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    pub start: usize,
    pub len: usize,
}

/// Span length and rate distributions of the stochastic masker.
#[derive(Debug, Clone)]
pub(crate) struct StochasticMasker {
    min_rate: f64,
    max_rate: f64,
    min_span: f64,
    max_span: f64,
    poisson: Option<Poisson<f64>>,
    mean: f64,
}

impl StochasticMasker {
    /// `rate` = corruption rate c in (0, 1], `mean` = mean tokens per span μ ≥ 1.
    pub fn new(rate: f64, mean: f64) -> Self {
        StochasticMasker {
            min_rate: (0.5 * rate).max(0.0),
            max_rate: (2.0 * rate).min(0.95),
            min_span: (mean / 3.0).max(1.0),
            max_span: (3.0 * mean).max(1.0),
            poisson: Poisson::new(mean).ok(),
            mean,
        }
    }

    fn draw_len(&self, rng: &mut SampleRng) -> f64 {
        let l = self.poisson.as_ref().map_or(self.mean, |p| p.sample(rng));
        l.clamp(self.min_span, self.max_span)
    }
}

/// Budget accounting of one masking pass: given the spans so far, may a span of `len` tokens start at `i`
/// (`fits_span`), or one token be kept (`fits_keep`)?
pub(crate) trait MaskBudget {
    fn fits_span(&self, i: usize, len: usize, spans: usize, masked: usize) -> bool;
    fn fits_keep(&self, i: usize, spans: usize, masked: usize) -> bool;
}

/// One pass of the stochastic masker over `n` tokens with at most `max_spans` spans.
/// Returns the spans and the number of tokens processed (kept + masked).
pub(crate) fn stochastic_spans(
    masker: &StochasticMasker,
    n: usize,
    max_spans: usize,
    budget: &impl MaskBudget,
    rng: &mut SampleRng,
) -> (Vec<Span>, usize) {
    let mut spans = Vec::new();
    let mut masked = 0;
    let mut i = 0;
    while i < n && spans.len() < max_spans {
        let r = rng.random_range(masker.min_rate..=masker.max_rate);
        let u: f64 = rng.random();
        // A span can only start if u < r / ℓ for some allowed ℓ ≥ min(min_span, tokens left).
        if u < r / masker.min_span.min((n - i) as f64) {
            let len = masker.draw_len(rng).min((n - i) as f64).floor().max(1.0);
            if u < r / len {
                let len = len as usize;
                if budget.fits_span(i, len, spans.len(), masked) {
                    spans.push(Span { start: i, len });
                    masked += len;
                    i += len;
                    continue;
                }
            }
        }
        if !budget.fits_keep(i, spans.len(), masked) {
            break;
        }
        i += 1;
    }
    (spans, i)
}

/// [`stochastic_spans`] over the text's first `n` of `text_len` tokens, repeated until at least one span is masked,
/// at most `attempts` times. When nothing was masked, the failure is the budget's if some attempt stopped before the
/// end of the text (more room would have walked further: `NoSpace { budget, needed: reliable }`), the text's
/// otherwise (`NothingMasked`: the text is too short for this rate and span length).
#[allow(clippy::too_many_arguments)]
pub(crate) fn stochastic_spans_retrying(
    masker: &StochasticMasker,
    n: usize,
    max_spans: usize,
    budget: &impl MaskBudget,
    attempts: usize,
    rng: &mut SampleRng,
    text_len: usize,
    (budget_tokens, reliable): (usize, usize),
) -> Result<(Vec<Span>, usize), SampleError> {
    let mut cut = false;
    for _ in 0..attempts.max(1) {
        let (spans, used) = stochastic_spans(masker, n, max_spans, budget, rng);
        if !spans.is_empty() {
            return Ok((spans, used));
        }
        cut |= used < text_len;
    }
    if cut {
        Err(SampleError::NoSpace { budget: budget_tokens, needed: reliable.max(budget_tokens + 1) })
    } else {
        Err(SampleError::NothingMasked { attempts })
    }
}

impl StochasticMasker {
    /// The longest span this masker draws.
    pub fn longest_span(&self) -> usize {
        self.max_span.ceil() as usize
    }
}

/// T5's exact masker over the first `n` tokens: `noise = clamp(round(n·rate), 1, n-1)` masked tokens in
/// `spans` spans (computed by the caller), alternating kept/masked runs starting with a kept run (and, as in T5, ending with a masked one).
pub(crate) fn t5_spans(n: usize, noise: usize, spans: usize, rng: &mut SampleRng) -> Vec<Span> {
    debug_assert!(spans >= 1 && noise >= spans && n - noise >= spans);
    let noise_lens = random_partition(noise, spans, rng);
    let keep_lens = random_partition(n - noise, spans, rng);
    let mut out = Vec::with_capacity(spans);
    let mut pos = 0;
    for (k, m) in keep_lens.iter().zip(&noise_lens) {
        pos += k;
        out.push(Span { start: pos, len: *m });
        pos += m;
    }
    out
}

/// T5 span count for `n` tokens: noise tokens and spans, or None if no valid masking exists.
pub(crate) fn t5_counts(n: usize, rate: f64, mean: f64, max_spans: usize) -> Option<(usize, usize)> {
    if n < 2 {
        return None;
    }
    let noise = ((n as f64 * rate).round() as usize).clamp(1, n - 1);
    let spans = ((noise as f64 / mean).round() as usize).clamp(1, max_spans).min(noise).min(n - noise);
    Some((noise, spans))
}

/// Uniform random composition of `total` into `parts` positive integers.
fn random_partition(total: usize, parts: usize, rng: &mut SampleRng) -> Vec<usize> {
    if parts == 1 {
        return vec![total];
    }
    let mut cuts = index::sample(rng, total - 1, parts - 1).into_vec();
    cuts.sort_unstable();
    let mut out = Vec::with_capacity(parts);
    let mut prev = 0;
    for c in cuts {
        out.push(c + 1 - prev);
        prev = c + 1;
    }
    out.push(total - prev);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Unlimited;
    impl MaskBudget for Unlimited {
        fn fits_span(&self, _: usize, _: usize, _: usize, _: usize) -> bool {
            true
        }
        fn fits_keep(&self, _: usize, _: usize, _: usize) -> bool {
            true
        }
    }

    #[test]
    fn stochastic_masked_fraction_matches_reference_measurements() {
        // design §1.5/§1.6 (measured on the reference): (0.15, 32) masks ≈ 0.154 and (0.5, 3) ≈ 0.451 of the
        // processed text when the span cap does not bind.
        for (rate, mean, expect) in [(0.15, 32.0, 0.154), (0.5, 3.0, 0.451)] {
            let m = StochasticMasker::new(rate, mean);
            let mut rng = SampleRng::from_seed_u64(5);
            let (mut masked, mut total) = (0, 0);
            for _ in 0..200 {
                let (spans, n) = stochastic_spans(&m, 2000, usize::MAX, &Unlimited, &mut rng);
                masked += spans.iter().map(|s| s.len).sum::<usize>();
                total += n;
            }
            let frac = masked as f64 / total as f64;
            assert!((frac - expect).abs() < 0.03, "rate {rate} mean {mean}: {frac}");
        }
    }

    #[test]
    fn t5_spans_are_exact() {
        let mut rng = SampleRng::from_seed_u64(9);
        for _ in 0..100 {
            let (noise, spans) = t5_counts(200, 0.15, 3.0, 512).unwrap();
            assert_eq!((noise, spans), (30, 10));
            let s = t5_spans(200, noise, spans, &mut rng);
            assert_eq!(s.len(), 10);
            assert_eq!(s.iter().map(|s| s.len).sum::<usize>(), 30);
            assert!(s[0].start >= 1);
            assert!(s.windows(2).all(|w| w[0].start + w[0].len < w[1].start));
            assert!(s.last().map(|l| l.start + l.len <= 200).unwrap());
        }
    }

    #[test]
    fn partition_sums() {
        let mut rng = SampleRng::from_seed_u64(1);
        for (t, p) in [(10, 1), (10, 10), (10, 3), (1000, 7)] {
            let v = random_partition(t, p, &mut rng);
            assert_eq!(v.len(), p);
            assert_eq!(v.iter().sum::<usize>(), t);
            assert!(v.iter().all(|&x| x >= 1));
        }
    }
}
