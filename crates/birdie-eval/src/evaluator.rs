//! What every task works with: the model to evaluate ([`EvalModel`]), its tokenizer, and what the run was trained on
//! (row length, objective arms) — opened from a checkpoint or built directly (tests, freshly trained MQAR models).

use std::path::Path;

use birdie_core::Arm;
use birdie_data::{Paradigm, Tokenizer};
use birdie_models::Model;
use birdie_run::{TrainConfig, TrainedModel};
use burn::prelude::*;

use crate::lm::{EvalModel, PromptStyle};
use crate::EvalError;

/// A model with its tokenizer and training context.
pub struct Evaluator {
    pub lm: EvalModel,
    pub tokenizer: Tokenizer,
    /// Shown in reports: the path given on the command line.
    pub checkpoint: String,
    /// Row length the model was trained at.
    pub seq_len: usize,
    /// The objective arms of the run (selective copying is evaluated in its training format).
    pub arms: Vec<Arm>,
    /// The trainable model (fine-tuning starts from a copy of it).
    pub model: Model,
    pub config: Option<TrainConfig>,
}

/// Prefix style with the prefix-LM paradigm when the run trained a prefix-LM-like objective, else causal with the
/// next-token paradigm.
pub fn default_style(arms: &[Arm]) -> (PromptStyle, Paradigm) {
    let prefix_trained = arms.iter().any(|a| a.spec.paradigm() == Paradigm::PrefixLanguageModeling && a.prob > 0.0);
    if prefix_trained {
        (PromptStyle::Prefix, Paradigm::PrefixLanguageModeling)
    } else {
        (PromptStyle::Causal, Paradigm::NextTokenPrediction)
    }
}

impl Evaluator {
    /// Opens a run directory (its newest checkpoint) or a checkpoint directory onto `device` (the CPU is
    /// `Device::flex()`); a checkpoint written on one device loads on any other.
    pub fn open(path: &Path, style: Option<PromptStyle>, device: &Device) -> Result<Self, EvalError> {
        // Loaded for training (fine-tuning needs gradients); evaluation reads the model without them.
        let t = TrainedModel::open(path, &device.clone().autodiff())?;
        let arms = birdie_run::procedure_arms(&t.config)?;
        let vocab = t.config.model.vocab_size(t.tokenizer.vocab_size());
        let mut ev =
            Evaluator::new(t.model, t.tokenizer, vocab, &path.display().to_string(), t.config.data.seq_len, arms);
        if let Some(s) = style {
            let p = match s {
                PromptStyle::Prefix => Paradigm::PrefixLanguageModeling,
                PromptStyle::Causal => Paradigm::NextTokenPrediction,
            };
            ev.lm = ev.lm.with_style(s, Some(ev.tokenizer.specials().paradigm(p)));
        }
        ev.config = Some(t.config);
        Ok(ev)
    }

    /// An evaluator over `model` (evaluated on the device it lives on), with the prompt style [`default_style`]
    /// picks for `arms`.
    pub fn new(
        model: Model,
        tokenizer: Tokenizer,
        vocab: usize,
        checkpoint: &str,
        seq_len: usize,
        arms: Vec<Arm>,
    ) -> Self {
        let sp = tokenizer.specials().clone();
        let (style, paradigm) = default_style(&arms);
        let lm = EvalModel::new(
            model.clone(),
            vocab,
            sp.start_of_generation,
            vec![sp.end_of_document, sp.pad],
            model_device(&model),
        )
        .with_style(style, Some(sp.paradigm(paradigm)));
        Evaluator { lm, tokenizer, checkpoint: checkpoint.into(), seq_len, arms, model, config: None }
    }

    /// Replaces the evaluated weights (after fine-tuning), keeping the prompt style.
    pub fn set_model(&mut self, model: Model) {
        let (style, paradigm) = (self.lm.style, self.lm.paradigm);
        self.lm = EvalModel::new(
            model.clone(),
            self.lm.vocab,
            self.lm.start_of_generation,
            self.lm.stop.clone(),
            self.lm.device.clone(),
        )
        .with_style(style, paradigm);
        self.model = model;
    }

    pub fn encode(&self, text: &str) -> Result<Vec<u32>, EvalError> {
        Ok(self.tokenizer.encode(text)?)
    }

    pub fn decode(&self, ids: &[u32]) -> Result<String, EvalError> {
        Ok(self.tokenizer.decode(ids)?)
    }

    /// Greedy answer text to a text prompt, at most `max_new` tokens.
    pub fn answer(&self, prompt: &str, max_new: usize) -> Result<String, EvalError> {
        let ids = self.encode(prompt)?;
        let out = self.lm.generate(&ids, false, max_new)?;
        self.decode(&out)
    }
}

/// The device `model`'s parameters live on, without autodiff (evaluation needs no gradients).
pub(crate) fn model_device(model: &Model) -> Device {
    use burn::module::Module;
    model.devices().into_iter().next().unwrap_or_else(Device::flex).without_autodiff()
}
