//! The hand-written backward of the fused gated scan, for `Autodiff<Flex>`.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::autodiff::Autodiff;
use burn::backend::flex::FlexTensor;
use burn::backend::tensor::FloatTensor;
use burn::backend::Flex;

use super::super::linear_scan::ScanDirection;
use super::{flex, GatedScanBackend};

#[derive(Debug)]
struct GatedScanBackward(ScanDirection);

impl Backward<Flex, 3> for GatedScanBackward {
    /// (inputs, h)
    type State = (flex::Inputs, FlexTensor);

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _checkpointer: &mut Checkpointer) {
        let g = grads.consume::<Flex>(&ops.node);
        let (inputs, h) = ops.state;
        let dgrads = flex::backward(&inputs, &g, &h, self.0);
        for (node, grad) in ops.parents.into_iter().zip(dgrads) {
            if let Some(node) = node {
                grads.register::<Flex>(node.id, grad);
            }
        }
    }
}

type T<C> = FloatTensor<Autodiff<Flex, C>>;

fn run<C: CheckpointStrategy>(zf: T<C>, zi: T<C>, z: T<C>, reset: T<C>, mask: T<C>, dir: ScanDirection) -> T<C> {
    let inputs = flex::Inputs::new(zf.primitive(), zi.primitive(), z.primitive(), reset.primitive(), mask.primitive());
    match GatedScanBackward(dir).prepare::<C>([zf.node(), zi.node(), z.node()]).compute_bound().stateful() {
        OpsKind::Tracked(prep) => {
            let h = flex::forward(&inputs, dir);
            prep.finish((inputs, h.clone()), h)
        }
        OpsKind::UnTracked(prep) => prep.finish(flex::forward(&inputs, dir)),
    }
}

impl<C: CheckpointStrategy> GatedScanBackend for Autodiff<Flex, C> {
    fn gated_scan_forward(zf: T<C>, zi: T<C>, z: T<C>, reset: T<C>, transition_mask: T<C>) -> T<C> {
        run::<C>(zf, zi, z, reset, transition_mask, ScanDirection::Forward)
    }
    fn gated_scan_reverse(zf: T<C>, zi: T<C>, z: T<C>, reset: T<C>, transition_mask: T<C>) -> T<C> {
        run::<C>(zf, zi, z, reset, transition_mask, ScanDirection::Reverse)
    }
}
