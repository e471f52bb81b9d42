//! Selective copying (design §1.7, paper §3.2 / Fig. 2 / A.5): the input holds a context and 1–N instructions
//! "find the span between this start delimiter and this end delimiter"; the label lists the spans.
//!
//! Token layout (markers are special tokens; block `k` is numbered with sentinel `k`):
//!
//! ```text
//! instruction k: <|find|> <|mask_k|> start-delimiter <|sep|> end-delimiter <|/find|>
//! context:       <|ctx|> context tokens <|/ctx|>
//! input:         instructions… context      (query_context)   or   context instructions…   (context_query)
//! label:         <|res|> <|mask_0|> span_0  <|res|> <|mask_1|> span_1 … <|done|>
//! ```
//!
//! B4 fixed: the context length is decided first (the budget left after the instructions and results), and every
//! span, with its delimiters, is placed inside that final context, so each target really occurs in it between its
//! delimiters. The text after the context is the next sample.

use birdie_data::{Marker, SpecialTokens};
use rand::seq::SliceRandom;
use rand::Rng;
use rand_distr::{Distribution, Poisson};

use super::{Objective, Sample, SampleError};
use crate::rng::SampleRng;

/// Whether the instructions come before or after the context.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FormatStyle {
    /// Instructions, then the context (reference default).
    #[default]
    QueryContext,
    /// Context, then the instructions.
    ContextQuery,
}

/// Parameters of selective copying.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SelectiveCopyingParams {
    /// Mean span length (Poisson, clamped to [max(1, μ/3), 3μ]).
    pub tokens_per_mask: f64,
    /// Fewest and most spans per sample (paper: 1–4).
    pub min_spans: usize,
    pub max_spans: usize,
    /// Delimiter length range in tokens (paper: 1–8; reference example config: 2–16).
    pub min_delimiter: usize,
    pub max_delimiter: usize,
    pub format_style: FormatStyle,
    /// Number the spans in a random order (else in context order).
    pub shuffle: bool,
    /// Draws of span lengths before giving up on a text.
    pub max_attempts: usize,
}

impl Default for SelectiveCopyingParams {
    fn default() -> Self {
        SelectiveCopyingParams {
            tokens_per_mask: 8.0,
            min_spans: 1,
            max_spans: 4,
            min_delimiter: 2,
            max_delimiter: 8,
            format_style: FormatStyle::QueryContext,
            shuffle: true,
            max_attempts: 20,
        }
    }
}

/// Selective copying.
#[derive(Debug, Clone)]
pub struct SelectiveCopyingObjective {
    params: SelectiveCopyingParams,
    poisson: Option<Poisson<f64>>,
    min_span: usize,
    max_span: usize,
}

/// One requested span: start delimiter `a` tokens, span `len`, end delimiter `b`.
#[derive(Debug, Clone, Copy)]
struct Request {
    a: usize,
    len: usize,
    b: usize,
}

impl Request {
    fn window(&self) -> usize {
        self.a + self.len + self.b
    }
    /// Tokens in input (instruction) and label (result).
    fn cost(&self) -> usize {
        (self.a + self.b + 4) + (self.len + 2)
    }
}

impl SelectiveCopyingObjective {
    pub fn new(params: SelectiveCopyingParams) -> Self {
        let mean = params.tokens_per_mask;
        SelectiveCopyingObjective {
            poisson: Poisson::new(mean).ok(),
            min_span: ((mean / 3.0).floor() as usize).max(1),
            max_span: ((3.0 * mean).floor() as usize).max(1),
            params,
        }
    }

    fn draw(&self, rng: &mut SampleRng) -> Request {
        let p = &self.params;
        let len = self.poisson.as_ref().map_or(p.tokens_per_mask, |d| d.sample(rng)) as usize;
        Request {
            a: rng.random_range(p.min_delimiter..=p.max_delimiter),
            len: len.clamp(self.min_span, self.max_span),
            b: rng.random_range(p.min_delimiter..=p.max_delimiter),
        }
    }

    fn smallest(&self) -> Request {
        Request { a: self.params.min_delimiter, len: self.min_span, b: self.params.min_delimiter }
    }

    fn largest(&self) -> Request {
        Request { a: self.params.max_delimiter, len: self.max_span, b: self.params.max_delimiter }
    }
}

/// Context markers and the final done marker.
const OVERHEAD: usize = 3;

