//! Command-line definitions (clap derive).

use std::path::PathBuf;

use birdie_models::{DeviceChoice, DeviceError, Precision};
use clap::{Args, Parser, Subcommand};

use crate::choices::{
    ArchChoice, FormatChoice, PhonebookFormatChoice, ProcessChoice, PromptStyleChoice, SizePreset, TxtDocumentsChoice,
};

/// `--device`.
#[derive(Debug, Clone, Copy, Args)]
pub struct DeviceArg {
    /// cpu (the default), cuda, cuda:N or wgpu; GPU devices need birdie built with `--features cuda` or
    /// `--features wgpu` (README, "Training on a GPU").
    #[arg(long = "device", value_name = "DEVICE")]
    pub choice: Option<DeviceChoice>,
}

impl DeviceArg {
    /// The chosen device (the CPU without `--device`), or why this binary cannot use it.
    pub fn device(&self) -> Result<burn::prelude::Device, DeviceError> {
        self.choice.unwrap_or_default().device()
    }
}

const AFTER_HELP: &str = "\
Exit codes: 0 success, 2 error (bad input, bad configuration, I/O failure).
Logging: -v / -vv, or BIRDIE_LOG=debug.";

/// birdie: pre-training state space models with the Birdie procedure.
#[derive(Debug, Parser)]
#[command(name = "birdie", version, about, after_help = AFTER_HELP, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Threads for the compute kernels and, unless the config sets `data.workers`, the data pipeline's workers
    /// (default: all cores). Never changes batches or, on CPU, losses.
    #[arg(long, global = true)]
    pub threads: Option<usize>,
    /// More log output (-v info, -vv debug).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Errors only.
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Corpora and token shards.
    #[command(subcommand)]
    Data(DataCommand),
    /// Train, inspect and use tokenizers.
    #[command(subcommand)]
    Tokenizer(TokenizerCommand),
    /// Show what one objective makes of a text: decoded input, label and the packed row.
    Preview(PreviewArgs),
    /// Train a model (default: the tiny Hawk with the Birdie procedure on the bundled corpus).
    Train(TrainArgs),
    /// Generate text from a checkpoint (the prompt is the bidirectional prefix).
    Generate(GenerateArgs),
    /// Re-render a run's plots (training loss, validation loss per arm, mixture) from its metrics.jsonl.
    Plot(PlotArgs),
    /// Training run configurations.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Model configurations.
    #[command(subcommand)]
    Model(ModelCommand),
    /// The reward-driven mixture controller.
    #[command(subcommand)]
    Controller(ControllerCommand),
    /// Benchmarks.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Retrieval evaluations (phone book, MQAR, selective copying, story infilling, dictionary QA, perplexity).
    #[command(subcommand)]
    Eval(EvalCommand),
    /// Experiments: grids of runs (procedures × seeds × learning rates), evaluated and compared.
    #[command(subcommand)]
    Experiment(ExperimentCommand),
}

#[derive(Debug, Subcommand)]
pub enum ExperimentCommand {
    /// Train and evaluate every run of an experiment file that is not done yet (running it again continues).
    Run(ExperimentRunArgs),
    /// Write report.md, results.json and plots of an experiment directory.
    Report(ExperimentReportArgs),
}

#[derive(Debug, Args)]
pub struct ExperimentRunArgs {
    /// The experiment file (TOML; see docs/experiments.md).
    pub file: PathBuf,
    /// Experiment directory (default: DIR_OF_FILE/NAME, e.g. experiments/smoke for experiments/smoke.toml).
    #[arg(long)]
    pub out: Option<PathBuf>,
    // --device
    #[command(flatten)]
    pub device: DeviceArg,
}

