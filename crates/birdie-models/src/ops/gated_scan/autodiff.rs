//! The one hand-written backward of the fused gated scan, for `Autodiff<B>` over any backend `B` with its kernels.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::autodiff::Autodiff;
use burn::backend::tensor::FloatTensor;
use burn::backend::AutodiffBackend;

use super::super::linear_scan::ScanDirection;
use super::GatedScanBackend;

#[derive(Debug)]
struct GatedScanBackward(ScanDirection);

/// What the backward reads: the inputs (gates are recomputed, not stored) and the output.
#[derive(Debug, Clone)]
struct Saved<B: GatedScanBackend> {
    zf: FloatTensor<B>,
    zi: FloatTensor<B>,
    z: FloatTensor<B>,
    reset: FloatTensor<B>,
    mask: FloatTensor<B>,
    h: FloatTensor<B>,
}

impl<B: GatedScanBackend> Backward<B, 3> for GatedScanBackward {
    type State = Saved<B>;

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _checkpointer: &mut Checkpointer) {
        let g = grads.consume::<B>(&ops.node);
        let Saved { zf, zi, z, reset, mask, h } = ops.state;
        let (dzf, dzi, dz) = B::gated_scan_backward(g, zf, zi, z, reset, mask, h, self.0);
        for (node, grad) in ops.parents.into_iter().zip([dzf, dzi, dz]) {
            if let Some(node) = node {
                grads.register::<B>(node.id, grad);
            }
        }
    }
}

type T<B, C> = FloatTensor<Autodiff<B, C>>;

impl<B: GatedScanBackend, C: CheckpointStrategy> GatedScanBackend for Autodiff<B, C> {
    fn gated_scan_forward(
        zf: T<B, C>,
        zi: T<B, C>,
        z: T<B, C>,
        reset: T<B, C>,
        transition_mask: T<B, C>,
        direction: ScanDirection,
    ) -> T<B, C> {
        let prepared = GatedScanBackward(direction).prepare::<C>([zf.node(), zi.node(), z.node()]);
        let (zf, zi, z) = (zf.into_primitive(), zi.into_primitive(), z.into_primitive());
        let (reset, mask) = (reset.into_primitive(), transition_mask.into_primitive());
        match prepared.compute_bound().stateful() {
            OpsKind::Tracked(prep) => {
                let h =
                    B::gated_scan_forward(zf.clone(), zi.clone(), z.clone(), reset.clone(), mask.clone(), direction);
                prep.finish(Saved { zf, zi, z, reset, mask, h: h.clone() }, h)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::gated_scan_forward(zf, zi, z, reset, mask, direction)),
        }
    }

    fn gated_scan_backward(
        g: T<B, C>,
        zf: T<B, C>,
        zi: T<B, C>,
        z: T<B, C>,
        reset: T<B, C>,
        transition_mask: T<B, C>,
        h: T<B, C>,
        direction: ScanDirection,
    ) -> (T<B, C>, T<B, C>, T<B, C>) {
        let (dzf, dzi, dz) = B::gated_scan_backward(
            g.into_primitive(),
            zf.into_primitive(),
            zi.into_primitive(),
            z.into_primitive(),
            reset.into_primitive(),
            transition_mask.into_primitive(),
            h.into_primitive(),
            direction,
        );
        (Autodiff::<B, C>::from_inner(dzf), Autodiff::<B, C>::from_inner(dzi), Autodiff::<B, C>::from_inner(dz))
    }
}
