//! The evaluated model behind one interface: teacher-forced scoring of (prompt, target) pairs and greedy generation,
//! both in the packed format the model was trained on. The target (answer, option, text) always comes after the
//! start-of-generation token and is read causally; what the prompt is depends on the [`PromptStyle`]:
//! - `Prefix`: `[paradigm] prompt` is the prefix (bidirectional for bidirectional models) — for models trained with
//!   prefix-LM-style objectives (Birdie, UL2, fixed ratio);
//! - `Causal`: the prefix is the paradigm token alone and the prompt is teacher-forced after start-of-generation,
//!   as in next-token training — for next-token-only models.
//!
//! Whatever a model may see bidirectionally is the prompt only: targets are never in the prefix.

use std::collections::HashMap;

use birdie_core::packing::Batcher;
use birdie_core::PackedBatch;
use birdie_models::{DecodeState, Model, ModelError};
use birdie_run::sequence_batch;
use burn::prelude::*;

/// Where the prompt goes (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptStyle {
    Prefix,
    Causal,
}

/// One scoring request: the target's tokens after the prompt; `scored` picks the target positions that count
/// (all when `None`). A `raw` sample's prompt is used as the prefix as it is (it carries its own paradigm token,
/// like a selective-copying sample).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetSample {
    pub prompt: Vec<u32>,
    pub target: Vec<u32>,
    pub scored: Option<Vec<bool>>,
    pub raw: bool,
}

impl TargetSample {
    pub fn new(prompt: Vec<u32>, target: Vec<u32>) -> Self {
        TargetSample { prompt, target, scored: None, raw: false }
    }

    /// A sample whose prompt is the literal prefix.
    pub fn raw(prompt: Vec<u32>, target: Vec<u32>) -> Self {
        TargetSample { prompt, target, scored: None, raw: true }
    }
}

/// The model's view of one target: summed negative log-likelihood and greedy predictions over the scored positions.
#[derive(Debug, Clone, PartialEq)]
pub struct Scored {
    /// Σ −log p(target token), nats.
    pub nll: f64,
    /// Scored positions.
    pub tokens: usize,
    /// Argmax prediction at each scored position.
    pub argmax: Vec<u32>,
    /// The gold token at each scored position.
    pub gold: Vec<u32>,
}

impl Scored {
    /// Mean NLL per scored token (the length-normalised score of multiple choice).
    pub fn mean_nll(&self) -> f64 {
        self.nll / self.tokens.max(1) as f64
    }

    /// Share of scored positions predicted exactly.
    pub fn accuracy(&self) -> f64 {
        crate::metrics::token_accuracy(&self.argmax, &self.gold)
    }
}

/// Answers known in advance, standing in for the model. Under a prefix, the known answers (teacher-forced tokens,
/// the target, then a stop token) that continue what follows the start-of-generation token so far share all the
/// probability of the next token, each answer equally (with one such answer its next token is certain); where none
/// continues it, every token is equally likely. Scored and generated through the same code as a model, it gives
/// each task its best score: 1 on every accuracy-like metric where prompts are distinct, and, where several answers
/// share a prefix (the perplexity windows), a loss of at most ln(answers under the prefix) nats per answer.
#[derive(Debug, Clone, Default)]
pub struct Oracle {
    /// Prefix → the token sequences known to follow its start-of-generation token.
    answers: HashMap<Vec<u32>, Vec<Vec<u32>>>,
}

/// The oracle's logit of a predicted token (plus ln of its share; every other token's is 0): exp(−100) is below
/// f64's precision next to 1, so a certain prediction costs exactly 0 nats.
const ORACLE_LOGIT: f32 = 100.0;

impl Oracle {
    /// Logits of the position after `after` (the tokens following start-of-generation) under `prefix`.
    fn logits(&self, prefix: &[u32], after: &[u32], vocab: usize) -> Vec<f32> {
        let mut counts: HashMap<u32, usize> = HashMap::new();
        for a in self.answers.get(prefix).into_iter().flatten() {
            if a.len() > after.len() && a.starts_with(after) {
                *counts.entry(a[after.len()]).or_default() += 1;
            }
        }
        let mut row = vec![0.0; vocab];
        for (t, n) in counts {
            if let Some(slot) = row.get_mut(t as usize) {
                *slot = ORACLE_LOGIT + (n as f32).ln();
            }
        }
        row
    }

