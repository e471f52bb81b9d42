//! The one hand-written backward of the fused loss, for `Autodiff<B>` over any backend `B` with its kernels.

use std::sync::Arc;

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::autodiff::Autodiff;
use burn::backend::tensor::FloatTensor;
use burn::backend::AutodiffBackend;

use super::CrossEntropyBackend;

#[derive(Debug)]
struct CrossEntropyBackward;

impl<B: CrossEntropyBackend> Backward<B, 1> for CrossEntropyBackward {
    /// (logits, lse, labels)
    type State = (FloatTensor<B>, FloatTensor<B>, Arc<Vec<i32>>);

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _checkpointer: &mut Checkpointer) {
        let [node] = ops.parents;
        let g = grads.consume::<B>(&ops.node);
        let (z, lse, labels) = ops.state;
        if let Some(node) = node {
            grads.register::<B>(node.id, B::softmax_cross_entropy_backward(g, z, lse, labels));
        }
    }
}

type T<B, C> = FloatTensor<Autodiff<B, C>>;

impl<B: CrossEntropyBackend, C: CheckpointStrategy> CrossEntropyBackend for Autodiff<B, C> {
    fn softmax_cross_entropy_forward(logits: T<B, C>, labels: Arc<Vec<i32>>) -> (T<B, C>, T<B, C>) {
        let prepared = CrossEntropyBackward.prepare::<C>([logits.node()]);
        let z = logits.into_primitive();
        match prepared.compute_bound().stateful() {
            OpsKind::Tracked(prep) => {
                let (loss, lse) = B::softmax_cross_entropy_forward(z.clone(), labels.clone());
                (prep.finish((z, lse.clone(), labels), loss), Autodiff::<B, C>::from_inner(lse))
            }
            OpsKind::UnTracked(prep) => {
                let (loss, lse) = B::softmax_cross_entropy_forward(z, labels);
                (prep.finish(loss), Autodiff::<B, C>::from_inner(lse))
            }
        }
    }

    fn softmax_cross_entropy_backward(g: T<B, C>, logits: T<B, C>, lse: T<B, C>, labels: Arc<Vec<i32>>) -> T<B, C> {
        Autodiff::<B, C>::from_inner(B::softmax_cross_entropy_backward(
            g.into_primitive(),
            logits.into_primitive(),
            lse.into_primitive(),
            labels,
        ))
    }
}
