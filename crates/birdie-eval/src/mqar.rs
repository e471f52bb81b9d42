//! Multi-query associative recall (MQAR, Zoology: Arora et al. 2023): key–value pairs, then the keys again in a
//! shuffled order at power-law distributed gaps, each to be answered with its value.
//!
//! Generator as Zoology's `multiquery_ar`: keys from the first half of the vocabulary, values from the second half,
//! both without repetition within a sequence; `space = (L − 2·kv) / 2` query slots, gap g drawn with
//! p(g) ∝ a·g^(a−1) (a = 0.01) without replacement, the key at slot 2g, every other query-region token random.
//! Layout in the packed format: the key–value context is the prompt (the prefix: bidirectional for bidirectional
//! models), the query region is the target read after start-of-generation, and the position after each query key
//! is scored against its value. Zoology leaves random noise after a query key as input; here the teacher-forced
//! value follows it (keys are distinct, so it reveals nothing about the other queries). Metric: accuracy over the
//! query positions (chance: 1 / number of values).
//!
//! Two modes: evaluate a trained checkpoint (tokens drawn from its ordinary, non-special ids), or `--train` a fresh
//! model on the task for a step budget (the Zoology protocol) and evaluate it on unseen sequences.

use birdie_core::SampleRng;
use birdie_models::{Model, ModelSpec};
use burn::prelude::*;
use rand::seq::index;
use rand::Rng;

use crate::evaluator::Evaluator;
use crate::finetune::{fit, FinetuneOptions};
use crate::lm::{EvalModel, TargetSample};
use crate::report::EvalReport;
use crate::{EvalError, Progress};

/// Zoology's power-law exponent.
pub const POWER_A: f64 = 0.01;

/// The token ids a sequence is built from: keys from `[lo, mid)`, values from `[mid, hi)`, noise from `[lo, hi)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MqarVocab {
    pub lo: u32,
    pub hi: u32,
}

impl MqarVocab {
    fn mid(&self) -> u32 {
        self.lo + (self.hi - self.lo) / 2
    }
}

/// One MQAR sequence in the packed layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MqarSample {
    /// k₁ v₁ k₂ v₂ … (2·kv tokens).
    pub context: Vec<u32>,
    /// The query region (L − 2·kv tokens): key at slot 2g, its value right after it.
    pub queries: Vec<u32>,
    /// True at the positions of `queries` that hold an answer (a value after its key).
    pub scored: Vec<bool>,
}

/// One sequence of `seq_len` tokens with `kv` pairs.
///
/// # Panics
/// If the sequence is too short for the pairs and queries (`seq_len < 4·kv`) or the vocabulary halves hold fewer
/// than `kv` ids (checked by [`MqarOptions::validate`]).
pub fn make_sample(rng: &mut SampleRng, vocab: MqarVocab, seq_len: usize, kv: usize) -> MqarSample {
    let mid = vocab.mid();
    let keys: Vec<u32> =
        index::sample(rng, (mid - vocab.lo) as usize, kv).iter().map(|i| vocab.lo + i as u32).collect();
    let values: Vec<u32> = index::sample(rng, (vocab.hi - mid) as usize, kv).iter().map(|i| mid + i as u32).collect();
    let context: Vec<u32> = keys.iter().zip(&values).flat_map(|(&k, &v)| [k, v]).collect();
    let region = seq_len - 2 * kv;
    let space = region / 2;
    // Gaps without replacement, p(g) ∝ a·(g+1)^(a−1).
    let mut weights: Vec<f64> = (1..=space).map(|g| POWER_A * (g as f64).powf(POWER_A - 1.0)).collect();
    let mut gaps = Vec::with_capacity(kv);
    for _ in 0..kv {
        let total: f64 = weights.iter().sum();
        let mut u = rng.random::<f64>() * total;
        let mut g = weights.iter().rposition(|&w| w > 0.0).expect("space ≥ kv");
        for (i, &w) in weights.iter().enumerate() {
            if w > 0.0 && u < w {
                g = i;
                break;
            }
            u -= w;
        }
        weights[g] = 0.0;
        gaps.push(g);
    }
    let mut queries: Vec<u32> = (0..region).map(|_| rng.random_range(vocab.lo..vocab.hi)).collect();
    let mut scored = vec![false; region];
    for (i, &g) in gaps.iter().enumerate() {
        queries[2 * g] = keys[i];
        queries[2 * g + 1] = values[i];
        scored[2 * g + 1] = true;
    }
    MqarSample { context, queries, scored }
}