    /// Logits `[rows · seq, vocab]` of a packed batch, each segment read from its input ids as a model reads them.
    fn packed_logits(&self, b: &PackedBatch, vocab: usize) -> Vec<f32> {
        let mut out = vec![0.0; b.batch_size * b.seq_len * vocab];
        let ids = |range: std::ops::Range<usize>| b.input_ids[range].iter().map(|&t| t as u32).collect::<Vec<u32>>();
        for seg in &b.segments {
            let base = seg.row * b.seq_len + seg.start;
            let prefix = ids(base..base + seg.input_len);
            // Position input_len + t holds start-of-generation (t = 0) or label token t − 1 and predicts label t.
            for t in 0..seg.label_len {
                let pos = base + seg.input_len + t;
                let after = ids(base + seg.input_len + 1..pos + 1);
                out[pos * vocab..(pos + 1) * vocab].copy_from_slice(&self.logits(&prefix, &after, vocab));
            }
        }
        out
    }
}

/// Index of the largest logit (the first of equals).
fn argmax(row: &[f32]) -> u32 {
    row.iter().enumerate().fold((0, f32::NEG_INFINITY), |a, (k, &v)| if v > a.1 { (k, v) } else { a }).0 as u32
}

/// A model ready for evaluation (no gradients).
pub struct EvalModel {
    pub model: Model,
    pub start_of_generation: u32,
    /// Tokens that end a generated answer (end of document, padding).
    pub stop: Vec<u32>,
    pub device: Device,
    /// Output vocabulary size (logits per position).
    pub vocab: usize,
    pub style: PromptStyle,
    /// The paradigm token that opens every non-raw prompt (`None`: none, for models trained without one).
    pub paradigm: Option<u32>,
    /// Most positions × vocabulary entries of logits held at once (bounds memory: 2^26 floats = 256 MiB).
    pub max_logits: usize,
    /// When set, answers come from this [`Oracle`] instead of the model.
    pub oracle: Option<Oracle>,
}

impl EvalModel {
    pub fn new(model: Model, vocab: usize, start_of_generation: u32, stop: Vec<u32>, device: Device) -> Self {
        EvalModel {
            model: model.valid(),
            start_of_generation,
            stop,
            device,
            vocab,
            style: PromptStyle::Prefix,
            paradigm: None,
            max_logits: 1 << 26,
            oracle: None,
        }
    }

    /// Replaces the model by an [`Oracle`] that knows `answers` (each laid out as this model lays out a sample of
    /// it): scoring and generation then run exactly as for the model, with the oracle's logits.
    pub fn set_oracle(&mut self, answers: &[TargetSample]) {
        let mut oracle = Oracle::default();
        for a in answers {
            let (prefix, forced) = self.layout(&a.prompt, a.raw);
            let known: Vec<u32> =
                forced.into_iter().chain(a.target.iter().copied()).chain(self.stop.first().copied()).collect();
            oracle.answers.entry(prefix).or_default().push(known);
        }
        self.oracle = Some(oracle);
    }

    pub fn with_style(mut self, style: PromptStyle, paradigm: Option<u32>) -> Self {
        self.style = style;
        self.paradigm = paradigm;
        self
    }

    /// (prefix, tokens teacher-forced after start-of-generation before the target) of a prompt.
    pub(crate) fn layout(&self, prompt: &[u32], raw: bool) -> (Vec<u32>, Vec<u32>) {
        if raw {
            return (prompt.to_vec(), Vec::new());
        }
        let p = self.paradigm.into_iter();
        match self.style {
            PromptStyle::Prefix => (p.chain(prompt.iter().copied()).collect(), Vec::new()),
            PromptStyle::Causal => (p.collect(), prompt.to_vec()),
        }
    }

    fn check_length(&self, len: usize) -> Result<(), ModelError> {
        match self.model.max_positions() {
            Some(max) if len > max => Err(ModelError::ContextFull { position: len - 1, max }),
            _ => Ok(()),
        }
    }