#[derive(Debug, Args)]
pub struct ExperimentReportArgs {
    /// The experiment directory (holds experiment.toml and runs/).
    pub dir: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum EvalCommand {
    /// Phone-book lookup: digit accuracy and exact match per book size and number of queries.
    Phonebook(PhonebookArgs),
    /// Multi-query associative recall on a checkpoint, or `--train` a fresh model on it (Zoology protocol).
    Mqar(MqarArgs),
    /// Selective copying on held-out text in the pre-training format: exact match and token accuracy per span count.
    SelectiveCopying(SelectiveCopyingArgs),
    /// Story infilling: pick the blanked paragraph among 4 by length-normalised likelihood (chance 25%).
    Infill(InfillArgs),
    /// Dictionary-lookup QA over WordNet glosses: exact match, F1, answer contains label.
    Dictqa(DictqaArgs),
    /// Per-token loss and perplexity on the held-out split.
    Ppl(PplArgs),
    /// The quick suite: every task at a small size, one table (results in RUN/eval/).
    All(EvalCommon),
    /// Results of several runs side by side (RUN/eval/*.json or report files), with a bar chart.
    Compare(CompareArgs),
}

#[derive(Debug, Clone, Args)]
pub struct EvalCommon {
    /// A run directory (its latest checkpoint) or one checkpoint directory.
    #[arg(long)]
    pub checkpoint: PathBuf,
    /// Seed of the generated items (same seed, same items and, on CPU, the same numbers).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Also write the report here (it always goes to RUN/eval/TASK.json).
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Where the prompt goes: `prefix` (bidirectional prefix; default for runs with prefix-LM objectives) or
    /// `causal` (teacher-forced after start-of-generation; default for next-token runs).
    #[arg(long, value_enum)]
    pub prompt_style: Option<PromptStyleChoice>,
    // --device
    #[command(flatten)]
    pub device: DeviceArg,
}

#[derive(Debug, Args)]
pub struct PhonebookArgs {
    #[command(flatten)]
    pub common: EvalCommon,
    /// Book sizes, comma separated.
    #[arg(long, value_delimiter = ',', default_values_t = [20usize, 50])]
    pub entries: Vec<usize>,
    /// Numbers asked per question, comma separated (multi format).
    #[arg(long, value_delimiter = ',', default_values_t = [1usize, 4])]
    pub queries: Vec<usize>,
    /// Books of about this many tokens instead of --entries.
    #[arg(long)]
    pub book_tokens: Option<usize>,
    /// Questions per setting.
    #[arg(long, default_value_t = 16)]
    pub n: usize,
    /// `multi` (the paper's: question, book, question; several numbers) or `single` (book, two shots, `Name:`).
    #[arg(long, value_enum, default_value_t = PhonebookFormatChoice::Multi)]
    pub format: PhonebookFormatChoice,
    /// Repeat the book before the question ("just read twice").
    #[arg(long)]
    pub jrt: bool,
    /// Fine-tune a copy of the model on fresh phone books for this many steps first.
    #[arg(long, default_value_t = 0)]
    pub finetune: u64,
    /// Peak learning rate of the fine-tuning (warmup 10%, cosine to 10%).
    #[arg(long, default_value_t = 3e-4)]
    pub finetune_lr: f64,
    /// Digits per phone number (the paper's 10; fewer for small models).
    #[arg(long, default_value_t = birdie_eval::phonebook::PAPER_DIGITS)]
    pub digits: usize,
    /// Phone books per fine-tuning step.
    #[arg(long, default_value_t = 8)]
    pub finetune_batch: usize,
}

#[derive(Debug, Args)]
pub struct MqarArgs {
    /// The checkpoint to evaluate (omit with --train).
    #[arg(long, required_unless_present = "train")]
    pub checkpoint: Option<PathBuf>,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Sequence lengths, comma separated (paired with --kv-pairs).
    #[arg(long, value_delimiter = ',', default_values_t = [64usize, 128, 256])]
    pub seq_len: Vec<usize>,
    /// Key-value pairs per sequence, comma separated (paired with --seq-len).
    #[arg(long, value_delimiter = ',', default_values_t = [4usize, 8, 16])]
    pub kv_pairs: Vec<usize>,
    /// Test sequences per setting.
    #[arg(long, default_value_t = 100)]
    pub n: usize,
    /// Train a fresh model on MQAR, then evaluate it.
    #[arg(long)]
    pub train: bool,
    /// --train: the architecture.
    #[arg(long, value_enum, default_value_t = ArchChoice::Transformer)]
    pub arch: ArchChoice,
    #[arg(long)]
    pub bidirectional: bool,
    #[arg(long, default_value_t = 64)]
    pub d_model: usize,
    #[arg(long, default_value_t = 2)]
    pub layers: usize,
    /// --train: attention heads (transformer).
    #[arg(long)]
    pub heads: Option<usize>,
    /// --train: vocabulary size (keys from the first half, values from the second).
    #[arg(long, default_value_t = 256)]
    pub vocab: usize,
    #[arg(long, default_value_t = 2000)]
    pub steps: u64,
    #[arg(long, default_value_t = 3e-3)]
    pub lr: f64,
    #[arg(long, default_value_t = 32)]
    pub batch: usize,
    // --device
    #[command(flatten)]
    pub device: DeviceArg,
}

#[derive(Debug, Args)]
pub struct SelectiveCopyingArgs {
    #[command(flatten)]
    pub common: EvalCommon,
    /// Numbers of spans, comma separated.
    #[arg(long, value_delimiter = ',', default_values_t = [1usize, 2, 4])]
    pub spans: Vec<usize>,
    #[arg(long, default_value_t = 16)]
    pub n: usize,
    /// Tokens per sample (default: the run's sequence length).
    #[arg(long)]
    pub budget: Option<usize>,
    /// Repeat the prompt ("just read twice").
    #[arg(long)]
    pub jrt: bool,
}

#[derive(Debug, Args)]
pub struct InfillArgs {
    #[command(flatten)]
    pub common: EvalCommon,
    #[arg(long, default_value_t = 60)]
    pub n: usize,
}

#[derive(Debug, Args)]
pub struct DictqaArgs {
    #[command(flatten)]
    pub common: EvalCommon,
    /// Dictionary entries per context, comma separated.
    #[arg(long, value_delimiter = ',', default_values_t = [5usize, 20])]
    pub entries: Vec<usize>,
    #[arg(long, default_value_t = 16)]
    pub n: usize,
    /// Repeat the dictionary before the question ("just read twice").
    #[arg(long)]
    pub jrt: bool,
}

#[derive(Debug, Args)]
pub struct PplArgs {
    #[command(flatten)]
    pub common: EvalCommon,
    /// Most tokens scored, shared between the held-out sources (0 = all).
    #[arg(long, default_value_t = 32768)]
    pub max_tokens: usize,
    /// Tokens per window (default: the run's sequence length).
    #[arg(long)]
    pub window: Option<usize>,
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Run directories (their eval/*.json) or report files.
    #[arg(required = true)]
    pub runs: Vec<PathBuf>,
    /// Directory for eval-compare.svg / .png.
    #[arg(long, default_value = ".")]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct TrainArgs {
    /// A TOML file or a preset name (see `birdie config show --help`).
    #[arg(long, default_value = birdie_run::DEFAULT_PRESET)]
    pub config: String,
    /// Run directory (default: runs/<config name>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// The absolute step at which this call stops (schedules always come from the config's total_steps).
    #[arg(long)]
    pub steps: Option<u64>,
    /// Overrides the config's seed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Continue from the latest checkpoint under --out, with the run's own config.toml.
    #[arg(long)]
    pub resume: bool,
    // --device
    #[command(flatten)]
    pub device: DeviceArg,
    /// f32 or bf16 (mixed: bf16 activations and matrix products over f32 master weights, f32 scan state and loss;
    /// cpu and cuda); overrides the config's `[run] precision`. A run may resume in the other precision.
    #[arg(long, value_name = "PRECISION")]
    pub precision: Option<Precision>,
}

#[derive(Debug, Args)]
pub struct PlotArgs {
    /// The run directory.
    pub run_dir: PathBuf,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// A run directory (its latest checkpoint) or one checkpoint directory.
    #[arg(long)]
    pub checkpoint: PathBuf,
    #[arg(long)]
    pub prompt: String,
    #[arg(long, default_value_t = 64)]
    pub max_tokens: usize,
    /// 0 = greedy.
    #[arg(long, default_value_t = 0.0)]
    pub temperature: f64,
    /// Sample from the k most likely tokens (0 = all).
    #[arg(long, default_value_t = 0)]
    pub top_k: usize,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    // --device
    #[command(flatten)]
    pub device: DeviceArg,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print a run's fully resolved configuration (every default, the model's sizes, the evaluation schedule).
    Show(ConfigShowArgs),
}

#[derive(Debug, Args)]
pub struct ConfigShowArgs {
    /// A TOML file or a preset name (tiny-hawk-birdie, tiny-hawk-birdie-causal, tiny-hawk-ntp, tiny-gated-ssm-birdie,
    /// tiny-transformer-birdie, small-hawk-birdie, small-hawk-ntp, small-gated-ssm-birdie).
    #[arg(long, default_value = birdie_run::DEFAULT_PRESET)]
    pub config: String,
}

#[derive(Debug, Subcommand)]
pub enum ControllerCommand {
    /// Run the controller against a synthetic training process and compare it with fixed mixtures.
    Simulate(SimulateArgs),
}

#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// Evaluations (intervals of the synthetic process).
    #[arg(long, default_value_t = 40)]
    pub evals: usize,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Synthetic process: birdie (the controller issue's, over the birdie preset's first 15 arms) or one-best
    /// (one arm helps every arm, a tenth of the noise).
    #[arg(long, value_enum, default_value_t = ProcessChoice::Birdie)]
    pub process: ProcessChoice,
    /// A TOML file with [controller] and [reward_model] tables (defaults otherwise).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Weight arms by objective kind when scoring candidates, as training does (simulations weight every arm
    /// alike, like their total-loss metric).
    #[arg(long)]
    pub class_normalisation: bool,
    /// Share of each interval still trained on the previous mixture (the trainer's prefetch over the steps
    /// between evaluations; 0 applies every decision at once).
    #[arg(long, default_value_t = birdie_core::controller::simulator::DEFAULT_DELAY)]
    pub delay: f64,
    /// Time one update (reward-model training + scoring) with 15 arms and 40 history rows instead.
    #[arg(long)]
    pub bench: bool,
    /// Print only the summary line.
    #[arg(long)]
    pub brief: bool,
}

#[derive(Debug, Subcommand)]
pub enum ModelCommand {
    /// Print a model's resolved configuration (TOML) and its parameter count.
    Info(ModelInfoArgs),
}

#[derive(Debug, Args)]
pub struct ModelInfoArgs {
    /// A TOML file with a [model] table (or bare model keys); overrides --arch/--preset/--bidirectional.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Architecture.
    #[arg(long, value_enum, default_value_t = ArchChoice::Hawk)]
    pub arch: ArchChoice,
    /// Size preset: toy, tiny, small, base or paper.
    #[arg(long, value_parser = SizePreset::parse, default_value = "tiny")]
    pub preset: SizePreset,
    /// The bidirectional-prefix variant (prefix-LM attention for the Transformer).
    #[arg(long)]
    pub bidirectional: bool,
    /// Vocabulary size (default: the bundled tokenizer's, or --tokenizer's).
    #[arg(long)]
    pub vocab: Option<usize>,
    #[arg(long)]
    pub tokenizer: Option<PathBuf>,
    /// Longest row (the Transformer's context).
    #[arg(long, default_value_t = 2048)]
    pub seq: usize,
}

#[derive(Debug, Args)]
pub struct PreviewArgs {
    /// Objective registry name: next_token_prediction, prefix_language_modeling, infilling, copying, deshuffling,
    /// autoencoding, autoencoding_with_deshuffling, selective_copying (hyphens accepted).
    #[arg(long)]
    pub objective: String,
    /// Objective parameter, e.g. --set corruption_rate=0.5 (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Text to transform (default: the first chapter of Moby-Dick from the bundled corpus).
    #[arg(long, conflicts_with = "shard")]
    pub text: Option<String>,
    /// Take the first train document of this shard directory instead.
    #[arg(long)]
    pub shard: Option<PathBuf>,
    /// Token budget of the sample (input + label).
    #[arg(long, default_value_t = 256)]
    pub budget: usize,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Tokenizer file; default: the bundled birdie tokenizer.
    #[arg(long)]
    pub tokenizer: Option<PathBuf>,
    /// Print every packed position (default: the first 48).
    #[arg(long)]
    pub all: bool,
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Throughput of the data pipeline: packed tokens/s, samples/s, fill rate, per-arm shares.
    Pipeline(BenchPipelineArgs),
    /// The fused scan, forward + backward, against the memory bandwidth of a triad measured in the same run.
    Scan(BenchScanArgs),
    /// One training step (forward + backward + AdamW): median time, tokens/s, ratio to the GEMM floor.
    Step(BenchStepArgs),
}

#[derive(Debug, Args)]
pub struct BenchStepArgs {
    /// Size preset: toy, tiny, small, base or paper (as `model info --preset`; `--model` is an alias).
    #[arg(long, alias = "model", value_parser = SizePreset::parse, default_value = "toy")]
    pub preset: SizePreset,
    /// Architecture (ignored for the toy preset).
    #[arg(long, value_enum, default_value_t = ArchChoice::Hawk)]
    pub arch: ArchChoice,
    /// The bidirectional-prefix variant (prefix-LM attention for the Transformer).
    #[arg(long)]
    pub bidirectional: bool,
    #[arg(long, default_value_t = 8)]
    pub batch: usize,
    #[arg(long, default_value_t = 256)]
    pub seq: usize,
    /// Timed steps (after 2 warm-up steps); the median is reported.
    #[arg(long, default_value_t = 10)]
    pub steps: usize,
    // --device
    #[command(flatten)]
    pub device: DeviceArg,
    /// f32 or bf16 (mixed precision, as `train --precision`); the GEMM floor is measured in the same dtype.
    #[arg(long, value_name = "PRECISION", default_value_t = Precision::F32)]
    pub precision: Precision,
}

#[derive(Debug, Args)]
pub struct BenchScanArgs {
    #[arg(long, default_value_t = 8)]
    pub batch: usize,
    #[arg(long, default_value_t = 2048)]
    pub seq: usize,
    #[arg(long, default_value_t = 1024)]
    pub width: usize,
    /// Timed repetitions (the median is reported).
    #[arg(long, default_value_t = 10)]
    pub reps: usize,
    // --device
    #[command(flatten)]
    pub device: DeviceArg,
}

/// A data pipeline over a shard directory's train split: objectives, data, batch shape and seed.
#[derive(Debug, Args)]
pub struct PipelineArgs {
    /// Objective mixture: a preset name (birdie, ul2, ul2-decoder, ntp, fixed-ratio) or a TOML file of [[arms]]
    /// (`--config` is an alias).
    #[arg(long, alias = "config", default_value = "birdie")]
    pub objectives: String,
    /// Shard directory (default: the bundled corpus, prepared into the cache on first use).
    #[arg(long)]
    pub shards: Option<PathBuf>,
    #[arg(long, default_value_t = 2048)]
    pub seq: usize,
    #[arg(long, default_value_t = 8)]
    pub batch: usize,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

#[derive(Debug, Args)]
pub struct BenchPipelineArgs {
    #[command(flatten)]
    pub pipeline: PipelineArgs,
    /// Measurement time after a short warm-up.
    #[arg(long, default_value_t = 10.0)]
    pub seconds: f64,
}

#[derive(Debug, Subcommand)]
pub enum DataCommand {
    /// Tokenize a corpus into memory-mapped token shards (default: the bundled corpus).
    Prepare(PrepareArgs),
    /// Token and document counts per split, and vocabulary coverage, of a shard directory.
    Stats(StatsArgs),
    /// Print the first packed batches the pipeline makes (what a trainer receives), one JSON object per line with
    /// `input_ids`, `label_ids`, `segment_ids`, `attention_mask` and `position_ids`, each [batch][seq].
    Batches(BatchesArgs),
}

#[derive(Debug, Args)]
pub struct BatchesArgs {
    #[command(flatten)]
    pub pipeline: PipelineArgs,
    /// Batches to print.
    #[arg(long, default_value_t = 2)]
    pub count: usize,
}

/// Where text comes from and how it is read.
#[derive(Debug, Args)]
pub struct InputArgs {
    /// Files or directories (walked recursively) to read; default: the bundled corpus.
    #[arg(long, num_args = 1.., value_name = "PATH")]
    pub input: Vec<PathBuf>,
    /// Input format (default: from each file's extension: .txt/.md, .jsonl/.json, .parquet; .zst/.gz allowed).
    #[arg(long, value_enum)]
    pub format: Option<FormatChoice>,
    /// JSON field (jsonl) or column (parquet) holding the text.
    #[arg(long, default_value = "text")]
    pub text_field: String,
    /// How plain text is cut into documents: one per file, or at runs of blank lines.
    #[arg(long, value_enum, default_value_t = TxtDocumentsChoice::File)]
    pub txt_documents: TxtDocumentsChoice,
}

#[derive(Debug, Args)]
pub struct PrepareArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Tokenizer file (Hugging Face tokenizer.json); default: the bundled birdie tokenizer.
    #[arg(long)]
    pub tokenizer: Option<PathBuf>,
    /// Fraction of a user corpus's documents (by a hash of their text) that go to the validation split.
    #[arg(long, default_value_t = 0.01)]
    pub validation_fraction: f64,
    /// Largest number of tokens per shard file.
    #[arg(long, default_value_t = 1 << 28)]
    pub max_shard_tokens: u64,
    /// Output directory (created; an existing shard directory is replaced).
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Shard directory.
    pub dir: PathBuf,
    /// Check that the shards were made with this tokenizer.
    #[arg(long)]
    pub tokenizer: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum TokenizerCommand {
    /// Train a byte-level BPE tokenizer with birdie's special tokens (default input: the bundled train split).
    Train(TrainTokenizerArgs),
    /// Build a tokenizer.json from GPT-2 style vocabulary and merges files (e.g. encoder.json + vocab.bpe).
    FromBpe(FromBpeArgs),
    /// Vocabulary size, hash and special-token ids.
    Info(TokenizerFileArg),
    /// Print the token ids of a text.
    Encode(EncodeArgs),
    /// Print the text of token ids.
    Decode(DecodeArgs),
}

#[derive(Debug, Args)]
pub struct TrainTokenizerArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Vocabulary size, special tokens included.
    #[arg(long, default_value_t = 8192)]
    pub vocab_size: usize,
    /// Output tokenizer.json.
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct FromBpeArgs {
    /// vocab.json / encoder.json (token → id).
    #[arg(long)]
    pub vocab: PathBuf,
    /// merges.txt / vocab.bpe.
    #[arg(long)]
    pub merges: PathBuf,
    /// Output tokenizer.json.
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct TokenizerFileArg {
    /// Tokenizer file; default: the bundled birdie tokenizer.
    #[arg(long)]
    pub tokenizer: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct EncodeArgs {
    #[command(flatten)]
    pub tokenizer: TokenizerFileArg,
    /// Text to encode.
    pub text: String,
}

#[derive(Debug, Args)]
pub struct DecodeArgs {
    #[command(flatten)]
    pub tokenizer: TokenizerFileArg,
    /// Token ids (separated by spaces or commas).
    #[arg(required = true, num_args = 1..)]
    pub ids: Vec<String>,
}
