//! The one hand-written backward of the scan, for `Autodiff<Flex>`.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::autodiff::Autodiff;
use burn::backend::flex::FlexTensor;
use burn::backend::tensor::FloatTensor;
use burn::backend::Flex;

use super::{flex, ScanBackend, ScanDirection};

#[derive(Debug)]
struct ScanBackward(ScanDirection);

impl Backward<Flex, 2> for ScanBackward {
    /// (a, reset, h)
    type State = (FlexTensor, FlexTensor, FlexTensor);

    fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, _checkpointer: &mut Checkpointer) {
        let [node_a, node_b] = ops.parents;
        let g = grads.consume::<Flex>(&ops.node);
        let (a, r, h) = ops.state;
        let (da, db) = flex::backward(&g, &a, &r, &h, self.0);
        if let Some(node) = node_a {
            grads.register::<Flex>(node.id, da);
        }
        if let Some(node) = node_b {
            grads.register::<Flex>(node.id, db);
        }
    }
}

fn scan<C: CheckpointStrategy>(
    a: FloatTensor<Autodiff<Flex, C>>,
    b: FloatTensor<Autodiff<Flex, C>>,
    reset: FloatTensor<Autodiff<Flex, C>>,
    dir: ScanDirection,
) -> FloatTensor<Autodiff<Flex, C>> {
    let r = reset.primitive().clone();
    match ScanBackward(dir).prepare::<C>([a.node(), b.node()]).compute_bound().stateful() {
        OpsKind::Tracked(prep) => {
            let av = a.primitive().clone();
            let h = flex::forward(&av, b.primitive(), &r, dir);
            prep.finish((av, r, h.clone()), h)
        }
        OpsKind::UnTracked(prep) => prep.finish(flex::forward(a.primitive(), b.primitive(), &r, dir)),
    }
}

impl<C: CheckpointStrategy> ScanBackend for Autodiff<Flex, C> {
    fn linear_scan_forward(a: FloatTensor<Self>, b: FloatTensor<Self>, reset: FloatTensor<Self>) -> FloatTensor<Self> {
        scan::<C>(a, b, reset, ScanDirection::Forward)
    }
    fn linear_scan_reverse(a: FloatTensor<Self>, b: FloatTensor<Self>, reset: FloatTensor<Self>) -> FloatTensor<Self> {
        scan::<C>(a, b, reset, ScanDirection::Reverse)
    }
}