    /// Scores every sample (teacher forcing). Samples are batched by length; each is its own packed segment, so the
    /// result of one does not depend on its neighbours.
    ///
    /// # Errors
    /// A sample longer than the model's context, or with an empty prompt or target.
    pub fn score(&self, samples: &[TargetSample]) -> Result<Vec<Scored>, ModelError> {
        let vocab = self.vocab;
        let mut order: Vec<usize> = (0..samples.len()).collect();
        order.sort_by_key(|&i| samples[i].prompt.len() + samples[i].target.len());
        let mut out: Vec<Option<Scored>> = vec![None; samples.len()];
        // Tokens teacher-forced before each sample's target (the causal style's prompt).
        let mut forced_len = vec![0; samples.len()];
        let mut i = 0;
        while i < order.len() {
            // Rows of the longest sample in this group; the group grows while the logits fit `max_logits`.
            let mut j = i;
            let mut seq = 0;
            while j < order.len() {
                let s = &samples[order[j]];
                let len = s.prompt.len() + s.target.len() + 1;
                if j > i && (j - i + 1) * len.max(seq) * vocab > self.max_logits {
                    break;
                }
                seq = seq.max(len);
                j += 1;
            }
            self.check_length(seq)?;
            let group = &order[i..j];
            let mut batcher = Batcher::new(group.len(), seq, self.start_of_generation);
            for &k in group {
                let s = &samples[k];
                let (prefix, forced) = self.layout(&s.prompt, s.raw);
                if prefix.is_empty() || s.target.is_empty() {
                    return Err(ModelError::BadValue {
                        key: "sample",
                        value: format!("prefix {} / target {} tokens", prefix.len(), s.target.len()),
                        expected: "a non-empty prefix (prompt or paradigm token) and target".into(),
                    });
                }
                forced_len[k] = forced.len();
                let label: Vec<u32> = forced.into_iter().chain(s.target.iter().copied()).collect();
                batcher.add(&prefix, &label, k).expect("each sample fits a row of the group's length");
            }
            let packed = batcher.take();
            let batch = sequence_batch(&packed, self.model.conv_width(), vocab, &self.device)?;
            let logits = match &self.oracle {
                Some(o) => o.packed_logits(&packed, vocab),
                None => self.model.forward(&batch).into_data().try_to_vec::<f32>().expect("f32 logits"),
            };
            for seg in &packed.segments {
                let s = &samples[seg.arm];
                let mut scored = Scored { nll: 0.0, tokens: 0, argmax: Vec::new(), gold: Vec::new() };
                for (t, &gold) in s.target.iter().enumerate() {
                    if s.scored.as_ref().is_some_and(|m| !m.get(t).copied().unwrap_or(false)) {
                        continue;
                    }
                    let pos = seg.row * packed.seq_len + seg.start + seg.input_len + forced_len[seg.arm] + t;
                    let row = &logits[pos * vocab..(pos + 1) * vocab];
                    let arg = argmax(row);
                    let max = row[arg as usize];
                    let lse = max as f64 + row.iter().map(|&v| ((v - max) as f64).exp()).sum::<f64>().ln();
                    scored.nll += lse - row[gold as usize] as f64;
                    scored.tokens += 1;
                    scored.argmax.push(arg);
                    scored.gold.push(gold);
                }
                out[seg.arm] = Some(scored);
            }
            i = j;
        }
        Ok(out.into_iter().map(|s| s.expect("every sample scored")).collect())
    }

    /// Greedy continuation of `prompt` (after the start-of-generation token), at most `max_new` tokens, stopping at
    /// a stop token (not returned) or at the end of the model's context.
    pub fn generate(&self, prompt: &[u32], raw: bool, max_new: usize) -> Result<Vec<u32>, ModelError> {
        let (prefix, forced) = self.layout(prompt, raw);
        let mut tokens: Vec<i32> = prefix.iter().map(|&t| t as i32).collect();
        tokens.push(self.start_of_generation as i32);
        tokens.extend(forced.iter().map(|&t| t as i32));
        self.check_length(tokens.len())?;
        if let Some(&largest) = tokens.iter().max().filter(|&&t| t as usize >= self.vocab) {
            return Err(ModelError::TokenOutOfVocabulary { largest: largest as u32, vocab_size: self.vocab });
        }
        let to_vec = |l: Tensor<2>| l.into_data().try_to_vec::<f32>().expect("f32 logits");
        let mut state: Option<DecodeState> = None;
        let mut row = match &self.oracle {
            Some(o) => o.logits(&prefix, &forced, self.vocab),
            None => {
                let (logits, s) = self.model.prompt(&tokens, 1, prefix.len(), &self.device)?;
                state = Some(s);
                to_vec(logits)
            }
        };
        let mut out = Vec::new();
        while out.len() < max_new {
            let next = argmax(&row);
            if self.stop.contains(&next) {
                break;
            }
            out.push(next);
            if out.len() == max_new {
                break;
            }
            row = match (&self.oracle, state.as_mut()) {
                (Some(o), _) => o.logits(&prefix, &[forced.as_slice(), &out].concat(), self.vocab),
                (None, Some(state)) => match self.model.step(&[next as i32], state, &self.device) {
                    Ok(l) => to_vec(l),
                    Err(ModelError::ContextFull { .. }) => break,
                    Err(e) => return Err(e),
                },
                (None, None) => unreachable!("the model's decode state is set with its prompt"),
            };
        }
        Ok(out)
    }
}
