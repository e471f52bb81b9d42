//! birdie-eval: the retrieval evaluation suite (design §6) — phone book, MQAR, selective copying, story infilling,
//! dictionary QA and held-out perplexity — on birdie checkpoints, seeded and deterministic, each result written with
//! its chance level in one fixed JSON schema ([`EvalReport`]).

pub mod dictqa;
pub mod evaluator;
pub mod finetune;
pub mod heldout;
pub mod infill;
pub mod lm;
pub mod metrics;
pub mod mqar;
pub mod names;
pub mod phonebook;
pub mod ppl;
pub mod report;
pub mod selective_copying;
pub mod suite;

pub use evaluator::Evaluator;
pub use lm::{EvalModel, PromptStyle, Scored, TargetSample};
pub use report::{EvalReport, MetricResult};

/// Progress callback: (done, total).
pub type Progress<'a> = &'a mut dyn FnMut(usize, usize);

/// Why an evaluation could not run.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error(transparent)]
    Objectives(#[from] birdie_run::ObjectivesError),
    /// An evaluation option outside what the task accepts (the message names the option and the value).
    #[error("{0}")]
    Option(String),
    #[error("selective copying with {spans} spans: {source}")]
    Spans { spans: usize, source: birdie_core::ArmError },
    #[error("evaluation data: {0}")]
    Data(String),
    #[error("evaluation data: bundled corpus: {0}")]
    Corpus(#[from] birdie_data::IngestError),
    #[error(transparent)]
    Model(#[from] birdie_models::ModelError),
    #[error(transparent)]
    Tokenizer(#[from] birdie_data::TokenizerError),
    #[error(transparent)]
    Open(#[from] birdie_run::OpenError),
    #[error(transparent)]
    Device(#[from] birdie_models::DeviceError),
}