/// Sizes, settings and (for `--train`) the model and budget.
#[derive(Debug, Clone, PartialEq)]
pub struct MqarOptions {
    /// (sequence length, kv pairs) settings.
    pub settings: Vec<(usize, usize)>,
    /// Test sequences per setting.
    pub n: usize,
    pub seed: u64,
    /// `--train`: the fresh model to train.
    pub train: Option<MqarTrain>,
}

/// A fresh model trained on MQAR.
#[derive(Debug, Clone, PartialEq)]
pub struct MqarTrain {
    /// The model: `arch`, `bidirectional`, `d_model`, `num_layers` (+ any override) on the `tiny` preset.
    pub model: ModelSpec,
    pub vocab_size: usize,
    pub fit: FinetuneOptions,
    /// Where the model trains and is evaluated (`Device::flex()` is the CPU).
    pub device: Device,
}

impl Default for MqarOptions {
    fn default() -> Self {
        MqarOptions { settings: vec![(64, 4), (128, 8), (256, 16)], n: 100, seed: 0, train: None }
    }
}

impl MqarOptions {
    /// Rejects settings the generator cannot fill, naming the value.
    pub fn validate(&self, vocab: MqarVocab) -> Result<(), EvalError> {
        let half = ((vocab.hi - vocab.lo) / 2) as usize;
        for &(l, kv) in &self.settings {
            if kv == 0 || l < 4 * kv {
                return Err(EvalError::Option(format!(
                    "seq-len {l} with kv-pairs {kv}: expected kv-pairs ≥ 1 and seq-len ≥ 4 × kv-pairs"
                )));
            }
            if kv > half {
                return Err(EvalError::Option(format!(
                    "kv-pairs {kv}: the vocabulary halves hold only {half} keys/values"
                )));
            }
        }
        Ok(())
    }
}

fn target_sample(s: MqarSample) -> TargetSample {
    TargetSample { prompt: s.context, target: s.queries, scored: Some(s.scored), raw: false }
}

const STREAM_TEST: u64 = 0x6d71_6172;
const STREAM_TRAIN: u64 = 0x6d71_7472;

/// The test sequences of every setting of `o`, in order: `o.n` each, seeded by (`o.seed`, setting, index).
pub fn test_samples(vocab: MqarVocab, o: &MqarOptions) -> Vec<Vec<TargetSample>> {
    o.settings
        .iter()
        .enumerate()
        .map(|(s, &(l, kv))| {
            (0..o.n)
                .map(|i| {
                    let mut rng = SampleRng::derive(o.seed, STREAM_TEST, (s * 1_000_003 + i) as u64);
                    target_sample(make_sample(&mut rng, vocab, l, kv))
                })
                .collect()
        })
        .collect()
}

/// The ids MQAR draws from on a checkpoint: the top run of the tokenizer's ordinary (non-special) ids.
pub fn checkpoint_vocab(ev: &Evaluator) -> MqarVocab {
    let sp = ev.tokenizer.specials();
    let lo = (0..ev.lm.vocab as u32).rev().take_while(|&i| !sp.is_special(i)).last().unwrap_or(0);
    MqarVocab { lo, hi: ev.lm.vocab as u32 }
}

/// Accuracy per setting on fresh test sequences.
fn measure(
    lm: &EvalModel,
    vocab: MqarVocab,
    o: &MqarOptions,
    label: &str,
    report: &mut EvalReport,
) -> Result<(), EvalError> {
    let chance = 1.0 / (vocab.hi - vocab.mid()) as f64;
    let (mut hits, mut total) = (0usize, 0usize);
    for (&(l, kv), samples) in o.settings.iter().zip(test_samples(vocab, o)) {
        let scored = lm.score(&samples)?;
        let h: usize = scored.iter().map(|r| r.argmax.iter().zip(&r.gold).filter(|(a, b)| a == b).count()).sum();
        let t: usize = scored.iter().map(|r| r.tokens).sum();
        report.push("accuracy", h as f64 / t.max(1) as f64, chance, &format!("{label}seq={l}, kv={kv}"));
        hits += h;
        total += t;
        report.n += o.n;
    }
    report.push("accuracy", hits as f64 / total.max(1) as f64, chance, "all");
    Ok(())
}

