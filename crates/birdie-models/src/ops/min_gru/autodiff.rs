//! The one hand-written backward of the fused minGRU scan, for `Autodiff<B>` over any backend `B` with its kernels.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::autodiff::Autodiff;
use burn::backend::tensor::FloatTensor;
use burn::backend::AutodiffBackend;

use super::MinGruBackend;

#[derive(Debug)]
struct MinGruBackward;

impl<B: MinGruBackend> Backward<B, 1> for MinGruBackward {
    /// (z, reset, h)
    type State = (FloatTensor<B>, FloatTensor<B>, FloatTensor<B>);

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _checkpointer: &mut Checkpointer) {
        let g = grads.consume::<B>(&ops.node);
        let (z, reset, h) = ops.state;
        let [parent] = ops.parents;
        if let Some(node) = parent {
            grads.register::<B>(node.id, B::min_gru_backward(g, z, reset, h));
        }
    }
}

type T<B, C> = FloatTensor<Autodiff<B, C>>;

impl<B: MinGruBackend, C: CheckpointStrategy> MinGruBackend for Autodiff<B, C> {
    fn min_gru_forward(z: T<B, C>, reset: T<B, C>) -> T<B, C> {
        let prepared = MinGruBackward.prepare::<C>([z.node()]);
        let (z, reset) = (z.into_primitive(), reset.into_primitive());
        match prepared.compute_bound().stateful() {
            OpsKind::Tracked(prep) => {
                let h = B::min_gru_forward(z.clone(), reset.clone());
                prep.finish((z, reset, h.clone()), h)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::min_gru_forward(z, reset)),
        }
    }

    fn min_gru_backward(g: T<B, C>, z: T<B, C>, reset: T<B, C>, h: T<B, C>) -> T<B, C> {
        Autodiff::<B, C>::from_inner(B::min_gru_backward(
            g.into_primitive(),
            z.into_primitive(),
            reset.into_primitive(),
            h.into_primitive(),
        ))
    }
}
