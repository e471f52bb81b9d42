//! The experiment file.
//!
//! ```toml
//! name = "smoke"
//! base = "tiny-hawk-birdie"        # a preset under configs/ or a run config file; every run starts from it
//! reference = "ntp"                # the variant every other is compared with (paired by seed)
//! seeds = [0, 1, 2]
//! lrs = [1e-3, 3e-3]               # more than one: a sweep on the first `sweep_seeds` seeds picks each variant's lr
//! sweep_seeds = 1
//!
//! [set]                            # overrides of the base config, as in a run config (deep-merged)
//! total_steps = 20
//! data = { seq_len = 128, batch_size = 4 }
//!
//! [[variants]]
//! name = "birdie"
//! procedure = "birdie"             # birdie | ntp | ul2 | … (a run config's procedure.name)
//! arch = "hawk"
//! bidirectional = true
//!
//! [[evals]]
//! task = "phonebook"               # phonebook | mqar | dictqa | infill | ppl | selective-copying
//! entries = [4]
//! finetune = 100
//! ```

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use birdie_run::{ConfigError, TrainConfig};
use serde::{Deserialize, Serialize};

/// Errors of an experiment file, naming the file and key.
#[derive(Debug, thiserror::Error)]
pub enum ExperimentError {
    #[error("reading {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path}: {source}")]
    Parse { path: PathBuf, source: toml::de::Error },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

/// One procedure variant: a row of the comparison.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Variant {
    /// Label in run names and the report (letters, digits, `-`, `_`).
    pub name: String,
    /// The run config's `procedure.name`.
    pub procedure: String,
    /// `model.arch`: hawk, gated-ssm or transformer.
    pub arch: String,
    #[serde(default)]
    pub bidirectional: bool,
}

/// One evaluation every run gets (options as the `birdie eval` flags of the task; defaults where absent).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "task", rename_all = "kebab-case", deny_unknown_fields)]
pub enum EvalSpec {
    Phonebook {
        #[serde(default = "d_entries")]
        entries: Vec<usize>,
        #[serde(default = "d_queries")]
        queries: Vec<usize>,
        #[serde(default = "d_n")]
        n: usize,
        #[serde(default)]
        format: Option<String>,
        /// Digits per number (default the paper's 10).
        #[serde(default = "d_digits")]
        digits: usize,
        /// Fine-tuning steps on fresh books before scoring (the same for every run).
        #[serde(default)]
        finetune: u64,
        #[serde(default)]
        finetune_lr: Option<f64>,
        /// Phone books per fine-tuning step (default 8).
        #[serde(default)]
        finetune_batch: Option<usize>,
    },
    Mqar {
        /// (sequence length, key-value pairs) settings.
        #[serde(default = "d_mqar")]
        settings: Vec<(usize, usize)>,
        #[serde(default = "d_n_large")]
        n: usize,
    },
    Dictqa {
        #[serde(default = "d_dict_entries")]
        entries: Vec<usize>,
        #[serde(default = "d_n")]
        n: usize,
    },
    Infill {
        #[serde(default = "d_n_large")]
        n: usize,
    },
    Ppl {
        #[serde(default = "d_ppl_tokens")]
        max_tokens: usize,
    },
    SelectiveCopying {
        #[serde(default = "d_spans")]
        spans: Vec<usize>,
        #[serde(default = "d_n")]
        n: usize,
    },
}

fn d_entries() -> Vec<usize> {
    vec![20]
}
fn d_queries() -> Vec<usize> {
    vec![1]
}
fn d_digits() -> usize {
    birdie_eval::phonebook::PAPER_DIGITS
}
fn d_n() -> usize {
    16
}
fn d_n_large() -> usize {
    64
}
fn d_mqar() -> Vec<(usize, usize)> {
    vec![(64, 4)]
}
fn d_dict_entries() -> Vec<usize> {
    vec![5]
}
fn d_ppl_tokens() -> usize {
    16_384
}
fn d_spans() -> Vec<usize> {
    vec![1, 2]
}

/// The task names an experiment may list.
pub const TASKS: [&str; 6] = ["phonebook", "mqar", "dictqa", "infill", "ppl", "selective-copying"];