/// Evaluates a trained checkpoint on MQAR built from its ordinary token ids.
pub fn run_checkpoint(ev: &Evaluator, o: &MqarOptions) -> Result<EvalReport, EvalError> {
    let vocab = checkpoint_vocab(ev);
    o.validate(vocab)?;
    let mut report = EvalReport::new("mqar", &ev.checkpoint, o.seed);
    measure(&ev.lm, vocab, o, "", &mut report)?;
    Ok(report)
}

/// Trains a fresh model on MQAR (fresh sequences every step, lengths and pair counts drawn from the settings) and
/// evaluates it on unseen sequences; returns the report and the training losses.
pub fn run_train(o: &MqarOptions, progress: Progress) -> Result<(EvalReport, Vec<f64>), EvalError> {
    let t = o.train.as_ref().ok_or_else(|| EvalError::Option("run_train needs MqarOptions::train".into()))?;
    let vocab = MqarVocab { lo: 1, hi: t.vocab_size as u32 };
    o.validate(vocab)?;
    let device = t.device.clone().autodiff();
    let max_len = o.settings.iter().map(|s| s.0).max().unwrap_or(64) + 2;
    let model: Model = t.model.resolve(t.vocab_size, max_len)?.init_seeded(&device, o.seed);
    // Token 0 is the start-of-generation token; there is no paradigm token and no tokenizer.
    let lm = EvalModel::new(model.clone(), t.vocab_size, 0, Vec::new(), t.device.clone());
    let settings = o.settings.clone();
    let mut draw = |rng: &mut SampleRng| -> Result<TargetSample, EvalError> {
        let (l, kv) = settings[rng.random_range(0..settings.len())];
        Ok(target_sample(make_sample(rng, vocab, l, kv)))
    };
    let fit_opts = FinetuneOptions { seed: o.seed, ..t.fit.clone() };
    let (model, losses) = fit(&lm, model, &fit_opts, STREAM_TRAIN, &mut draw, progress)?;
    let lm = EvalModel::new(model, t.vocab_size, 0, Vec::new(), t.device.clone());
    let m = &t.model;
    let name = format!(
        "mqar --train {}{} d_model={} layers={}",
        m.arch,
        if m.bidirectional { " bidirectional" } else { "" },
        m.d_model.map_or("preset".into(), |d| d.to_string()),
        m.num_layers.map_or("preset".into(), |d| d.to_string())
    );
    let mut report = EvalReport::new("mqar", &name, o.seed);
    let label = format!("steps={}, ", t.fit.steps);
    measure(&lm, vocab, o, &label, &mut report)?;
    Ok((report, losses))
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn every_query_is_answerable_from_the_context(seed in 0u64..10_000, kv in 1usize..16, extra in 0usize..64) {
            let vocab = MqarVocab { lo: 7, hi: 107 };
            let l = 4 * kv + extra;
            let s = make_sample(&mut SampleRng::derive(seed, 0, 0), vocab, l, kv);
            prop_assert_eq!(&s, &make_sample(&mut SampleRng::derive(seed, 0, 0), vocab, l, kv));
            prop_assert_eq!(s.context.len() + s.queries.len(), l);
            let pairs: Vec<(u32, u32)> = s.context.chunks(2).map(|p| (p[0], p[1])).collect();
            prop_assert_eq!(pairs.iter().map(|p| p.0).collect::<HashSet<_>>().len(), kv, "distinct keys");
            prop_assert!(pairs.iter().all(|&(k, v)| (7..57).contains(&k) && (57..107).contains(&v)));
            prop_assert_eq!(s.scored.iter().filter(|&&b| b).count(), kv);
            for (i, &b) in s.scored.iter().enumerate() {
                if b {
                    let (k, v) = (s.queries[i - 1], s.queries[i]);
                    prop_assert!(pairs.contains(&(k, v)), "query {k} → {v} not in the context");
                }
            }
            prop_assert!(s.queries.iter().all(|&t| (7..107).contains(&t)));
        }
    }

    #[test]
    fn gaps_follow_a_power_law() {
        // Short gaps are much more likely: slot 0 holds a query far more often than the last slot.
        let vocab = MqarVocab { lo: 1, hi: 257 };
        let (mut first, mut last) = (0, 0);
        for i in 0..2000 {
            let s = make_sample(&mut SampleRng::derive(1, 2, i), vocab, 256, 1);
            first += usize::from(s.scored[1]);
            last += usize::from(s.scored[s.scored.len() - 1]);
        }
        assert!(first > 20 * last.max(1), "first {first}, last {last}");
    }
}
