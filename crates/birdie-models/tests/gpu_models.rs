//! Every model on the GPU device computes what it computes on the CPU: the same seed gives the same parameters on
//! both, the loss agrees to 1e-4 and every gradient to 1e-4 + 1 %. Skipped, saying why, without a wgpu adapter
//! (BIRDIE_REQUIRE_GPU=1 makes that a failure).
#![cfg(any(feature = "wgpu", feature = "cuda"))]

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::prelude::*;

use birdie_models::test_values::Lcg;
use birdie_models::{ModelSpec, SequenceBatch};

fn gpu() -> Option<Device> {
    let name = std::env::var("BIRDIE_TEST_DEVICE").unwrap_or_else(|_| "wgpu".into());
    match name
        .parse::<birdie_models::DeviceChoice>()
        .map_err(|e| e.to_string())
        .and_then(|d| d.device().map_err(|e| e.to_string()))
    {
        Ok(device) => Some(device),
        Err(e) if std::env::var("BIRDIE_REQUIRE_GPU").is_ok_and(|v| v == "1") => panic!("{e}"),
        Err(e) => {
            eprintln!("skipped: {e}");
            None
        }
    }
}

fn batch(conv_width: usize, device: &Device) -> SequenceBatch {
    let (b, t, vocab) = (2, 24, 64);
    let mut g = Lcg(9);
    let tokens: Vec<i32> = (0..b * t).map(|_| g.below(vocab) as i32).collect();
    let seg: Vec<i32> = (0..b * t).map(|i| if i % t < 10 { 1 } else { 2 }).collect();
    let mask: Vec<i32> = (0..b * t).map(|i| if i % t % 10 < 4 { 1 } else { 3 }).collect();
    let labels: Vec<i32> = mask.iter().map(|&m| if m == 3 { g.below(vocab) as i32 } else { -100 }).collect();
    SequenceBatch::new(&tokens, &labels, &seg, &mask, b, t, conv_width, device)
}

#[test]
fn models_compute_the_same_loss_and_gradients_on_the_gpu() {
    let Some(gpu) = gpu() else { return };
    let mut failures = Vec::new();
    for (arch, bidirectional) in [("transformer", true), ("hawk", false), ("hawk", true), ("gated-ssm", true)] {
        let spec =
            ModelSpec { d_model: Some(32), num_layers: Some(2), ..ModelSpec::preset(arch, "tiny", bidirectional) };
        let cfg = spec.resolve(64, 64).unwrap();
        let run = |device: &Device| {
            let device = device.clone().autodiff();
            let model = cfg.init_seeded(&device, 5);
            let loss = model.loss(&batch(cfg.conv_width(), &device));
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            let mut all = AllGradients { grads: &grads, values: Vec::new() };
            model.visit(&mut all);
            (loss.into_scalar::<f32>(), all.values)
        };
        let (cpu_loss, cpu_grads) = run(&Device::flex());
        let (gpu_loss, gpu_grads) = run(&gpu);
        let worst =
            cpu_grads.iter().zip(&gpu_grads).map(|(a, b)| (a - b).abs() / (1e-2 + a.abs())).fold(0f32, f32::max);
        eprintln!("{arch} bidirectional={bidirectional}: loss {gpu_loss} on the GPU, {cpu_loss} on the CPU; {} and {} gradient values, worst relative error {worst}", gpu_grads.len(), cpu_grads.len());
        if (cpu_loss - gpu_loss).abs() > 1e-4 || worst > 1e-2 || cpu_grads.len() != gpu_grads.len() {
            failures.push(format!("{arch} bidirectional={bidirectional}"));
        }
    }
    assert!(failures.is_empty(), "differ on the GPU: {failures:?}");
}

/// Every parameter's gradient, flattened in visiting order.
struct AllGradients<'a> {
    grads: &'a GradientsParams,
    values: Vec<f32>,
}

impl ModuleVisitor for AllGradients<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(g) = self.grads.get::<D>(param.id) {
            self.values.extend(g.into_data().try_to_vec::<f32>().unwrap());
        }
    }
}