impl EvalSpec {
    /// The task name (`birdie eval TASK`; the report file RUN/eval/TASK.json).
    pub fn task(&self) -> &'static str {
        match self {
            EvalSpec::Phonebook { .. } => "phonebook",
            EvalSpec::Mqar { .. } => "mqar",
            EvalSpec::Dictqa { .. } => "dictqa",
            EvalSpec::Infill { .. } => "infill",
            EvalSpec::Ppl { .. } => "ppl",
            EvalSpec::SelectiveCopying { .. } => "selective-copying",
        }
    }

    /// Whether the task measures retrieval that Birdie does not train on directly (selective copying is one of
    /// Birdie's objectives, perplexity is not retrieval).
    pub fn is_transfer(&self) -> bool {
        !matches!(self, EvalSpec::SelectiveCopying { .. } | EvalSpec::Ppl { .. })
    }
}

/// The file as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExperimentFile {
    name: String,
    base: String,
    reference: String,
    seeds: Vec<u64>,
    lrs: Vec<f64>,
    #[serde(default = "d_sweep_seeds")]
    sweep_seeds: usize,
    #[serde(default)]
    set: toml::Table,
    variants: Vec<Variant>,
    evals: Vec<toml::Table>,
}

fn d_sweep_seeds() -> usize {
    1
}

/// A checked experiment.
#[derive(Debug, Clone)]
pub struct Experiment {
    pub name: String,
    /// The base run config with `[set]` applied (before the variant, seed and lr).
    pub base: toml::Table,
    pub reference: String,
    pub seeds: Vec<u64>,
    /// Learning rates (at least one); with more than one, a sweep on the first `sweep_seeds` seeds picks each
    /// variant's.
    pub lrs: Vec<f64>,
    pub sweep_seeds: usize,
    pub variants: Vec<Variant>,
    pub evals: Vec<EvalSpec>,
    /// The file's text (copied into the experiment directory).
    pub text: String,
}

const PROCEDURES: &str = "birdie, birdie-causal, ul2, ul2-decoder, ntp, fixed-ratio or custom";
const ARCHS: [&str; 3] = ["hawk", "gated-ssm", "transformer"];

