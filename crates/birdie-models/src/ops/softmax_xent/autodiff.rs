//! The hand-written backward of the fused loss, for `Autodiff<Flex>`.

use std::sync::Arc;

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::autodiff::Autodiff;
use burn::backend::flex::FlexTensor;
use burn::backend::tensor::FloatTensor;
use burn::backend::Flex;

use super::{flex, CrossEntropyBackend};

#[derive(Debug)]
struct CrossEntropyBackward;

impl Backward<Flex, 1> for CrossEntropyBackward {
    /// (logits, labels, lse)
    type State = (FlexTensor, Arc<Vec<i32>>, Vec<f32>);

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _checkpointer: &mut Checkpointer) {
        let [node] = ops.parents;
        let g = grads.consume::<Flex>(&ops.node);
        let (z, labels, lse) = ops.state;
        if let Some(node) = node {
            grads.register::<Flex>(node.id, flex::backward(&g, &z, &labels, &lse));
        }
    }
}

impl<C: CheckpointStrategy> CrossEntropyBackend for Autodiff<Flex, C> {
    fn softmax_cross_entropy(logits: FloatTensor<Self>, labels: Arc<Vec<i32>>) -> FloatTensor<Self> {
        match CrossEntropyBackward.prepare::<C>([logits.node()]).compute_bound().stateful() {
            OpsKind::Tracked(prep) => {
                let z = logits.primitive().clone();
                let (loss, lse) = flex::forward(&z, &labels);
                prep.finish((z, labels, lse), loss)
            }
            OpsKind::UnTracked(prep) => prep.finish(flex::forward(logits.primitive(), &labels).0),
        }
    }
}
