//! `birdie bench pipeline`: data pipeline throughput.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use birdie_core::config::{arms_from_toml, preset, PRESETS};
use birdie_core::pipeline::{ArmStats, ShardDocuments};
use birdie_core::{Arm, Pipeline, PipelineConfig};
use birdie_data::{ShardSet, Split};

use super::{bundled_shards, load_tokenizer};
use crate::cli::{BenchCommand, BenchPipelineArgs, BenchScanArgs, BenchStepArgs, PipelineArgs};

pub fn run(command: BenchCommand) -> anyhow::Result<()> {
    match command {
        BenchCommand::Pipeline(args) => pipeline(args),
        BenchCommand::Scan(args) => scan(args),
        BenchCommand::Step(args) => step(args),
    }
}

fn step(args: BenchStepArgs) -> anyhow::Result<()> {
    use birdie_models::{ModelConfig, SequenceBatch};
    use burn::optim::{AdamWConfig, GradientsParams};
    use burn::prelude::*;

    let spec = birdie_models::ModelSpec::preset(args.arch.name(), args.preset.name(), args.bidirectional);
    let vocab = spec.vocab_size(load_tokenizer(None)?.vocab_size());
    let cfg = ModelConfig::preset(args.arch.arch(), args.preset.name(), vocab, args.bidirectional, args.seq)?;
    let (b, t) = (args.batch, args.seq);
    args.precision.check(args.device.choice.unwrap_or_default())?;
    let plain = args.device.device()?;
    let device = plain.clone().autodiff();
    let dtype = args.precision.dtype();
    // Two packed samples per row: a quarter prefix, the rest target.
    let mut g = birdie_models::test_values::Lcg(42);
    let mut next = |m: usize| g.below(m) as i32;
    let half = t / 2;
    let seg: Vec<i32> = (0..b * t).map(|i| if i % t < half { 1 } else { 2 }).collect();
    let mask: Vec<i32> = (0..b * t).map(|i| if (i % t) % half.max(1) < half / 4 { 1 } else { 3 }).collect();
    let tokens: Vec<i32> = (0..b * t).map(|_| next(vocab)).collect();
    let labels: Vec<i32> = mask.iter().map(|&m| if m == 3 { next(vocab) } else { -100 }).collect();
    let batch = SequenceBatch::new(&tokens, &labels, &seg, &mask, b, t, cfg.conv_width(), &device);
    let mut model = cfg.init(&device);
    let mut optim = AdamWConfig::new().with_weight_decay(0.1).init();
    // Floor: the same matrix products as plain GEMMs (forward + two backward products each), on the same device.
    let rows = b * t;
    let gemms: Vec<(Tensor<2>, Tensor<2>)> = cfg
        .gemm_shapes()
        .into_iter()
        .map(|(k, n)| (Tensor::<2>::ones([rows, k], (&plain, dtype)), Tensor::<2>::ones([k, n], (&plain, dtype))))
        .collect();
    let flops: f64 = cfg.gemm_shapes().iter().map(|&(k, n)| 3.0 * 2.0 * (rows * k * n) as f64).sum();
    // One timing per GEMM shape, each run right after a warm-up run of itself (hot caches: the GEMMs at their best).
    let floor_once = || -> Vec<f64> {
        gemms
            .iter()
            .map(|(x, w)| {
                let _ = x.clone().matmul(w.clone()).into_data();
                let start = Instant::now();
                let _ = x.clone().matmul(w.clone()).into_data();
                3.0 * start.elapsed().as_secs_f64()
            })
            .collect()
    };
    // Steps and floor measurements alternate, so a busy or throttled machine slows both alike.
    let mut times = Vec::with_capacity(args.steps);
    let mut floors: Vec<Vec<f64>> = vec![Vec::with_capacity(args.steps); gemms.len()];
    let mut last_loss = 0.0;
    for i in 0..args.steps + 2 {
        let start = Instant::now();
        let loss = args.precision.loss(&model, &batch);
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(1e-3, model, grads);
        last_loss = loss.into_scalar::<f32>();
        let step_secs = start.elapsed().as_secs_f64();
        let floor_secs = floor_once();
        if i >= 2 {
            times.push(step_secs);
            for (all, s) in floors.iter_mut().zip(floor_secs) {
                all.push(s);
            }
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let floor: f64 = floors.iter_mut().map(median).sum();
    let step = median(&mut times);
    let mut out = std::io::stdout().lock();
    writeln!(out, "step: {:.1} ms", step * 1e3)?;
    writeln!(out, "tokens/s: {:.0}", (b * t) as f64 / step)?;
    writeln!(out, "floor ratio: {:.2} (GEMM floor {:.1} ms for {:.1} GFLOP)", step / floor, floor * 1e3, flops / 1e9)?;
    writeln!(
        out,
        "model: {} {} {}({:.2} M parameters), batch {b} × seq {t}, {}, {} threads, final loss {last_loss:.3}",
        args.arch.name(),
        args.preset.name(),
        if args.bidirectional { "bidirectional " } else { "" },
        cfg.num_params() as f64 / 1e6,
        args.precision,
        rayon::current_num_threads()
    )?;
    let choice = args.device.choice.unwrap_or_default();
    if let Some(usage) = plain.memory_pool_usage().filter(|_| !choice.is_cpu()) {
        writeln!(out, "device: {choice}, memory pool {usage:?}")?;
    } else {
        writeln!(out, "device: {choice}")?;
    }
    Ok(())
}

/// Median seconds of `reps` runs of `f` after one warm-up run.
fn median_secs(reps: usize, mut f: impl FnMut()) -> f64 {
    f();
    let mut times: Vec<f64> = (0..reps.max(1))
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

fn scan(args: BenchScanArgs) -> anyhow::Result<()> {
    use birdie_models::ops::linear_scan::{scan_backward_slices, scan_forward_slices, ScanDims, ScanDirection};
    use rayon::prelude::*;

    let choice = args.device.choice.unwrap_or_default();
    if !choice.is_cpu() {
        return scan_on_device(&args, &args.device.device()?);
    }
    let (bs, t, d) = (args.batch, args.seq, args.width);
    let n = bs * t * d;
    let a: Vec<f32> = (0..n).map(|i| 0.5 + 0.4 * ((i % 97) as f32 / 97.0)).collect();
    let b: Vec<f32> = (0..n).map(|i| ((i % 89) as f32 / 89.0) - 0.5).collect();
    let g: Vec<f32> = (0..n).map(|i| ((i % 83) as f32 / 83.0) - 0.5).collect();
    let r: Vec<f32> = (0..bs * t).map(|i| if i % 512 == 0 { 1.0 } else { 0.0 }).collect();
    let mut h = vec![0f32; n];
    let (mut da, mut db) = (vec![0f32; n], vec![0f32; n]);
    let dims = ScanDims { seq: t, width: d, direction: ScanDirection::Forward };
    let fwd = median_secs(args.reps, || scan_forward_slices(&a, &b, &r, &mut h, dims));
    let bwd = median_secs(args.reps, || scan_backward_slices(&g, &a, &r, &h, (&mut da, &mut db), dims));
    // Triad x = y + s·z over arrays of the same size, in parallel: 12 bytes per element.
    let mut x = vec![0f32; n];
    let triad = median_secs(args.reps, || {
        x.par_chunks_mut(1 << 16).zip(a.par_chunks(1 << 16)).zip(b.par_chunks(1 << 16)).for_each(|((x, y), z)| {
            for i in 0..x.len() {
                x[i] = y[i] + 1.5 * z[i];
            }
        })
    });
    let bytes = 12.0 * n as f64;
    let scan_bw = 2.0 * bytes / (fwd + bwd);
    let triad_bw = bytes / triad;
    let mut out = std::io::stdout().lock();
    writeln!(out, "scan: {:.0}% of triad", 100.0 * scan_bw / triad_bw)?;
    writeln!(
        out,
        "forward {:.2} ms, backward {:.2} ms at {bs} × {t} × {d} f32 ({} threads): {:.1} GB/s effective (12 bytes/element/pass)",
        fwd * 1e3,
        bwd * 1e3,
        rayon::current_num_threads(),
        scan_bw / 1e9
    )?;
    writeln!(out, "triad: {:.2} ms, {:.1} GB/s", triad * 1e3, triad_bw / 1e9)?;
    Ok(())
}

/// `bench scan` on a GPU: the fused scan's forward and backward kernels through the backend extension, against a
/// triad (x = y + 1.5·z) over tensors of the same size on the same device; every timing waits for the device.
fn scan_on_device(args: &BenchScanArgs, device: &burn::prelude::Device) -> anyhow::Result<()> {
    use birdie_models::ops::linear_scan::{ScanBackend, ScanDirection};
    use burn::backend::Dispatch;
    use burn::prelude::*;

    let (bs, t, d) = (args.batch, args.seq, args.width);
    let n = bs * t * d;
    let fill = |f: &dyn Fn(usize) -> f32, len: usize| (0..len).map(f).collect::<Vec<f32>>();
    let t3 = |v: Vec<f32>| Tensor::<3>::from_data(TensorData::new(v, [bs, t, d]), device);
    let a = t3(fill(&|i| 0.5 + 0.4 * ((i % 97) as f32 / 97.0), n));
    let b = t3(fill(&|i| ((i % 89) as f32 / 89.0) - 0.5, n));
    let g = t3(fill(&|i| ((i % 83) as f32 / 83.0) - 0.5, n));
    let r = Tensor::<2>::from_data(
        TensorData::new(fill(&|i| if i % 512 == 0 { 1.0 } else { 0.0 }, bs * t), [bs, t]),
        device,
    );
    let sync = || device.sync().map_err(|e| anyhow::anyhow!("{device:?}: {e:?}"));
    let forward = || {
        <Dispatch as ScanBackend>::linear_scan_forward(
            a.clone().into_dispatch(),
            b.clone().into_dispatch(),
            r.clone().into_dispatch(),
            ScanDirection::Forward,
        )
    };
    let h = forward();
    let timed = |f: &mut dyn FnMut()| -> anyhow::Result<f64> {
        f();
        sync()?;
        let mut times = Vec::new();
        for _ in 0..args.reps.max(1) {
            let start = Instant::now();
            f();
            sync()?;
            times.push(start.elapsed().as_secs_f64());
        }
        times.sort_by(f64::total_cmp);
        Ok(times[times.len() / 2])
    };
    let fwd = timed(&mut || drop(forward()))?;
    let bwd = timed(&mut || {
        drop(<Dispatch as ScanBackend>::linear_scan_backward(
            g.clone().into_dispatch(),
            a.clone().into_dispatch(),
            r.clone().into_dispatch(),
            h.clone(),
            ScanDirection::Forward,
        ))
    })?;
    let triad = timed(&mut || drop(a.clone() + b.clone().mul_scalar(1.5)))?;
    // Bytes each pass must move at least: forward reads a, b and writes h; backward reads g, a, h, writes da, db.
    let (fwd_bytes, bwd_bytes, triad_bytes) = (12.0 * n as f64, 20.0 * n as f64, 12.0 * n as f64);
    let scan_bw = (fwd_bytes + bwd_bytes) / (fwd + bwd);
    let triad_bw = triad_bytes / triad;
    let mut out = std::io::stdout().lock();
    writeln!(out, "scan: {:.0}% of triad", 100.0 * scan_bw / triad_bw)?;
    writeln!(
        out,
        "forward {:.3} ms ({:.1} GB/s), backward {:.3} ms ({:.1} GB/s) at {bs} × {t} × {d} f32 on {}",
        fwd * 1e3,
        fwd_bytes / fwd / 1e9,
        bwd * 1e3,
        bwd_bytes / bwd / 1e9,
        args.device.choice.unwrap_or_default()
    )?;
    writeln!(out, "triad: {:.3} ms, {:.1} GB/s", triad * 1e3, triad_bw / 1e9)?;
    Ok(())
}

/// Arms of a preset name or a TOML file.
pub fn load_arms(config: &str) -> anyhow::Result<Vec<Arm>> {
    if PRESETS.contains(&config) || !Path::new(config).exists() {
        return Ok(preset(config)?);
    }
    let text = std::fs::read_to_string(config).with_context(|| format!("reading {config}"))?;
    Ok(arms_from_toml(&text, config)?)
}

/// The pipeline `args` describe, over the train split, with the bundled tokenizer and every core as a worker.
pub fn start_pipeline(args: &PipelineArgs) -> anyhow::Result<Pipeline> {
    let tok = load_tokenizer(None)?;
    let arms = load_arms(&args.objectives)?;
    let dir = match &args.shards {
        Some(d) => d.clone(),
        None => bundled_shards(&tok)?,
    };
    let set = Arc::new(ShardSet::open_for(&dir, &tok)?);
    let source = Arc::new(ShardDocuments::new(set, Split::Train)?);
    let cfg = PipelineConfig {
        batch_size: args.batch,
        seq_len: args.seq,
        seed: args.seed,
        workers: rayon::current_num_threads(),
        ..PipelineConfig::default()
    };
    Ok(Pipeline::start(cfg, arms, tok.specials().clone(), source, None)?)
}

fn pipeline(bench: BenchPipelineArgs) -> anyhow::Result<()> {
    let args = &bench.pipeline;
    let workers = rayon::current_num_threads();
    let mut p = start_pipeline(args)?;
    let names: Vec<String> = p.arms().iter().map(|a| a.name.clone()).collect();
    // Warm-up: fill the prefetch queue and page in the shards.
    let warm = Instant::now();
    while warm.elapsed() < Duration::from_millis(500) {
        p.next_batch()?;
    }
    let before: Vec<ArmStats> = p.state().stats.clone();
    let start = Instant::now();
    let (mut batches, mut filled, mut samples, mut slots) = (0u64, 0u64, 0u64, 0u64);
    while start.elapsed().as_secs_f64() < bench.seconds {
        let b = p.next_batch()?;
        batches += 1;
        filled += b.filled() as u64;
        samples += b.segments.len() as u64;
        slots += (b.batch_size * b.seq_len) as u64;
    }
    let secs = start.elapsed().as_secs_f64();
    let mut out = std::io::stdout().lock();
    writeln!(out, "packed: {} tokens/s", si(filled as f64 / secs))?;
    writeln!(
        out,
        "samples: {:.0}/s  batches: {:.1}/s  ({} workers, seq {} × batch {})",
        samples as f64 / secs,
        batches as f64 / secs,
        workers,
        args.seq,
        args.batch
    )?;
    writeln!(out, "fill: {:.1}%", 100.0 * filled as f64 / slots.max(1) as f64)?;
    let stats: Vec<ArmStats> = p
        .state()
        .stats
        .iter()
        .zip(&before)
        .map(|(a, b)| ArmStats {
            samples: a.samples - b.samples,
            input_tokens: a.input_tokens - b.input_tokens,
            label_tokens: a.label_tokens - b.label_tokens,
            text_tokens: a.text_tokens - b.text_tokens,
            failures: a.failures - b.failures,
            skipped_tokens: a.skipped_tokens - b.skipped_tokens,
        })
        .collect();
    let total_tokens: u64 = stats.iter().map(ArmStats::packed_tokens).sum();
    let total_samples: u64 = stats.iter().map(|s| s.samples).sum();
    writeln!(out, "{:<34} {:>8} {:>8} {:>9}", "arm", "samples", "tokens", "failures")?;
    for (name, s) in names.iter().zip(&stats) {
        writeln!(
            out,
            "{:<34} {:>7.1}% {:>7.1}% {:>9}",
            name,
            100.0 * s.samples as f64 / total_samples.max(1) as f64,
            100.0 * s.packed_tokens() as f64 / total_tokens.max(1) as f64,
            s.failures
        )?;
    }
    Ok(())
}

/// A rate with a k/M/G suffix.
fn si(x: f64) -> String {
    if x >= 1e9 {
        format!("{:.1} G", x / 1e9)
    } else if x >= 1e6 {
        format!("{:.1} M", x / 1e6)
    } else if x >= 1e3 {
        format!("{:.1} k", x / 1e3)
    } else {
        format!("{x:.1}")
    }
}