impl Experiment {
    /// Reads and checks an experiment file: every run config it defines is built and validated here, before any
    /// training.
    pub fn load(path: &Path) -> Result<Self, ExperimentError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ExperimentError::Read { path: path.to_path_buf(), source })?;
        Self::parse(&text, path)
    }

    /// Parses `text` (read from `path`, named in errors).
    pub fn parse(text: &str, path: &Path) -> Result<Self, ExperimentError> {
        let bad = |message: String| ExperimentError::Invalid { path: path.to_path_buf(), message };
        let f: ExperimentFile =
            toml::from_str(text).map_err(|source| ExperimentError::Parse { path: path.to_path_buf(), source })?;
        let name_ok = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !name_ok(&f.name) {
            return Err(bad(format!("name = {:?}: expected letters, digits, '-' or '_'", f.name)));
        }
        if f.seeds.is_empty() {
            return Err(bad("seeds = []: expected at least one seed".into()));
        }
        if f.seeds.iter().collect::<BTreeSet<_>>().len() != f.seeds.len() {
            return Err(bad(format!("seeds = {:?}: a seed is listed twice", f.seeds)));
        }
        if f.lrs.is_empty() {
            return Err(bad("lrs = []: expected at least one learning rate".into()));
        }
        if let Some(lr) = f.lrs.iter().find(|lr| !(lr.is_finite() && **lr > 0.0)) {
            return Err(bad(format!("lrs: {lr} is not a positive learning rate")));
        }
        if f.lrs.iter().map(|x| x.to_bits()).collect::<BTreeSet<_>>().len() != f.lrs.len() {
            return Err(bad(format!("lrs = {:?}: a learning rate is listed twice", f.lrs)));
        }
        if f.sweep_seeds == 0 || f.sweep_seeds > f.seeds.len() {
            return Err(bad(format!(
                "sweep_seeds = {}: expected 1 to {} (the seeds listed)",
                f.sweep_seeds,
                f.seeds.len()
            )));
        }
        if f.variants.is_empty() {
            return Err(bad("variants: expected at least one [[variants]] entry".into()));
        }
        let mut names = BTreeSet::new();
        for (i, v) in f.variants.iter().enumerate() {
            if !name_ok(&v.name) {
                return Err(bad(format!("variants[{i}].name = {:?}: expected letters, digits, '-' or '_'", v.name)));
            }
            if !names.insert(v.name.clone()) {
                return Err(bad(format!("variants[{i}].name = {:?}: duplicate run name (names must differ)", v.name)));
            }
            let procedure: Result<birdie_run::Procedure, _> = toml::Value::String(v.procedure.clone()).try_into();
            if procedure.is_err() {
                return Err(bad(format!("variants[{i}].procedure = {:?}: expected {PROCEDURES}", v.procedure)));
            }
            if !ARCHS.contains(&v.arch.as_str()) {
                return Err(bad(format!("variants[{i}].arch = {:?}: expected {}", v.arch, ARCHS.join(", "))));
            }
        }
        if !names.contains(&f.reference) {
            return Err(bad(format!(
                "reference = {:?}: not a variant name (variants: {})",
                f.reference,
                names.iter().cloned().collect::<Vec<_>>().join(", ")
            )));
        }
        let mut evals = Vec::new();
        let mut tasks = BTreeSet::new();
        for (i, table) in f.evals.iter().enumerate() {
            let task = table.get("task").and_then(|t| t.as_str()).unwrap_or("");
            if !TASKS.contains(&task) {
                return Err(bad(format!("evals[{i}].task = {task:?}: expected one of {}", TASKS.join(", "))));
            }
            let spec: EvalSpec =
                toml::Value::Table(table.clone()).try_into().map_err(|e| bad(format!("evals[{i}] ({task}): {e}")))?;
            if let EvalSpec::Phonebook { format: Some(format), .. } = &spec {
                format
                    .parse::<birdie_eval::phonebook::PhonebookFormat>()
                    .map_err(|e| bad(format!("evals[{i}].format = {format:?}: {e}")))?;
            }
            if let EvalSpec::Phonebook { finetune_batch: Some(0), .. } = &spec {
                return Err(bad(format!("evals[{i}].finetune_batch = 0: expected at least one book per step")));
            }
            if !tasks.insert(task.to_string()) {
                return Err(bad(format!("evals[{i}].task = {task:?}: listed twice")));
            }
            evals.push(spec);
        }
        let base_config = TrainConfig::load(&f.base).map_err(|e| bad(format!("base = {:?}: {e}", f.base)))?;
        let mut base: toml::Table =
            toml::from_str(&base_config.to_toml()).map_err(|e| bad(format!("base = {:?}: {e}", f.base)))?;
        let mut set = f.set.clone();
        resolve_data_paths(&mut set, path)?;
        merge(&mut base, &set);
        let exp = Experiment {
            name: f.name,
            base,
            reference: f.reference,
            seeds: f.seeds,
            lrs: f.lrs,
            sweep_seeds: f.sweep_seeds,
            variants: f.variants,
            evals,
            text: text.to_string(),
        };
        // Every run's config must be valid (keys in [set], values the base and [set] give) before anything trains.
        for (i, v) in exp.variants.iter().enumerate() {
            exp.config(i, exp.seeds[0], exp.lrs[0])
                .map_err(|e| bad(format!("base = {:?} with [set], for variants[{i}] ({}): {e}", f.base, v.name)))?;
        }
        Ok(exp)
    }

    /// The run config of variant `v` at `seed` and learning rate `lr`.
    pub fn config(&self, v: usize, seed: u64, lr: f64) -> Result<TrainConfig, ConfigError> {
        let variant = &self.variants[v];
        let mut table = self.base.clone();
        let mut set = toml::Table::new();
        set.insert("seed".into(), toml::Value::Integer(seed as i64));
        let mut procedure = toml::Table::new();
        procedure.insert("name".into(), toml::Value::String(variant.procedure.clone()));
        set.insert("procedure".into(), toml::Value::Table(procedure));
        let mut model = toml::Table::new();
        model.insert("arch".into(), toml::Value::String(variant.arch.clone()));
        model.insert("bidirectional".into(), toml::Value::Boolean(variant.bidirectional));
        set.insert("model".into(), toml::Value::Table(model));
        let mut optimizer = toml::Table::new();
        optimizer.insert("lr".into(), toml::Value::Float(lr));
        set.insert("optimizer".into(), toml::Value::Table(optimizer));
        merge(&mut table, &set);
        let text = toml::to_string(&table).expect("a TOML table serialises");
        TrainConfig::from_toml(&text, Path::new("experiment"))
    }
}

/// Makes the `data.tokenizer` and `data.shards` paths of `[set]` absolute, relative to the experiment file's
/// directory (so an experiment can ship its own tokenizer next to the file and be run from anywhere); `"bundled"`
/// stays as it is.
fn resolve_data_paths(set: &mut toml::Table, file: &Path) -> Result<(), ExperimentError> {
    let Some(toml::Value::Table(data)) = set.get_mut("data") else { return Ok(()) };
    let dir = file.parent().unwrap_or(Path::new(""));
    for key in ["tokenizer", "shards"] {
        let Some(value) = data.get_mut(key) else { continue };
        let Some(text) = value.as_str() else { continue };
        if text == "bundled" {
            continue;
        }
        let joined = std::path::absolute(dir.join(text)).map_err(|e| ExperimentError::Invalid {
            path: file.to_path_buf(),
            message: format!("data.{key} = {text:?}: cannot resolve against {}: {e}", dir.display()),
        })?;
        *value = toml::Value::String(joined.to_string_lossy().into_owned());
    }
    Ok(())
}

