//! `birdie._native`: birdie's objectives, deterministic pipeline and mixture controller for Python trainers.
//!
//! The Python package (`python/birdie/`) turns the reference's config dictionary into [`Settings`] and the documents
//! into one of the inputs of [`Session::new`]; everything after that — tokenizing, packing, the mixture and its
//! updates — runs here, with the GIL released while batches are built. The crate links no ML framework: the
//! controller's reward model is `birdie-reward`'s explicit Gated-SSM network.

mod documents;
mod settings;
mod thread_pool;

use std::sync::Arc;

use birdie_core::pipeline::{validation_batches, DocumentSource};
use birdie_core::{Arm, Controller, PackedBatch, Pipeline, PipelineConfig, PipelineState};
use birdie_data::{SpecialTokens, Tokenizer};
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

use documents::DocumentInput;
use settings::Settings;

create_exception!(_native, BirdieError, PyException, "An error raised by birdie, with the Rust message.");

/// A birdie error as a Python exception.
fn err(e: impl std::fmt::Display) -> PyErr {
    BirdieError::new_err(e.to_string())
}

/// One process's view of a Birdie run: its pipeline (batches of this rank), validation batches and controller.
#[pyclass(module = "birdie._native", unsendable)]
pub struct Session {
    settings: Settings,
    arms: Vec<Arm>,
    names: Vec<String>,
    specials: SpecialTokens,
    tokenizer: Tokenizer,
    source: Arc<dyn DocumentSource>,
    pipeline: Option<Pipeline>,
    validation: Vec<PackedBatch>,
    controller: Option<Controller>,
    /// The process that created the session: its pipeline's threads do not exist in a forked child.
    pid: u32,
    /// Input records passed over while reading files, each naming the record and why.
    skipped: Vec<String>,
}

impl Session {
    /// Refuses use from a forked child, whose copy of the pipeline has no worker threads and would wait forever.
    fn check_process(&self) -> PyResult<()> {
        let now = std::process::id();
        if now != self.pid {
            return Err(err(format!(
                "this birdie.Birdie was created in process {} and is used in process {now}, a fork of it: its data \
                 workers do not exist there. Create the Birdie object inside the worker (birdie.BirdieIterable does), \
                 or use the 'spawn' start method",
                self.pid
            )));
        }
        Ok(())
    }

    fn pipeline(&mut self) -> PyResult<&mut Pipeline> {
        self.pipeline.as_mut().ok_or_else(|| err("this birdie.Birdie was closed"))
    }

    fn start_pipeline(&mut self, resume: Option<PipelineState>) -> PyResult<()> {
        self.pipeline = None; // stops the old workers first
        let config = self.settings.pipeline_config();
        let fresh = resume.is_none();
        let mut p = Pipeline::start(config, self.arms.clone(), self.specials.clone(), self.source.clone(), resume)
            .map_err(err)?;
        if let (true, Some(c)) = (fresh, &self.controller) {
            p.set_mixture(c.mixture()).map_err(err)?;
        }
        self.pipeline = Some(p);
        Ok(())
    }
}

/// A packed batch as a dict of name → (bytes of little-endian int32, shape).
fn batch_dict<'py>(py: Python<'py>, b: &PackedBatch) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    let shape = (b.batch_size, b.seq_len);
    for (name, v) in [
        ("input_ids", &b.input_ids),
        ("label_ids", &b.label_ids),
        ("segment_ids", &b.segment_ids),
        ("attention_mask", &b.attention_mask),
        ("position_ids", &b.position_ids),
    ] {
        let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
        d.set_item(name, (PyBytes::new(py, &bytes), shape))?;
    }
    Ok(d)
}

