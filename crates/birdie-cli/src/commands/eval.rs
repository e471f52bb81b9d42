//! `birdie eval …`: runs one task (or the quick suite) on a checkpoint, prints its table with chance levels and
//! writes the JSON report to RUN/eval/TASK.json (and `--json`); `eval compare` puts several runs side by side.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context};
use birdie_eval::dictqa::DictQaOptions;
use birdie_eval::finetune::FinetuneOptions;
use birdie_eval::infill::InfillOptions;
use birdie_eval::mqar::{MqarOptions, MqarTrain};
use birdie_eval::phonebook::PhonebookOptions;
use birdie_eval::ppl::PplOptions;
use birdie_eval::report::{self, EvalReport};
use birdie_eval::selective_copying::SelectiveCopyingOptions;
use birdie_eval::{dictqa, infill, mqar, phonebook, ppl, selective_copying, suite, Evaluator, PromptStyle};
use birdie_models::ModelSpec;
use indicatif::{ProgressBar, ProgressStyle};

use crate::choices::ArchChoice;
use crate::cli::{CompareArgs, EvalCommand, EvalCommon, MqarArgs};

fn bar(task: &str) -> ProgressBar {
    let b = ProgressBar::new(0);
    b.set_style(
        ProgressStyle::with_template("{msg:>18} [{elapsed_precise}] {wide_bar} {pos}/{len} eta {eta}")
            .expect("static template")
            .progress_chars("=> "),
    );
    b.set_message(task.to_string());
    b
}

/// Runs `f` with a progress bar fed by its (done, total) callback.
fn with_bar<T>(task: &str, f: impl FnOnce(&mut dyn FnMut(usize, usize)) -> T) -> T {
    let b = bar(task);
    let out = f(&mut |d, t| {
        b.set_length(t as u64);
        b.set_position(d as u64);
    });
    b.finish_and_clear();
    out
}

fn open(c: &EvalCommon) -> anyhow::Result<Evaluator> {
    let style: Option<PromptStyle> = c.prompt_style.map(Into::into);
    let device = c.device.device()?;
    Evaluator::open(&c.checkpoint, style, &device).with_context(|| format!("opening {}", c.checkpoint.display()))
}

/// Prints the report and writes it to RUN/eval/TASK.json and `json`.
fn finish(r: &EvalReport, run_dir: Option<&Path>, json: Option<&PathBuf>, started: Instant) -> anyhow::Result<()> {
    write!(std::io::stdout(), "{}", report::table(&["value".into()], &[vec![r.clone()]]))?;
    writeln!(std::io::stdout(), "{}: {} items, {:.1} s", r.task, r.n, started.elapsed().as_secs_f64())?;
    let mut paths: Vec<PathBuf> = json.cloned().into_iter().collect();
    if let Some(d) = run_dir {
        paths.push(d.join("eval").join(format!("{}.json", r.task)));
    }
    for p in paths {
        r.write(&p)?;
        writeln!(std::io::stdout(), "wrote {}", p.display())?;
    }
    Ok(())
}

fn run_dir(c: &EvalCommon) -> Option<PathBuf> {
    birdie_run::trained::locate(&c.checkpoint).ok().map(|(run, _)| run).filter(|r| r.join("config.toml").exists())
}

