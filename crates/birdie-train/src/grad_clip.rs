//! Gradient clipping by the global norm over all parameters (burn's own clipping is per parameter tensor).

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::GradientsParams;
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