#[pymethods]
impl Session {
    /// `settings_json`: [`Settings`] as JSON; `tokenizer_json`: a Hugging Face tokenizer.json (None: birdie's bundled
    /// tokenizer); the documents: `train_texts`/`validation_texts`, or `paths` (txt, jsonl, parquet files or
    /// directories), or `shards` (a birdie shard directory), or none of them for the bundled corpus.
    #[new]
    #[pyo3(signature = (settings_json, tokenizer_json=None, train_texts=None, validation_texts=None, paths=None, shards=None))]
    fn new(
        py: Python<'_>,
        settings_json: &str,
        tokenizer_json: Option<Vec<u8>>,
        train_texts: Option<Vec<String>>,
        validation_texts: Option<Vec<String>>,
        paths: Option<Vec<String>>,
        shards: Option<String>,
    ) -> PyResult<Self> {
        let settings = Settings::from_json(settings_json).map_err(err)?;
        settings.validate().map_err(err)?;
        let input = DocumentInput::from_args(train_texts, validation_texts, paths, shards).map_err(err)?;
        py.allow_threads(move || {
            thread_pool::install(move || -> PyResult<Session> {
                let tokenizer = match &tokenizer_json {
                    Some(bytes) => Tokenizer::from_json_bytes(bytes, "the tokenizer given to birdie.Birdie"),
                    None => Tokenizer::bundled(),
                }
                .map_err(err)?;
                let arms = settings.arms().map_err(err)?;
                let names = birdie_core::arm::labels(&arms);
                if let Some((name, need)) =
                    names.iter().zip(&arms).map(|(n, a)| (n, a.min_budget())).find(|(_, need)| *need > settings.seq_len)
                {
                    return Err(err(format!(
                        "sequence_length = {} is shorter than objective {name}'s minimum sample of {need} tokens",
                        settings.seq_len
                    )));
                }
                let mut skipped = Vec::new();
                let (train, validation) = input.load(&tokenizer, &mut skipped).map_err(err)?;
                let specials = tokenizer.specials().clone();
                let config: PipelineConfig = settings.pipeline_config();
                let validation =
                    validation_batches(&arms, &specials, validation.as_ref(), settings.validation_rows, &config)
                        .map_err(err)?;
                let controller = if settings.controller {
                    let kinds: Vec<&str> = arms.iter().map(|a| a.spec.name()).collect();
                    let initial: Vec<f64> = arms.iter().map(|a| a.prob).collect();
                    let model = Box::new(birdie_reward::ExplicitRewardModel::new(
                        settings.reward_model.clone(),
                        kinds.len(),
                        settings.seed,
                    ));
                    let c = Controller::new(
                        settings.controller_settings(),
                        settings.total_steps,
                        &kinds,
                        &initial,
                        settings.seed,
                        model,
                    )
                    .map_err(err)?;
                    Some(c)
                } else {
                    None
                };
                let mut s = Session {
                    settings,
                    arms,
                    names,
                    specials,
                    tokenizer,
                    source: train,
                    pipeline: None,
                    validation,
                    controller,
                    pid: std::process::id(),
                    skipped,
                };
                s.start_pipeline(None)?;
                Ok(s)
            })
        })
    }

    /// The objectives' names (one per arm, made unique by their parameters), in arm order.
    #[getter]
    fn objective_names(&self) -> Vec<String> {
        self.names.clone()
    }

    /// Input records passed over while reading files (`path:line: reason`).
    #[getter]
    fn skipped(&self) -> Vec<String> {
        self.skipped.clone()
    }

    /// The mixture batches are drawn with now.
    fn mixture(&self) -> Vec<f64> {
        match (&self.controller, &self.pipeline) {
            (Some(c), _) => c.mixture().to_vec(),
            (None, Some(p)) => p.state().schedule.weights_for(p.state().consumed).to_vec(),
            (None, None) => birdie_core::pipeline::normalise(&self.arms.iter().map(|a| a.prob).collect::<Vec<_>>()),
        }
    }

    /// Whether `step` (training steps completed) is an evaluation step.
    fn is_eval_step(&self, step: u64) -> bool {
        match &self.controller {
            Some(c) => c.is_eval_step(step),
            None => self.settings.eval_every.is_some_and(|n| n > 0 && step % n == 0),
        }
    }