pub fn run(command: EvalCommand) -> anyhow::Result<()> {
    let started = Instant::now();
    match command {
        EvalCommand::Phonebook(a) => {
            let mut ev = open(&a.common)?;
            let o = PhonebookOptions {
                entries: a.entries,
                queries: a.queries,
                book_tokens: a.book_tokens,
                n: a.n,
                format: a.format.into(),
                jrt: a.jrt,
                digits: a.digits,
                seed: a.common.seed,
                finetune: FinetuneOptions {
                    steps: a.finetune,
                    batch_size: a.finetune_batch,
                    lr: a.finetune_lr,
                    seed: a.common.seed,
                },
            };
            let r = with_bar("phonebook", |p| phonebook::run(&mut ev, &o, p))?;
            finish(&r, run_dir(&a.common).as_deref(), a.common.json.as_ref(), started)
        }
        EvalCommand::Mqar(a) => mqar_command(a, started),
        EvalCommand::SelectiveCopying(a) => {
            let ev = open(&a.common)?;
            let o =
                SelectiveCopyingOptions { spans: a.spans, n: a.n, budget: a.budget, jrt: a.jrt, seed: a.common.seed };
            let r = with_bar("selective-copying", |p| selective_copying::run(&ev, &o, p))?;
            finish(&r, run_dir(&a.common).as_deref(), a.common.json.as_ref(), started)
        }
        EvalCommand::Infill(a) => {
            let ev = open(&a.common)?;
            let r = with_bar("infill", |p| infill::run(&ev, &InfillOptions { n: a.n, seed: a.common.seed }, p))?;
            finish(&r, run_dir(&a.common).as_deref(), a.common.json.as_ref(), started)
        }
        EvalCommand::Dictqa(a) => {
            let ev = open(&a.common)?;
            let o = DictQaOptions { entries: a.entries, n: a.n, jrt: a.jrt, seed: a.common.seed };
            let r = with_bar("dictqa", |p| dictqa::run(&ev, &o, p))?;
            finish(&r, run_dir(&a.common).as_deref(), a.common.json.as_ref(), started)
        }
        EvalCommand::Ppl(a) => {
            let ev = open(&a.common)?;
            let o = PplOptions { max_tokens: a.max_tokens, window: a.window, seed: a.common.seed };
            let r = with_bar("ppl", |p| ppl::run(&ev, &o, p))?;
            finish(&r, run_dir(&a.common).as_deref(), a.common.json.as_ref(), started)
        }
        EvalCommand::All(c) => {
            let mut ev = open(&c)?;
            let b = bar("");
            let reports = suite::run_all(&mut ev, c.seed, &mut |task, d, t| {
                b.set_message(task.to_string());
                b.set_length(t as u64);
                b.set_position(d as u64);
            })?;
            b.finish_and_clear();
            let overall: Vec<EvalReport> = reports
                .iter()
                .map(|r| EvalReport {
                    results: r.results.iter().filter(|m| m.setting == "all").cloned().collect(),
                    ..r.clone()
                })
                .collect();
            write!(std::io::stdout(), "{}", report::table(&["value".into()], &[overall]))?;
            writeln!(std::io::stdout(), "{} tasks, {:.1} s", reports.len(), started.elapsed().as_secs_f64())?;
            let dir = run_dir(&c).map(|d| d.join("eval")).or_else(|| c.json.clone());
            let Some(dir) = dir else {
                bail!("{}: no run directory to write eval/ into; pass --json DIR", c.checkpoint.display())
            };
            for r in &reports {
                let p = dir.join(format!("{}.json", r.task));
                r.write(&p)?;
            }
            writeln!(
                std::io::stdout(),
                "wrote {}/*.json (per-setting results; `birdie eval compare` reads them)",
                dir.display()
            )?;
            Ok(())
        }
        EvalCommand::Compare(a) => compare(a),
    }
}

fn mqar_command(a: MqarArgs, started: Instant) -> anyhow::Result<()> {
    if a.seq_len.len() != a.kv_pairs.len() {
        bail!(
            "--seq-len has {} values and --kv-pairs {}: expected one pair count per length",
            a.seq_len.len(),
            a.kv_pairs.len()
        );
    }
    let settings: Vec<(usize, usize)> = a.seq_len.iter().copied().zip(a.kv_pairs.iter().copied()).collect();
    if a.train {
        let model = ModelSpec {
            d_model: Some(a.d_model),
            num_layers: Some(a.layers),
            num_heads: if a.arch == ArchChoice::Transformer {
                Some(a.heads.unwrap_or((a.d_model / 32).max(1)))
            } else {
                None
            },
            width: if matches!(a.arch, ArchChoice::Hawk | ArchChoice::GatedSsm) { Some(a.d_model) } else { None },
            ..ModelSpec::preset(a.arch.name(), "tiny", a.bidirectional)
        };
        let fit = FinetuneOptions { steps: a.steps, batch_size: a.batch, lr: a.lr, seed: a.seed };
        let o = MqarOptions {
            settings,
            n: a.n,
            seed: a.seed,
            train: Some(MqarTrain { model, vocab_size: a.vocab, fit, device: a.device.device()? }),
        };
        let (r, losses) = with_bar("mqar --train", |p| mqar::run_train(&o, p))?;
        if let (Some(f), Some(l)) = (losses.first(), losses.last()) {
            writeln!(std::io::stdout(), "trained {} steps: loss {f:.3} → {l:.3}", losses.len())?;
        }
        return finish(&r, None, a.json.as_ref(), started);
    }
    let common = EvalCommon {
        checkpoint: a.checkpoint.expect("clap requires it"),
        seed: a.seed,
        json: a.json,
        prompt_style: None,
        device: a.device,
    };
    let ev = open(&common)?;
    let r = mqar::run_checkpoint(&ev, &MqarOptions { settings, n: a.n, seed: a.seed, train: None })?;
    finish(&r, run_dir(&common).as_deref(), common.json.as_ref(), started)
}

fn compare(a: CompareArgs) -> anyhow::Result<()> {
    let mut names = Vec::new();
    let mut runs = Vec::new();
    for p in &a.runs {
        runs.push(report::read_run(p)?);
        let name = if p.is_file() { p.file_stem() } else { p.file_name() };
        names.push(name.map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| p.display().to_string()));
    }
    write!(std::io::stdout(), "{}", report::table(&names, &runs))?;
    let scene = report::bar_chart(&names, &runs);
    std::fs::create_dir_all(&a.out).with_context(|| format!("creating {}", a.out.display()))?;
    let svg = a.out.join("eval-compare.svg");
    let png = a.out.join("eval-compare.png");
    std::fs::write(&svg, scene.to_svg()).with_context(|| format!("writing {}", svg.display()))?;
    let raster = birdie_plot::Canvas::render(&scene, birdie_plot::PNG_SCALE).to_png();
    std::fs::write(&png, raster).with_context(|| format!("writing {}", png.display()))?;
    writeln!(std::io::stdout(), "wrote {} and {}", svg.display(), png.display())?;
    Ok(())
}