/// Deep-merges `over` into `base` (tables merge key by key; any other value replaces).
pub fn merge(base: &mut toml::Table, over: &toml::Table) {
    for (k, v) in over {
        match (base.get_mut(k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            _ => {
                base.insert(k.clone(), v.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
name = "t"
base = "tiny-hawk-birdie"
reference = "ntp"
seeds = [0, 1]
lrs = [1e-3, 3e-3]
[set]
total_steps = 12
data = { seq_len = 128, batch_size = 2 }
[[variants]]
name = "birdie"
procedure = "birdie"
arch = "hawk"
bidirectional = true
[[variants]]
name = "ntp"
procedure = "ntp"
arch = "hawk"
[[evals]]
task = "ppl"
max_tokens = 512
[[evals]]
task = "phonebook"
entries = [4]
finetune = 10
"#;

    fn parse(text: &str) -> Result<Experiment, ExperimentError> {
        Experiment::parse(text, Path::new("exp.toml"))
    }

    #[test]
    fn a_good_file_defines_its_run_configs() {
        let e = parse(GOOD).unwrap();
        let c = e.config(0, 1, 3e-3).unwrap();
        assert_eq!((c.seed, c.total_steps, c.data.seq_len, c.data.batch_size), (1, 12, 128, 2));
        assert_eq!((c.optimizer.lr, c.model.arch.as_str(), c.model.bidirectional), (3e-3, "hawk", true));
        let c = e.config(1, 0, 1e-3).unwrap();
        assert!(!c.model.bidirectional && !c.procedure.name.uses_controller());
        assert_eq!(
            e.evals[1],
            EvalSpec::Phonebook {
                entries: vec![4],
                queries: vec![1],
                n: 16,
                format: None,
                digits: 10,
                finetune: 10,
                finetune_lr: None,
                finetune_batch: None
            }
        );
    }

    #[test]
    fn data_paths_in_set_are_relative_to_the_experiment_file() {
        let text = GOOD.replace(
            "data = { seq_len = 128, batch_size = 2 }",
            "data = { seq_len = 128, batch_size = 2, tokenizer = \"tok.json\" }",
        );
        let e = Experiment::parse(&text, Path::new("some/dir/exp.toml")).unwrap();
        let c = e.config(0, 0, 1e-3).unwrap();
        assert_eq!(Path::new(&c.data.tokenizer), std::path::absolute("some/dir/tok.json").unwrap());
        assert_eq!(c.data.shards, "bundled");
    }

    /// Bad files are refused before any training, naming the key.
    #[test]
    fn bad_experiment_files_are_refused_naming_the_key() {
        let cases = [
            (GOOD.replace("procedure = \"ntp\"", "procedure = \"nope\""), "variants[1].procedure"),
            (GOOD.replace("name = \"ntp\"", "name = \"birdie\""), "duplicate run name"),
            (GOOD.replace("task = \"ppl\"", "task = \"squad\""), "evals[0].task = \"squad\""),
            (GOOD.replace("lrs = [1e-3, 3e-3]", "lrs = [-1.0]"), "lrs"),
            (GOOD.replace("lrs = [1e-3, 3e-3]", "lrs = []"), "lrs = []"),
            (GOOD.replace("seeds = [0, 1]", "seeds = []"), "seeds"),
            (GOOD.replace("reference = \"ntp\"", "reference = \"x\""), "reference = \"x\""),
            (GOOD.replace("arch = \"hawk\"\nbidirectional", "arch = \"mamba\"\nbidirectional"), "variants[0].arch"),
            (GOOD.replace("max_tokens = 512", "max_tokenz = 512"), "evals[0] (ppl)"),
            (GOOD.replace("total_steps = 12", "total_stepz = 12"), "total_stepz"),
            (GOOD.replace("finetune = 10", "finetune = 10\nfinetune_batch = 0"), "evals[1].finetune_batch = 0"),
        ];
        for (text, want) in cases {
            let err = parse(&text).unwrap_err().to_string();
            assert!(err.contains(want) && err.contains("exp.toml"), "{want}: {err}");
        }
    }
}
