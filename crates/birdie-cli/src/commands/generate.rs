//! `birdie generate`: text from a checkpoint with the models' step mode.

use std::io::Write;

use birdie_run::generate::{generate, Sampling};
use birdie_run::TrainedModel;

use crate::cli::GenerateArgs;

pub fn run(args: GenerateArgs) -> anyhow::Result<()> {
    let device = args.device.device()?;
    let TrainedModel { model, tokenizer: tok, .. } = TrainedModel::open(&args.checkpoint, &device)?;
    let prefix = tok.encode(&args.prompt)?;
    let specials = tok.specials();
    let sampling = Sampling { temperature: args.temperature, top_k: args.top_k, seed: args.seed };
    let out = generate(
        &model,
        &prefix,
        specials.start_of_generation,
        args.max_tokens,
        &[specials.end_of_document, specials.pad],
        &sampling,
        &device,
    )?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{}", tok.decode(&out)?)?;
    Ok(())
}
