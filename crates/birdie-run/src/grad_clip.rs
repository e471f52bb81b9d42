//! Gradient clipping by the global norm over all parameters (burn's own clipping is per parameter tensor).

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::prelude::*;

/// Scales every gradient of `module` in `grads` by `min(1, max_norm / ‖g‖)`, ‖g‖ the L2 norm over all of them;
/// returns ‖g‖ before clipping.
pub fn clip_global_norm<M: Module>(grads: &mut GradientsParams, module: &M, max_norm: f64) -> f64 {
    struct SumSquares<'a> {
        grads: &'a GradientsParams,
        total: f64,
    }
    impl ModuleVisitor for SumSquares<'_> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            if let Some(g) = self.grads.get::<D>(param.id) {
                self.total += f64::from(g.clone().mul(g).sum().into_scalar::<f32>());
            }
        }
    }
    struct Scale<'a> {
        grads: &'a mut GradientsParams,
        factor: f32,
    }
    impl ModuleVisitor for Scale<'_> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            if let Some(g) = self.grads.remove::<D>(param.id) {
                self.grads.register::<D>(param.id, g.mul_scalar(self.factor));
            }
        }
    }
    let mut sum = SumSquares { grads, total: 0.0 };
    module.visit(&mut sum);
    let norm = sum.total.sqrt();
    if norm.is_finite() && norm > max_norm && max_norm > 0.0 {
        module.visit(&mut Scale { grads, factor: (max_norm / norm) as f32 });
    }
    norm
}

/// One optimiser update of `module` from `grads`: the global-norm clip, then `optim`'s step at `lr`. A gradient norm
/// that is not finite (an overflow somewhere in the backward pass) applies nothing: the parameters and the
/// optimiser's moments stay as they were, and the caller counts the step as a bad one, like a non-finite loss.
/// Returns the module, ‖g‖ before clipping and whether the update was applied.
pub fn clipped_step<M: Module>(
    optim: &mut ModuleOptimizer,
    lr: f64,
    module: M,
    mut grads: GradientsParams,
    max_norm: f64,
) -> (M, f64, bool) {
    let norm = clip_global_norm(&mut grads, &module, max_norm);
    if !norm.is_finite() {
        return (module, norm, false);
    }
    (optim.step(lr, module, grads), norm, true)
}

#[cfg(test)]
mod tests {
    use birdie_models::{HawkConfig, Model, SequenceBatch};

    use super::*;
    use crate::config::OptimizerConfig;

    fn params(model: &Model) -> Vec<f32> {
        struct All(Vec<f32>);
        impl ModuleVisitor for All {
            fn visit_float<const D: usize>(&mut self, p: &Param<Tensor<D>>) {
                self.0.extend(p.val().into_data().try_to_vec::<f32>().unwrap());
            }
        }
        let mut all = All(Vec::new());
        model.visit(&mut all);
        all.0
    }

    /// Multiplies the gradient of the first parameter by `factor`.
    fn scale_first(grads: &mut GradientsParams, model: &Model, factor: f32) {
        struct First<'a>(&'a mut GradientsParams, f32, bool);
        impl ModuleVisitor for First<'_> {
            fn visit_float<const D: usize>(&mut self, p: &Param<Tensor<D>>) {
                if !self.2 {
                    let g = self.0.remove::<D>(p.id).expect("every parameter has a gradient");
                    self.0.register::<D>(p.id, g.mul_scalar(self.1));
                    self.2 = true;
                }
            }
        }
        model.visit(&mut First(grads, factor, false));
    }

    #[test]
    fn non_finite_gradient_norm_skips_the_update() {
        let device = Device::flex().autodiff();
        let cfg = OptimizerConfig { lr: 1e-2, betas: [0.9, 0.95], eps: 1e-8, weight_decay: 0.1, grad_clip: 1.0 };
        let batch = SequenceBatch::new(&[1, 2, 3, 4], &[2, 3, 4, 5], &[1; 4], &[3; 4], 1, 4, 4, &device);
        for (factor, applied) in [(f32::NAN, false), (f32::INFINITY, false), (1.0, true)] {
            let model = Model::Hawk(HawkConfig::new(20, 8, 6, 1).init(&device));
            let before = params(&model);
            let loss = model.loss(&batch);
            assert!(f64::from(loss.clone().into_scalar::<f32>()).is_finite());
            let mut grads = GradientsParams::from_grads(loss.backward(), &model);
            scale_first(&mut grads, &model, factor);
            let mut optim = crate::optimizer::adamw(&cfg);
            let (model, norm, was_applied) = clipped_step(&mut optim, cfg.lr, model, grads, cfg.grad_clip);
            assert_eq!(was_applied, applied, "gradient × {factor}: norm {norm}");
            assert_eq!(norm.is_finite(), applied, "gradient × {factor}: norm {norm}");
            let after = params(&model);
            assert!(after.iter().all(|v| v.is_finite()), "gradient × {factor}: a parameter is not finite");
            if applied {
                assert_ne!(before, after, "a finite gradient moves the parameters");
            } else {
                assert_eq!(before, after, "gradient × {factor}: the parameters moved");
                // Nor did the optimiser's moments: its state is a fresh optimiser's.
                let fresh = crate::optimizer::adamw(&cfg).to_record().into_bytes().unwrap();
                assert_eq!(optim.to_record().into_bytes().unwrap(), fresh, "gradient × {factor}: moments recorded");
            }
        }
    }
}
