//! The hand-written backward of the fused minGRU scan, for `Autodiff<Flex>`.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::autodiff::Autodiff;
use burn::backend::flex::FlexTensor;
use burn::backend::tensor::FloatTensor;
use burn::backend::Flex;

use super::{flex, MinGruBackend};

#[derive(Debug)]
struct MinGruBackward;

impl Backward<Flex, 1> for MinGruBackward {
    /// (inputs, h)
    type State = (flex::Inputs, FlexTensor);

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _checkpointer: &mut Checkpointer) {
        let g = grads.consume::<Flex>(&ops.node);
        let (inputs, h) = ops.state;
        let [parent] = ops.parents;
        if let Some(node) = parent {
            grads.register::<Flex>(node.id, flex::backward(&inputs, &g, &h));
        }
    }
}

type T<C> = FloatTensor<Autodiff<Flex, C>>;

impl<C: CheckpointStrategy> MinGruBackend for Autodiff<Flex, C> {
    fn min_gru_forward(z: T<C>, reset: T<C>) -> T<C> {
        let inputs = flex::Inputs::new(z.primitive(), reset.primitive());
        match MinGruBackward.prepare::<C>([z.node()]).compute_bound().stateful() {
            OpsKind::Tracked(prep) => {
                let h = flex::forward(&inputs);
                prep.finish((inputs, h.clone()), h)
            }
            OpsKind::UnTracked(prep) => prep.finish(flex::forward(&inputs)),
        }
    }
}
