//! The hand-written backward of the fused RG-LRU, for `Autodiff<Flex>`.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::autodiff::Autodiff;
use burn::backend::flex::FlexTensor;
use burn::backend::tensor::FloatTensor;
use burn::backend::Flex;

use super::super::linear_scan::ScanDirection;
use super::{flex, RgLruBackend};

#[derive(Debug)]
struct RgLruBackward(ScanDirection);

impl Backward<Flex, 4> for RgLruBackward {
    /// (inputs, h)
    type State = (flex::Inputs, FlexTensor);

    fn backward(self, ops: Ops<Self::State, 4>, grads: &mut Gradients, _checkpointer: &mut Checkpointer) {
        let g = grads.consume::<Flex>(&ops.node);
        let (inputs, h) = ops.state;
        let (dza, dzx, dx, dlam) = flex::backward(&inputs, &g, &h, self.0);
        for (node, grad) in ops.parents.into_iter().zip([dza, dzx, dx, dlam]) {
            if let Some(node) = node {
                grads.register::<Flex>(node.id, grad);
            }
        }
    }
}

#[allow(clippy::too_many_arguments)] // the op's six tensors and its direction
fn run<C: CheckpointStrategy>(
    za: FloatTensor<Autodiff<Flex, C>>,
    zx: FloatTensor<Autodiff<Flex, C>>,
    x: FloatTensor<Autodiff<Flex, C>>,
    lambda: FloatTensor<Autodiff<Flex, C>>,
    reset: FloatTensor<Autodiff<Flex, C>>,
    mask: FloatTensor<Autodiff<Flex, C>>,
    dir: ScanDirection,
) -> FloatTensor<Autodiff<Flex, C>> {
    let inputs = flex::Inputs::new(
        za.primitive(),
        zx.primitive(),
        x.primitive(),
        lambda.primitive(),
        reset.primitive(),
        mask.primitive(),
    );
    match RgLruBackward(dir).prepare::<C>([za.node(), zx.node(), x.node(), lambda.node()]).compute_bound().stateful() {
        OpsKind::Tracked(prep) => {
            let h = flex::forward(&inputs, dir);
            prep.finish((inputs, h.clone()), h)
        }
        OpsKind::UnTracked(prep) => prep.finish(flex::forward(&inputs, dir)),
    }
}

impl<C: CheckpointStrategy> RgLruBackend for Autodiff<Flex, C> {
    fn rg_lru_forward(
        za: FloatTensor<Self>,
        zx: FloatTensor<Self>,
        x: FloatTensor<Self>,
        lambda: FloatTensor<Self>,
        reset: FloatTensor<Self>,
        transition_mask: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        run::<C>(za, zx, x, lambda, reset, transition_mask, ScanDirection::Forward)
    }
    fn rg_lru_reverse(
        za: FloatTensor<Self>,
        zx: FloatTensor<Self>,
        x: FloatTensor<Self>,
        lambda: FloatTensor<Self>,
        reset: FloatTensor<Self>,
        transition_mask: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        run::<C>(za, zx, x, lambda, reset, transition_mask, ScanDirection::Reverse)
    }
}
