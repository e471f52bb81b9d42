//! Selective copying on held-out text, in the pre-training objective's own format (design §1.7): the prompt holds the
//! context and 1–4 "find the span between these delimiters" instructions; the model generates the spans. Exact
//! match (the whole answer, through the done marker) and token accuracy (position-wise over the gold answer) per
//! number of spans.

use birdie_core::objectives::SelectiveCopyingParams;
use birdie_core::{Arm, ObjectiveSpec, ParadigmPlacement, SampleRng};
use rand::Rng;

use crate::evaluator::Evaluator;
use crate::metrics::token_accuracy;
use crate::report::EvalReport;
use crate::{heldout, EvalError, Progress};

#[derive(Debug, Clone, PartialEq)]
pub struct SelectiveCopyingOptions {
    /// Numbers of spans.
    pub spans: Vec<usize>,
    /// Items per setting.
    pub n: usize,
    /// Tokens per sample (default: the run's row length).
    pub budget: Option<usize>,
    pub jrt: bool,
    pub seed: u64,
}

impl Default for SelectiveCopyingOptions {
    fn default() -> Self {
        SelectiveCopyingOptions { spans: vec![1, 2, 4], n: 16, budget: None, jrt: false, seed: 0 }
    }
}

/// The run's selective-copying parameters (the first such arm), else the defaults.
fn params(ev: &Evaluator) -> SelectiveCopyingParams {
    ev.arms
        .iter()
        .find_map(|a| match &a.spec {
            ObjectiveSpec::SelectiveCopying(p) => Some(p.clone()),
            _ => None,
        })
        .unwrap_or_default()
}

/// A (prompt, answer) pair of token ids.
pub type Item = (Vec<u32>, Vec<u32>);

/// (prompt, answer) items for `spans` spans: held-out token streams at seeded offsets, retried on text that cannot
/// make a sample.
pub fn items(
    ev: &Evaluator,
    spans: usize,
    o: &SelectiveCopyingOptions,
    docs: &[Vec<u32>],
) -> Result<Vec<Item>, EvalError> {
    let p = SelectiveCopyingParams { min_spans: spans, max_spans: spans, ..params(ev) };
    let arm = Arm::new(None, 1.0, ObjectiveSpec::SelectiveCopying(p), None, ParadigmPlacement::Prefix)
        .map_err(|source| EvalError::Spans { spans, source })?;
    let budget = o.budget.unwrap_or(ev.seq_len);
    let specials = ev.tokenizer.specials();
    let mut out = Vec::with_capacity(o.n);
    for i in 0..o.n {
        let mut rng = SampleRng::derive(o.seed, 0x7365_6c63 + spans as u64, i as u64);
        let mut made = None;
        for _ in 0..100 {
            let d = &docs[rng.random_range(0..docs.len())];
            let start = rng.random_range(0..d.len().max(1));
            if let Ok(s) = arm.apply(&d[start..], budget, specials, &mut rng) {
                made = Some(s);
                break;
            }
        }
        let s = made.ok_or_else(|| {
            EvalError::Data(format!("no selective-copying sample with {spans} spans fits {budget} tokens"))
        })?;
        let prompt = if o.jrt { [s.input.clone(), s.input].concat() } else { s.input };
        out.push((prompt, s.label));
    }
    Ok(out)
}

/// The items [`run`] evaluates, per span count of `o.spans`: [`items`] on the held-out documents.
pub fn eval_items(ev: &Evaluator, o: &SelectiveCopyingOptions) -> Result<Vec<(usize, Vec<Item>)>, EvalError> {
    let docs: Vec<Vec<u32>> = heldout::documents()?.iter().map(|d| ev.encode(&d.text)).collect::<Result<_, _>>()?;
    o.spans.iter().map(|&k| Ok((k, items(ev, k, o, &docs)?))).collect()
}

pub fn run(ev: &Evaluator, o: &SelectiveCopyingOptions, progress: Progress) -> Result<EvalReport, EvalError> {
    let mut report = EvalReport::new("selective-copying", &ev.checkpoint, o.seed);
    let (mut em_all, mut acc_all, mut count) = (0.0, 0.0, 0usize);
    let total = o.spans.len() * o.n;
    for (k, setting_items) in eval_items(ev, o)? {
        let (mut em, mut acc) = (0.0, 0.0);
        for (prompt, label) in setting_items {
            let generated = ev.lm.generate(&prompt, true, label.len())?;
            em += f64::from(u8::from(generated == label));
            acc += token_accuracy(&generated, &label);
            count += 1;
            progress(count, total);
        }
        let setting = format!("spans={k}");
        report.push("exact_match", em / o.n as f64, 0.0, &setting);
        report.push("token_accuracy", acc / o.n as f64, 1.0 / ev.lm.vocab as f64, &setting);
        em_all += em;
        acc_all += acc;
    }
    report.n = count;
    report.push("exact_match", em_all / count.max(1) as f64, 0.0, "all");
    report.push("token_accuracy", acc_all / count.max(1) as f64, 1.0 / ev.lm.vocab as f64, "all");
    Ok(report)
}
