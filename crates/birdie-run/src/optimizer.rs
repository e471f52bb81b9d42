//! The trainer's AdamW with the spec's weight-decay exclusions: no decay on the RG-LRU's parameters (Λ and its gate
//! projections W_a, W_x), the Gated SSM's forget-gate projection W_f, norm gains and biases.

use burn::module::ParamGroup;
use burn::optim::{AdamWConfig, ModuleOptimizer};

use crate::config::OptimizerConfig;

/// Parameter paths (as `Hawk.blocks.0.rec.lambda`) that take no weight decay.
pub const NO_DECAY: &str = r"(\.gamma$|\.bias$|\.conv_bias$|\.lambda$|\.rec\.w_a\.|\.rec\.w_x\.|\.w_f\.)";

/// Whether the parameter at `path` takes weight decay.
pub fn decays(path: &str) -> bool {
    !excluded(path)
}

/// The plain-code twin of [`NO_DECAY`] (the test checks the optimizer against it).
fn excluded(path: &str) -> bool {
    path.ends_with(".gamma")
        || path.ends_with(".bias")
        || path.ends_with(".conv_bias")
        || path.ends_with(".lambda")
        || path.contains(".rec.w_a.")
        || path.contains(".rec.w_x.")
        || path.contains(".w_f.")
}

/// AdamW over the whole module, with a decay-free group for [`NO_DECAY`].
pub fn adamw(cfg: &OptimizerConfig) -> ModuleOptimizer {
    let base = AdamWConfig::new()
        .with_beta_1(cfg.betas[0] as f32)
        .with_beta_2(cfg.betas[1] as f32)
        .with_epsilon(cfg.eps as f32);
    let group = ParamGroup::from_regex(NO_DECAY).expect("NO_DECAY is a valid pattern");
    base.clone().with_weight_decay(cfg.weight_decay as f32).init().with_group(
        group,
        base.with_weight_decay(0.0).build(),
        None,
    )
}

#[cfg(test)]
mod tests {
    use birdie_models::{GatedSsmConfig, HawkConfig, SequenceBatch};
    use burn::module::{Module, ModuleVisitor, Param};
    use burn::optim::GradientsParams;
    use burn::prelude::*;

    use super::*;

    #[test]
    fn exclusions_by_path() {
        for p in [
            "Hawk.blocks.0.rec.lambda",
            "Hawk.blocks.1.rec.w_a.weight",
            "Hawk.blocks.1.rec.w_x.bias",
            "Hawk.norm.gamma",
            "GatedSsm.blocks.2.w_f.weight",
            "GatedSsm.blocks.2.w_i.bias",
            "Hawk.blocks.0.rec.conv_bias",
        ] {
            assert!(!decays(p), "{p}");
        }
        for p in [
            "Hawk.blocks.0.rec.input.weight",
            "Hawk.embed.weight",
            "Hawk.head.weight",
            "GatedSsm.blocks.0.w_i.weight",
            "Hawk.blocks.0.rec.conv_weight",
            "Hawk.blocks.0.mlp.up.weight",
        ] {
            assert!(decays(p), "{p}");
        }
    }

    /// With zero gradients AdamW only decays: decayed parameters shrink by lr·wd, excluded ones stay.
    #[test]
    fn the_optimizer_decays_exactly_the_decayed_group() {
        struct Snap(Vec<(String, Vec<f32>)>, Vec<String>);
        impl ModuleVisitor for Snap {
            fn enter_module(&mut self, name: &str, _: &str) {
                self.1.push(name.into());
            }
            fn exit_module(&mut self, _: &str, _: &str) {
                self.1.pop();
            }
            fn visit_float<const D: usize>(&mut self, p: &Param<Tensor<D>>) {
                self.0.push((self.1.join("."), p.val().into_data().try_to_vec::<f32>().unwrap()));
            }
        }
        let device = Device::flex().autodiff();
        let cfg = OptimizerConfig { lr: 1.0, betas: [0.9, 0.95], eps: 1e-8, weight_decay: 0.5, grad_clip: 1.0 };
        for model in [
            birdie_models::Model::Hawk(HawkConfig::new(20, 8, 6, 1).init(&device)),
            birdie_models::Model::GatedSsm(GatedSsmConfig::new(20, 8, 6, 1).init(&device)),
        ] {
            let batch =
                SequenceBatch::new(&[1, 2, 3, 4], &[2, 3, 4, 5], &[1; 4], &[3; 4], 1, 4, model.conv_width(), &device);
            let mut before = Snap(Vec::new(), Vec::new());
            model.visit(&mut before);
            let grads = GradientsParams::from_grads((model.loss(&batch) * 0.0).backward(), &model);
            let mut optim = adamw(&cfg);
            let model = optim.step(0.1, model, grads);
            let mut after = Snap(Vec::new(), Vec::new());
            model.visit(&mut after);
            for ((path, a), (_, b)) in before.0.iter().zip(&after.0) {
                let factor = if decays(path) { 0.95 } else { 1.0 };
                for (x, y) in a.iter().zip(b) {
                    assert!((x * factor - y).abs() <= 1e-6 * (1.0 + x.abs()), "{path}: {x} → {y}, expected ×{factor}");
                }
            }
        }
    }
}