    /// This rank's next training batch: batch k of the shared stream with k ≡ rank (mod world_size).
    fn next_batch<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        self.check_process()?;
        let (rank, world) = (self.settings.rank as u64, self.settings.world_size as u64);
        let pipeline = self.pipeline()?;
        let batch = py.allow_threads(|| -> Result<PackedBatch, birdie_core::PipelineError> {
            while pipeline.state().consumed % world != rank {
                pipeline.next_batch()?;
            }
            let b = pipeline.next_batch()?;
            // Leave the stream at the next multiple of world_size, so every rank has consumed the same count.
            while pipeline.state().consumed % world != 0 {
                pipeline.next_batch()?;
            }
            Ok(b)
        });
        batch_dict(py, &batch.map_err(err)?)
    }

    /// The validation batch of each objective, as (name, batch).
    fn validation_batches<'py>(&self, py: Python<'py>) -> PyResult<Vec<(String, Bound<'py, PyDict>)>> {
        self.names.iter().zip(&self.validation).map(|(n, b)| Ok((n.clone(), batch_dict(py, b)?))).collect()
    }

    /// Records one evaluation (`losses` in objective order, already averaged over ranks) at `step` and returns the
    /// new mixture, which the pipeline applies `prefetch` batches later. Without a controller only the losses'
    /// count is checked and the mixture stays.
    fn update(&mut self, py: Python<'_>, step: u64, losses: Vec<f64>) -> PyResult<Vec<f64>> {
        self.check_process()?;
        if losses.len() != self.names.len() {
            return Err(err(format!("{} validation losses for {} objectives", losses.len(), self.names.len())));
        }
        let world = self.settings.world_size as u64;
        let Some(c) = self.controller.as_mut() else { return Ok(self.mixture()) };
        let Some(pipeline) = self.pipeline.as_mut() else { return Err(err("this birdie.Birdie was closed")) };
        let trained_on =
            c.last_evaluation_step().map(|from| pipeline.state().schedule.mean_over(from * world, step * world));
        let mixture = py.allow_threads(|| {
            thread_pool::install(|| -> PyResult<Vec<f64>> {
                c.begin_evaluation(step, trained_on);
                let mut report = None;
                for (arm, &l) in losses.iter().enumerate() {
                    report = c.record_validation_loss(arm, l).map_err(err)?;
                }
                report.map(|r| r.mixture).ok_or_else(|| err("no objectives"))
            })
        })?;
        pipeline.set_mixture(&mixture).map_err(err)?;
        Ok(mixture)
    }

    /// Replaces the mixture (every rank applies rank 0's decision).
    fn set_mixture(&mut self, mixture: Vec<f64>) -> PyResult<()> {
        self.check_process()?;
        self.pipeline()?.set_mixture(&mixture).map_err(err)?;
        Ok(())
    }

    /// Everything needed to continue exactly: (pipeline state JSON, controller state JSON or None, reward-model
    /// bytes or None).
    fn state<'py>(&self, py: Python<'py>) -> PyResult<(String, Option<String>, Option<Bound<'py, PyBytes>>)> {
        let p = self.pipeline.as_ref().ok_or_else(|| err("this birdie.Birdie was closed"))?;
        let pipeline = serde_json::to_string(p.state()).map_err(err)?;
        let (controller, model) = match &self.controller {
            Some(c) => {
                let (state, bytes) = c.save();
                (Some(serde_json::to_string(&state).map_err(err)?), Some(PyBytes::new(py, &bytes)))
            }
            None => (None, None),
        };
        Ok((pipeline, controller, model))
    }

    /// Continues from what [`Session::state`] returned.
    #[pyo3(signature = (pipeline, controller=None, reward_model=None))]
    fn load_state(&mut self, pipeline: &str, controller: Option<&str>, reward_model: Option<Vec<u8>>) -> PyResult<()> {
        self.check_process()?;
        let state: PipelineState = serde_json::from_str(pipeline).map_err(err)?;
        match (&mut self.controller, controller, reward_model) {
            (Some(c), Some(cs), Some(bytes)) => {
                c.restore(serde_json::from_str(cs).map_err(err)?, &bytes).map_err(err)?;
            }
            (None, None, _) => {}
            (Some(_), _, _) => return Err(err("the state has no controller state, but this run has a controller")),
            (None, Some(_), _) => return Err(err("the state has a controller state, but this run has no controller")),
        }
        self.start_pipeline(Some(state))
    }

    /// Token ids of `text` with this session's tokenizer.
    fn encode(&self, text: &str) -> PyResult<Vec<u32>> {
        self.tokenizer.encode(text).map_err(err)
    }

    /// Text of `ids`.
    fn decode(&self, ids: Vec<u32>) -> PyResult<String> {
        self.tokenizer.decode(&ids).map_err(err)
    }

    /// birdie's special tokens the given tokenizer lacked and that were added to it.
    #[getter]
    fn added_special_tokens(&self) -> Vec<String> {
        self.tokenizer.added_special_tokens().to_vec()
    }

    /// Size of the tokenizer's vocabulary (special tokens included).
    #[getter]
    fn vocab_size(&self) -> usize {
        self.tokenizer.vocab_size()
    }

    /// Stops the data workers.
    fn close(&mut self) {
        self.pipeline = None;
    }
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Session>()?;
    m.add("BirdieError", m.py().get_type::<BirdieError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
