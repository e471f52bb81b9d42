//! Precision names and devices; mixed bf16 (`Precision::Bf16`) against f32 on the same model and batch, for every
//! architecture: the loss agrees within 1 % and the gradients within 5 % (relative L2 error over all parameters), and
//! every gradient lands, in f32, on an f32 master parameter.
//!
//! The tolerances come from bf16's unit roundoff u = 2⁻⁸ ≈ 0.004: the loss is a sum of many rounded terms whose
//! errors partly cancel (a few u), a gradient is a product of a forward and a backward chain (several u per layer).
//! Runs on the CPU; `BIRDIE_TEST_DEVICE=cuda` runs them on a GPU (scripts/gpu-check.sh).

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::GradientsParams;

use super::*;
use crate::test_values::Lcg;
use crate::{ModelSpec, SequenceBatch};

const LOSS_TOLERANCE: f64 = 1e-2;
const GRADIENT_TOLERANCE: f64 = 5e-2;

fn device() -> Device {
    let name = std::env::var("BIRDIE_TEST_DEVICE").unwrap_or_else(|_| "cpu".into());
    let choice: DeviceChoice = name.parse().unwrap_or_else(|e| panic!("BIRDIE_TEST_DEVICE: {e}"));
    Precision::Bf16.check(choice).unwrap_or_else(|e| panic!("BIRDIE_TEST_DEVICE: {e}"));
    choice.device().unwrap_or_else(|e| panic!("BIRDIE_TEST_DEVICE: {e}"))
}

/// Two rows of two packed samples each, with a bidirectional prefix and loss only on the suffixes.
fn batch(conv_width: usize, device: &Device) -> SequenceBatch {
    let (b, t, vocab) = (2, 48, 64);
    let mut g = Lcg(11);
    let tokens: Vec<i32> = (0..b * t).map(|_| g.below(vocab) as i32).collect();
    let seg: Vec<i32> = (0..b * t).map(|i| if i % t < 20 { 1 } else { 2 }).collect();
    let mask: Vec<i32> = (0..b * t).map(|i| if i % t % 20 < 6 { 1 } else { 3 }).collect();
    let labels: Vec<i32> = mask.iter().map(|&m| if m == 3 { g.below(vocab) as i32 } else { -100 }).collect();
    SequenceBatch::new(&tokens, &labels, &seg, &mask, b, t, conv_width, device)
}

