//! Per-token loss and perplexity on held-out text. The prefix is the next-token paradigm token alone and all text
//! is causal label, so bidirectional models see nothing ahead of the token they predict.

use birdie_data::Paradigm;

use crate::evaluator::Evaluator;
use crate::heldout;
use crate::lm::TargetSample;
use crate::report::EvalReport;
use crate::{EvalError, Progress};

/// How much text.
#[derive(Debug, Clone, PartialEq)]
pub struct PplOptions {
    /// Most tokens scored, shared equally between the sources (0 = all held-out text).
    pub max_tokens: usize,
    /// Tokens per window (default: the run's row length).
    pub window: Option<usize>,
    pub seed: u64,
}

impl Default for PplOptions {
    fn default() -> Self {
        PplOptions { max_tokens: 32_768, window: None, seed: 0 }
    }
}

/// The windows [`run`] scores, by source: each a sample whose prefix is the next-token paradigm token alone.
pub fn samples(ev: &Evaluator, o: &PplOptions) -> Result<Vec<(String, Vec<TargetSample>)>, EvalError> {
    let docs = heldout::documents()?;
    let mut sources: Vec<&str> = docs.iter().map(|d| heldout::source(&d.id)).collect();
    sources.dedup();
    let window = o.window.unwrap_or(ev.seq_len).saturating_sub(1).max(1);
    let per_source = if o.max_tokens == 0 { usize::MAX } else { (o.max_tokens / sources.len().max(1)).max(1) };
    let ntp = ev.tokenizer.specials().paradigm(Paradigm::NextTokenPrediction);
    let mut out = Vec::with_capacity(sources.len());
    for src in sources {
        let mut samples = Vec::new();
        let mut budget = per_source;
        for d in docs.iter().filter(|d| heldout::source(&d.id) == src) {
            if budget == 0 {
                break;
            }
            let mut toks = ev.encode(&d.text)?;
            toks.push(ev.tokenizer.specials().end_of_document);
            for w in toks.chunks(window) {
                let w = &w[..w.len().min(budget)];
                if w.is_empty() {
                    break;
                }
                budget -= w.len();
                samples.push(TargetSample::raw(vec![ntp], w.to_vec()));
            }
        }
        out.push((src.to_string(), samples));
    }
    Ok(out)
}

pub fn run(ev: &Evaluator, o: &PplOptions, progress: Progress) -> Result<EvalReport, EvalError> {
    let sources = samples(ev, o)?;
    let mut report = EvalReport::new("ppl", &ev.checkpoint, o.seed);
    let ln_v = (ev.lm.vocab as f64).ln();
    let (mut nll, mut count) = (0.0, 0usize);
    for (si, (src, samples)) in sources.iter().enumerate() {
        let scored = ev.lm.score(samples)?;
        let (s_nll, s_n): (f64, usize) = scored.iter().fold((0.0, 0), |a, r| (a.0 + r.nll, a.1 + r.tokens));
        let loss = s_nll / s_n.max(1) as f64;
        let setting = format!("source={src}, tokens={s_n}");
        report.push("loss", loss, ln_v, &setting);
        report.push("perplexity", loss.exp(), ev.lm.vocab as f64, &setting);
        nll += s_nll;
        count += s_n;
        report.n += samples.len();
        progress(si + 1, sources.len());
    }
    let loss = nll / count.max(1) as f64;
    report.push("loss", loss, ln_v, "all");
    report.push("perplexity", loss.exp(), ev.lm.vocab as f64, "all");
    Ok(report)
}
