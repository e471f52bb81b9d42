//! `birdie preview`: one objective applied to one text, printed so a person can see it.

use std::io::Write;

use anyhow::{bail, Context};
use birdie_core::packing::{Batcher, IGNORE_INDEX};
use birdie_core::{Arm, ObjectiveSpec, ParadigmPlacement, SampleRng};
use birdie_data::{BundledCorpus, ShardSet, Split};

use super::load_tokenizer;
use crate::cli::PreviewArgs;

pub fn run(args: PreviewArgs) -> anyhow::Result<()> {
    let tok = load_tokenizer(args.tokenizer.as_deref())?;
    let spec = spec_with_overrides(&args.objective, &args.set)?;
    let arm = Arm::new(None, 1.0, spec, None, ParadigmPlacement::Prefix)?;
    let tokens: Vec<u32> = if let Some(text) = &args.text {
        tok.encode(text)?
    } else if let Some(dir) = &args.shard {
        let set = ShardSet::open_for(dir, &tok)?;
        let train = set.require_split(Split::Train)?;
        let first = train.documents().next().context("the train split has no documents")?.to_vec();
        first
    } else {
        let corpus = BundledCorpus::load()?;
        let doc = corpus.documents.iter().find(|(_, d)| d.id == "moby-dick/chapter_001").context("bundled text")?;
        tok.encode(&doc.1.text)?
    };
    let mut rng = SampleRng::from_seed_u64(args.seed);
    let sample = arm
        .apply(&tokens, args.budget, tok.specials(), &mut rng)
        .map_err(|e| anyhow::anyhow!("{} cannot make a sample from this text: {e}", arm.name))?;

    let mut out = std::io::stdout().lock();
    let params = toml::to_string(&arm.spec).unwrap_or_default().replace('\n', " ");
    writeln!(out, "objective: {} ({})", arm.spec.name(), params.trim())?;
    writeln!(
        out,
        "text: {} tokens, consumed {}; input {} tokens, label {} tokens (budget {})",
        tokens.len(),
        sample.consumed,
        sample.input.len(),
        sample.label.len(),
        args.budget
    )?;
    writeln!(out, "\n--- input (bidirectional prefix) ---\n{}", tok.decode(&sample.input)?)?;
    writeln!(out, "\n--- label (causal target) ---\n{}", tok.decode(&sample.label)?)?;

    let mut batcher = Batcher::new(1, args.budget.max(2), tok.specials().start_of_generation);
    batcher.add(&sample.input, &sample.label, 0)?;
    let b = batcher.take();
    let n = b.filled();
    let shown = if args.all { n } else { n.min(48) };
    writeln!(out, "\n--- packed row (mask 1 = prefix, 3 = target) ---")?;
    writeln!(out, "{:>5}  {:>4}  {:<24} label token", "pos", "mask", "input token")?;
    let show = |id: i32| -> String {
        if id == IGNORE_INDEX {
            "-".to_string()
        } else {
            format!("{:?}", tok.decode(&[id as u32]).unwrap_or_default())
        }
    };
    for p in 0..shown {
        writeln!(out, "{p:>5}  {:>4}  {:<24} {}", b.attention_mask[p], show(b.input_ids[p]), show(b.label_ids[p]))?;
    }
    if shown < n {
        writeln!(out, "  … {} more positions (--all shows them)", n - shown)?;
    }
    Ok(())
}

/// The default spec of `name` with `key=value` overrides; errors name the key.
pub fn spec_with_overrides(name: &str, sets: &[String]) -> anyhow::Result<ObjectiveSpec> {
    let Some(spec) = ObjectiveSpec::default_for(name) else {
        bail!("unknown objective \"{name}\" (one of {})", ObjectiveSpec::NAMES.join(", "));
    };
    if sets.is_empty() {
        return Ok(spec);
    }
    let mut table = toml::Table::try_from(&spec).context("serialising the objective")?;
    for s in sets {
        let Some((key, value)) = s.split_once('=') else {
            bail!("--set {s}: expected KEY=VALUE");
        };
        let key = key.trim();
        if key == "objective" {
            bail!("--set objective=…: choose the objective with --objective");
        }
        let value: toml::Value = toml::from_str::<toml::Table>(&format!("v = {value}"))
            .ok()
            .and_then(|mut t| t.remove("v"))
            .unwrap_or_else(|| toml::Value::String(value.trim().to_string()));
        table.insert(key.to_string(), value);
    }
    let spec: ObjectiveSpec = toml::Value::Table(table)
        .try_into()
        .map_err(|e: toml::de::Error| anyhow::anyhow!("--set for {name}: {}", e.message()))?;
    spec.validate()?;
    Ok(spec)
}
