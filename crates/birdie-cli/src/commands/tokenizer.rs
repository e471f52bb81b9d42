//! `birdie tokenizer train | from-bpe | info | encode | decode`.

use std::io::Write;
use std::time::Instant;

use anyhow::{bail, Context};
use birdie_data::corpus::{collect_inputs, open_input, Record};
use birdie_data::special_tokens::{Marker, Paradigm};
use birdie_data::{BundledCorpus, Split, Tokenizer};

use super::{load_tokenizer, read_options};
use crate::cli::{DecodeArgs, EncodeArgs, FromBpeArgs, TokenizerCommand, TokenizerFileArg, TrainTokenizerArgs};
use crate::progress::spinner;

pub fn run(command: TokenizerCommand) -> anyhow::Result<()> {
    match command {
        TokenizerCommand::Train(args) => train(args),
        TokenizerCommand::FromBpe(args) => from_bpe(args),
        TokenizerCommand::Info(args) => info(args),
        TokenizerCommand::Encode(args) => encode(args),
        TokenizerCommand::Decode(args) => decode(args),
    }
}

fn train(args: TrainTokenizerArgs) -> anyhow::Result<()> {
    let texts: Vec<String> = if args.input.input.is_empty() {
        BundledCorpus::load()?.split(Split::Train).map(|d| d.text.clone()).collect()
    } else {
        let (format, read) = read_options(&args.input)?;
        let selection = collect_inputs(&args.input.input, format)?;
        let mut texts = Vec::new();
        for file in &selection.files {
            for rec in open_input(file, &read)? {
                match rec? {
                    Record::Document(d) => texts.push(d.text),
                    Record::Skipped(s) => eprintln!("warning: skipped {}: {}", s.what, s.reason),
                }
            }
        }
        texts
    };
    if texts.is_empty() {
        bail!("no documents to train the tokenizer on");
    }
    let bytes: usize = texts.iter().map(String::len).sum();
    let bar = spinner("training BPE");
    let start = Instant::now();
    let tok = Tokenizer::train(texts.into_iter(), args.vocab_size)?;
    bar.finish_and_clear();
    tok.save(&args.out).with_context(|| format!("saving {}", args.out.display()))?;
    println!(
        "trained a {}-entry byte-level BPE on {:.1} MB in {:.1} s; wrote {} (hash {})",
        tok.vocab_size(),
        bytes as f64 / 1e6,
        start.elapsed().as_secs_f64(),
        args.out.display(),
        &tok.hash()[..16]
    );
    Ok(())
}

fn from_bpe(args: FromBpeArgs) -> anyhow::Result<()> {
    let tok = Tokenizer::from_bpe_files(&args.vocab, &args.merges)?;
    tok.save(&args.out)?;
    println!("wrote {} ({} entries, hash {})", args.out.display(), tok.vocab_size(), &tok.hash()[..16]);
    Ok(())
}

fn info(args: TokenizerFileArg) -> anyhow::Result<()> {
    let tok = load_tokenizer(args.tokenizer.as_deref())?;
    let st = tok.specials();
    let mut out = std::io::stdout().lock();
    writeln!(out, "vocab size: {}", tok.vocab_size())?;
    writeln!(out, "hash: {}", tok.hash())?;
    writeln!(
        out,
        "pad: {}  end of document: {}  start of generation: {}",
        st.pad, st.end_of_document, st.start_of_generation
    )?;
    for p in Paradigm::ALL {
        writeln!(out, "paradigm {}: {}", p.token(), st.paradigm(p))?;
    }
    for m in Marker::ALL {
        writeln!(out, "marker {}: {}", m.token(), st.marker(m))?;
    }
    let s = st.sentinels();
    writeln!(out, "sentinels: {} ({}..={})", s.len(), s[0], s[s.len() - 1])?;
    Ok(())
}

fn encode(args: EncodeArgs) -> anyhow::Result<()> {
    let tok = load_tokenizer(args.tokenizer.tokenizer.as_deref())?;
    let ids = tok.encode(&args.text)?;
    println!("{}", ids.iter().map(u32::to_string).collect::<Vec<_>>().join(" "));
    Ok(())
}

fn decode(args: DecodeArgs) -> anyhow::Result<()> {
    let tok = load_tokenizer(args.tokenizer.tokenizer.as_deref())?;
    let mut ids = Vec::new();
    for part in args.ids.iter().flat_map(|s| s.split([',', ' '])).filter(|s| !s.is_empty()) {
        let id: u32 = part.parse().with_context(|| format!("\"{part}\" is not a token id"))?;
        if id as usize >= tok.vocab_size() {
            bail!("token id {id} is outside the vocabulary (size {})", tok.vocab_size());
        }
        ids.push(id);
    }
    println!("{}", tok.decode(&ids)?);
    Ok(())
}