impl Objective for SelectiveCopyingObjective {
    fn apply(
        &self,
        tokens: &[u32],
        budget: usize,
        specials: &SpecialTokens,
        rng: &mut SampleRng,
    ) -> Result<Sample, SampleError> {
        let p = &self.params;
        let min_req = self.smallest();
        if budget < self.min_budget() {
            return Err(SampleError::NoSpace { budget, needed: self.min_budget() });
        }
        if tokens.len() < min_req.window() * p.min_spans {
            return Err(SampleError::TooShort { needed: min_req.window() * p.min_spans, got: tokens.len() });
        }
        // A failed attempt is the budget's fault when even an unlimited text would not have held its requests
        // (reduced to `min_spans`); otherwise the text was too short. Only budget failures throughout make the
        // sample a `NoSpace` (the pipeline then keeps the document for another arm and retries this arm where
        // more space is free); a text failure passes the text over as `TooShort`.
        let mut budget_only = true;
        let mut needed = usize::MAX;
        for _ in 0..p.max_attempts.max(1) {
            let k = rng.random_range(p.min_spans..=p.max_spans);
            let mut reqs: Vec<Request> = (0..k).map(|_| self.draw(rng)).collect();
            // Drop requests until the context (what the budget leaves) holds all their windows.
            let ctx_len = loop {
                let cost: usize = reqs.iter().map(Request::cost).sum();
                let windows: usize = reqs.iter().map(Request::window).sum();
                let ctx = tokens.len().min(budget.saturating_sub(OVERHEAD + cost));
                if budget >= OVERHEAD + cost && ctx >= windows {
                    break Ok(ctx);
                }
                if reqs.len() <= p.min_spans {
                    break Err(OVERHEAD + cost + windows);
                }
                reqs.pop();
            };
            match ctx_len {
                Ok(ctx_len) => return Ok(self.build(&tokens[..ctx_len], &reqs, specials, rng)),
                Err(space) => {
                    needed = needed.min(space);
                    budget_only &= budget < space;
                }
            }
        }
        if budget_only {
            Err(SampleError::NoSpace { budget, needed })
        } else {
            Err(SampleError::TooShort { needed: min_req.window() * p.min_spans, got: tokens.len() })
        }
    }

    fn min_budget(&self) -> usize {
        OVERHEAD + self.params.min_spans * (self.smallest().cost() + self.smallest().window())
    }

    /// Room for `min_spans` of the largest requests (longest delimiters and span): at this budget the first
    /// attempt always fits, whatever is drawn.
    fn reliable_budget(&self) -> usize {
        OVERHEAD + self.params.min_spans * (self.largest().cost() + self.largest().window())
    }
}

