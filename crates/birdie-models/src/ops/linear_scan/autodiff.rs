//! The one hand-written backward of the scan, for `Autodiff<B>` over any backend `B` with the scan's kernels.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::autodiff::Autodiff;
use burn::backend::tensor::FloatTensor;
use burn::backend::AutodiffBackend;

use super::{ScanBackend, ScanDirection};

#[derive(Debug)]
struct ScanBackward(ScanDirection);

impl<B: ScanBackend> Backward<B, 2> for ScanBackward {
    /// (a, reset, h)
    type State = (FloatTensor<B>, FloatTensor<B>, FloatTensor<B>);

    fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, _checkpointer: &mut Checkpointer) {
        let [node_a, node_b] = ops.parents;
        let g = grads.consume::<B>(&ops.node);
        let (a, r, h) = ops.state;
        let (da, db) = B::linear_scan_backward(g, a, r, h, self.0);
        if let Some(node) = node_a {
            grads.register::<B>(node.id, da);
        }
        if let Some(node) = node_b {
            grads.register::<B>(node.id, db);
        }
    }
}

impl<B: ScanBackend, C: CheckpointStrategy> ScanBackend for Autodiff<B, C> {
    fn linear_scan_forward(
        a: FloatTensor<Self>,
        b: FloatTensor<Self>,
        reset: FloatTensor<Self>,
        direction: ScanDirection,
    ) -> FloatTensor<Self> {
        let r = reset.into_primitive();
        match ScanBackward(direction).prepare::<C>([a.node(), b.node()]).compute_bound().stateful() {
            OpsKind::Tracked(prep) => {
                let a = a.into_primitive();
                let h = B::linear_scan_forward(a.clone(), b.into_primitive(), r.clone(), direction);
                prep.finish((a, r, h.clone()), h)
            }
            OpsKind::UnTracked(prep) => {
                prep.finish(B::linear_scan_forward(a.into_primitive(), b.into_primitive(), r, direction))
            }
        }
    }

    fn linear_scan_backward(
        g: FloatTensor<Self>,
        a: FloatTensor<Self>,
        reset: FloatTensor<Self>,
        h: FloatTensor<Self>,
        direction: ScanDirection,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        let (da, db) = B::linear_scan_backward(
            g.into_primitive(),
            a.into_primitive(),
            reset.into_primitive(),
            h.into_primitive(),
            direction,
        );
        (Autodiff::<B, C>::from_inner(da), Autodiff::<B, C>::from_inner(db))
    }
}
