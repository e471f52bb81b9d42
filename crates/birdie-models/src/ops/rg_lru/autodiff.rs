//! The one hand-written backward of the fused RG-LRU, for `Autodiff<B>` over any backend `B` with its kernels.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::autodiff::Autodiff;
use burn::backend::tensor::FloatTensor;
use burn::backend::AutodiffBackend;

use super::super::linear_scan::ScanDirection;
use super::RgLruBackend;

#[derive(Debug)]
struct RgLruBackward(ScanDirection);

/// The op's inputs, kept for the backward (the gates are recomputed there, not stored).
#[derive(Debug, Clone)]
struct Inputs<B: RgLruBackend> {
    za: FloatTensor<B>,
    zx: FloatTensor<B>,
    x: FloatTensor<B>,
    lambda: FloatTensor<B>,
    reset: FloatTensor<B>,
    mask: FloatTensor<B>,
}

impl<B: RgLruBackend> Inputs<B> {
    fn forward(&self, direction: ScanDirection) -> FloatTensor<B> {
        let s = self.clone();
        B::rg_lru_forward(s.za, s.zx, s.x, s.lambda, s.reset, s.mask, direction)
    }
}

impl<B: RgLruBackend> Backward<B, 4> for RgLruBackward {
    /// (inputs, h)
    type State = (Inputs<B>, FloatTensor<B>);

    fn backward(self, ops: Ops<Self::State, 4>, grads: &mut Gradients, _checkpointer: &mut Checkpointer) {
        let g = grads.consume::<B>(&ops.node);
        let (Inputs { za, zx, x, lambda, reset, mask }, h) = ops.state;
        let (dza, dzx, dx, dlam) = B::rg_lru_backward(g, za, zx, x, lambda, reset, mask, h, self.0);
        for (node, grad) in ops.parents.into_iter().zip([dza, dzx, dx, dlam]) {
            if let Some(node) = node {
                grads.register::<B>(node.id, grad);
            }
        }
    }
}

type T<B, C> = FloatTensor<Autodiff<B, C>>;

impl<B: RgLruBackend, C: CheckpointStrategy> RgLruBackend for Autodiff<B, C> {
    fn rg_lru_forward(
        za: T<B, C>,
        zx: T<B, C>,
        x: T<B, C>,
        lambda: T<B, C>,
        reset: T<B, C>,
        transition_mask: T<B, C>,
        direction: ScanDirection,
    ) -> T<B, C> {
        let prepared = RgLruBackward(direction).prepare::<C>([za.node(), zx.node(), x.node(), lambda.node()]);
        let inputs = Inputs::<B> {
            za: za.into_primitive(),
            zx: zx.into_primitive(),
            x: x.into_primitive(),
            lambda: lambda.into_primitive(),
            reset: reset.into_primitive(),
            mask: transition_mask.into_primitive(),
        };
        match prepared.compute_bound().stateful() {
            OpsKind::Tracked(prep) => {
                let h = inputs.forward(direction);
                prep.finish((inputs, h.clone()), h)
            }
            OpsKind::UnTracked(prep) => prep.finish(inputs.forward(direction)),
        }
    }

    fn rg_lru_backward(
        g: T<B, C>,
        za: T<B, C>,
        zx: T<B, C>,
        x: T<B, C>,
        lambda: T<B, C>,
        reset: T<B, C>,
        transition_mask: T<B, C>,
        h: T<B, C>,
        direction: ScanDirection,
    ) -> (T<B, C>, T<B, C>, T<B, C>, T<B, C>) {
        let (dza, dzx, dx, dlam) = B::rg_lru_backward(
            g.into_primitive(),
            za.into_primitive(),
            zx.into_primitive(),
            x.into_primitive(),
            lambda.into_primitive(),
            reset.into_primitive(),
            transition_mask.into_primitive(),
            h.into_primitive(),
            direction,
        );
        (
            Autodiff::<B, C>::from_inner(dza),
            Autodiff::<B, C>::from_inner(dzx),
            Autodiff::<B, C>::from_inner(dx),
            Autodiff::<B, C>::from_inner(dlam),
        )
    }
}