impl SelectiveCopyingObjective {
    fn build(&self, context: &[u32], reqs: &[Request], st: &SpecialTokens, rng: &mut SampleRng) -> Sample {
        // Spread the free context tokens over the k + 1 gaps around the windows.
        let windows: usize = reqs.iter().map(Request::window).sum();
        let free = context.len() - windows;
        let mut cuts: Vec<usize> = (0..reqs.len()).map(|_| rng.random_range(0..=free)).collect();
        cuts.sort_unstable();
        let mut starts = Vec::with_capacity(reqs.len());
        let (mut pos, mut prev) = (0, 0);
        for (r, &c) in reqs.iter().zip(&cuts) {
            pos += c - prev;
            prev = c;
            starts.push(pos);
            pos += r.window();
        }
        let mut numbering: Vec<usize> = (0..reqs.len()).collect();
        if self.params.shuffle {
            numbering.shuffle(rng);
        }
        let sent = st.sentinels();
        let mut instructions = Vec::new();
        let mut label = Vec::new();
        for (q, &i) in numbering.iter().enumerate() {
            let (r, s) = (reqs[i], starts[i]);
            instructions.extend([st.marker(Marker::Find), sent[q]]);
            instructions.extend_from_slice(&context[s..s + r.a]);
            instructions.push(st.marker(Marker::Separator));
            instructions.extend_from_slice(&context[s + r.a + r.len..s + r.window()]);
            instructions.push(st.marker(Marker::FindEnd));
            label.extend([st.marker(Marker::Result), sent[q]]);
            label.extend_from_slice(&context[s + r.a..s + r.a + r.len]);
        }
        label.push(st.marker(Marker::Done));
        let mut ctx = Vec::with_capacity(context.len() + 2);
        ctx.push(st.marker(Marker::Context));
        ctx.extend_from_slice(context);
        ctx.push(st.marker(Marker::ContextEnd));
        let input = match self.params.format_style {
            FormatStyle::QueryContext => [instructions, ctx].concat(),
            FormatStyle::ContextQuery => [ctx, instructions].concat(),
        };
        Sample { input, label, consumed: context.len() }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::super::testing::{specials, text};
    use super::*;

    /// (start delimiter, span, end delimiter) of one request.
    type Triple = (Vec<u32>, Vec<u32>, Vec<u32>);

    /// The context and the request triples of a sample, by number.
    pub(crate) fn requests(s: &Sample, st: &SpecialTokens) -> (Vec<u32>, Vec<Triple>) {
        let find = st.marker(Marker::Find);
        let (ctx_open, ctx_close) = (st.marker(Marker::Context), st.marker(Marker::ContextEnd));
        let o = s.input.iter().position(|&t| t == ctx_open).unwrap();
        let c = s.input.iter().position(|&t| t == ctx_close).unwrap();
        let context = s.input[o + 1..c].to_vec();
        let instr: Vec<u32> = [&s.input[..o], &s.input[c + 1..]].concat();
        let mut out = Vec::new();
        for block in instr.split(|&t| t == find).filter(|b| !b.is_empty()) {
            let q = st.sentinels().iter().position(|&x| x == block[0]).unwrap();
            let body = &block[1..block.len() - 1];
            let sep = body.iter().position(|&t| t == st.marker(Marker::Separator)).unwrap();
            let res = s.label.split(|&t| t == st.marker(Marker::Result)).filter(|b| !b.is_empty()).nth(q).unwrap();
            let span: Vec<u32> = res[1..].iter().copied().filter(|&t| t != st.marker(Marker::Done)).collect();
            out.push((body[..sep].to_vec(), span, body[sep + 1..].to_vec()));
        }
        (context, out)
    }

    #[test]
    fn every_target_lies_in_the_context_between_its_delimiters() {
        let st = specials();
        for style in [FormatStyle::QueryContext, FormatStyle::ContextQuery] {
            let obj =
                SelectiveCopyingObjective::new(SelectiveCopyingParams { format_style: style, ..Default::default() });
            for seed in 0..50 {
                let s = obj.apply(&text(5000), 300, &st, &mut SampleRng::from_seed_u64(seed)).unwrap();
                assert!(s.input.len() + s.label.len() <= 300);
                let (context, reqs) = requests(&s, &st);
                assert_eq!(context, text(5000)[..s.consumed]);
                assert!(!reqs.is_empty() && reqs.len() <= 4);
                for (a, span, b) in reqs {
                    let needle = [a, span, b].concat();
                    assert!(context.windows(needle.len()).any(|w| w == needle.as_slice()));
                }
            }
        }
    }

    /// A long text with too little space left is a budget failure (`NoSpace`: the document is kept), never
    /// `TooShort`; at the reliable budget every attempt succeeds.
    #[test]
    fn selective_copying_near_the_end_of_a_row_is_a_budget_failure() {
        let st = specials();
        let obj = SelectiveCopyingObjective::new(SelectiveCopyingParams {
            tokens_per_mask: 16.0,
            max_delimiter: 16,
            ..Default::default()
        });
        let long = text(5000);
        let (min, reliable) = (obj.min_budget(), obj.reliable_budget());
        assert!(min < reliable);
        let mut failures = 0;
        for seed in 0..200 {
            for budget in [min, (min + reliable) / 2, reliable - 1] {
                match obj.apply(&long, budget, &st, &mut SampleRng::from_seed_u64(seed)) {
                    Ok(s) => assert!(s.input.len() + s.label.len() <= budget),
                    Err(e) => {
                        failures += 1;
                        assert!(matches!(e, SampleError::NoSpace { .. }), "budget {budget}: {e}");
                    }
                }
            }
            assert!(obj.apply(&long, reliable, &st, &mut SampleRng::from_seed_u64(seed)).is_ok());
        }
        assert!(failures > 0, "the small budgets never failed: the test does not test anything");
        // A text shorter than the requests with ample space is still `TooShort`.
        let err = obj.apply(&text(10), reliable, &st, &mut SampleRng::from_seed_u64(1)).unwrap_err();
        assert!(matches!(err, SampleError::TooShort { .. }), "{err}");
    }

    #[test]
    fn short_text_fails_softly() {
        let st = specials();
        let obj = SelectiveCopyingObjective::new(SelectiveCopyingParams::default());
        let err = obj.apply(&text(3), 300, &st, &mut SampleRng::from_seed_u64(0)).unwrap_err();
        assert!(matches!(err, SampleError::TooShort { .. }));
        assert!(matches!(
            obj.apply(&text(300), 5, &st, &mut SampleRng::from_seed_u64(0)),
            Err(SampleError::NoSpace { .. })
        ));
    }
}