#[test]
fn bf16_loss_and_gradients_match_f32_and_reach_the_f32_masters() {
    let device = device().autodiff();
    let mut failures = Vec::new();
    for (arch, bidirectional) in
        [("transformer", true), ("transformer", false), ("hawk", false), ("hawk", true), ("gated-ssm", true)]
    {
        let spec =
            ModelSpec { d_model: Some(64), num_layers: Some(2), ..ModelSpec::preset(arch, "tiny", bidirectional) };
        let cfg = spec.resolve(64, 64).unwrap();
        let model = cfg.init_seeded(&device, 3);
        let batch = batch(cfg.conv_width(), &device);
        let run = |precision: Precision| {
            let loss = precision.loss(&model, &batch);
            assert_eq!(loss.dtype(), DType::F32, "{arch}: the {precision} loss is f32");
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            let mut all = AllGradients { grads: &grads, found: Found::default() };
            model.visit(&mut all);
            (f64::from(loss.into_scalar::<f32>()), all.found)
        };
        let (loss32, g32) = run(Precision::F32);
        let (loss16, g16) = run(Precision::Bf16);
        let loss_error = (loss16 - loss32).abs() / loss32.abs();
        let norm = |v: &[f32]| v.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>().sqrt();
        let diff: Vec<f32> = g16.values.iter().zip(&g32.values).map(|(a, b)| a - b).collect();
        let grad_error = norm(&diff) / norm(&g32.values);
        eprintln!(
            "{arch} bidirectional={bidirectional}: loss f32 {loss32:.6}, bf16 {loss16:.6} (relative error \
             {loss_error:.2e}); gradients' relative L2 error {grad_error:.2e} over {} values",
            g32.values.len()
        );
        let masters_complete = g16.missing == 0 && g16.values.len() == g32.values.len();
        if !masters_complete || g16.dtypes.iter().any(|&d| d != DType::F32) {
            failures.push(format!(
                "{arch} bidirectional={bidirectional}: {} parameters without a gradient, gradient dtypes {:?}",
                g16.missing, g16.dtypes
            ));
        }
        // bf16 rounding must show (u ≈ 0.004 per value): an error of zero would mean the pass ran in f32.
        if loss_error > LOSS_TOLERANCE || !(1e-4..=GRADIENT_TOLERANCE).contains(&grad_error) {
            failures.push(format!(
                "{arch} bidirectional={bidirectional}: loss error {loss_error:.2e}, gradient error {grad_error:.2e}"
            ));
        }
        // The masters themselves stay f32.
        let mut dtypes = ParamDtypes(Vec::new());
        model.visit(&mut dtypes);
        assert!(dtypes.0.iter().all(|&d| d == DType::F32), "{arch}: master dtypes {:?}", dtypes.0);
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn the_working_copy_is_bf16_and_the_batch_masks_follow_it() {
    let device = Device::flex();
    let cfg = ModelSpec { d_model: Some(16), num_layers: Some(1), ..ModelSpec::preset("hawk", "tiny", true) }
        .resolve(64, 64)
        .unwrap();
    let model = cfg.init_seeded(&device, 1);
    let copy = working_copy(&model, DType::BF16);
    let mut dtypes = ParamDtypes(Vec::new());
    copy.visit(&mut dtypes);
    assert!(!dtypes.0.is_empty() && dtypes.0.iter().all(|&d| d == DType::BF16), "{:?}", dtypes.0);
    let b = batch(cfg.conv_width(), &device).cast(DType::BF16);
    assert!([&b.reset, &b.prefix, &b.ones].iter().all(|t| t.dtype() == DType::BF16));
    assert!(b.conv_keep.iter().all(|t| t.dtype() == DType::BF16));
    assert_eq!(b.segments.dtype(), DType::F32, "segment ids stay exact");
    // The bf16 forward pass gives bf16 logits.
    assert_eq!(copy.forward(&b).dtype(), DType::BF16);
}

/// Every parameter's gradient, flattened in visiting order.
struct AllGradients<'a> {
    grads: &'a GradientsParams,
    found: Found,
}

/// The gradients' values, how many parameters had none, and the dtypes they came in.
#[derive(Default)]
struct Found {
    values: Vec<f32>,
    missing: usize,
    dtypes: Vec<DType>,
}

impl ModuleVisitor for AllGradients<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let found = &mut self.found;
        match self.grads.get::<D>(param.id) {
            Some(g) => {
                if !found.dtypes.contains(&g.dtype()) {
                    found.dtypes.push(g.dtype());
                }
                found.values.extend(g.into_data().convert::<f32>().try_to_vec::<f32>().unwrap());
            }
            None => found.missing += 1,
        }
    }
}

struct ParamDtypes(Vec<DType>);

impl ModuleVisitor for ParamDtypes {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.0.push(param.val().dtype());
    }
}

#[test]
fn names_parse_and_print_back() {
    for (name, want) in [("f32", Precision::F32), ("FP32", Precision::F32), ("bf16", Precision::Bf16)] {
        assert_eq!(name.parse::<Precision>().unwrap(), want);
    }
    assert_eq!(Precision::Bf16.to_string(), "bf16");
    assert_eq!(Precision::default(), Precision::F32);
    let err = "fp16".parse::<Precision>().unwrap_err().to_string();
    assert_eq!(err, "unknown precision \"fp16\": expected f32 or bf16");
}

#[test]
fn bf16_is_refused_on_wgpu_only() {
    for device in [DeviceChoice::Cpu, DeviceChoice::Cuda(0), DeviceChoice::Wgpu] {
        assert_eq!(Precision::F32.check(device), Ok(()));
    }
    assert_eq!(Precision::Bf16.check(DeviceChoice::Cpu), Ok(()));
    assert_eq!(Precision::Bf16.check(DeviceChoice::Cuda(1)), Ok(()));
    let err = Precision::Bf16.check(DeviceChoice::Wgpu).unwrap_err().to_string();
    assert!(err.contains("bf16 is not available on the wgpu device"), "{err}");
}
