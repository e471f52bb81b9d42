//! Experiments: a grid of training runs — procedure variants × seeds × learning rates — trained one after another
//! with the same data order and token budget, each evaluated with one list of tasks, and a report that compares the
//! variants with confidence intervals over seeds (docs/experiments.md).
//!
//! - [`file`]: the experiment file (TOML), checked before any training, errors naming the key.
//! - [`grid`]: the runs it defines, their directories, and the learning rate chosen per variant.
//! - [`runner`]: trains and evaluates what is not done yet (re-running continues).
//! - [`stats`] and [`report`]: `results.json`, `report.md` and plots.

pub mod file;
pub mod grid;
pub mod report;
pub mod runner;
pub mod stats;

pub use file::{EvalSpec, Experiment, ExperimentError, Variant};
pub use grid::RunSpec;
