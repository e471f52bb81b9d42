//! The one hand-written backward of the fused attention, for `Autodiff<B>` over any backend `B` with its kernels.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::autodiff::Autodiff;
use burn::backend::tensor::FloatTensor;
use burn::backend::AutodiffBackend;

use super::{AttentionBackend, AttentionMask};

#[derive(Debug)]
struct AttentionBackward(AttentionMask);

/// What the backward keeps: the inputs, the output and each row's log-sum-exp (no scores).
#[derive(Debug, Clone)]
struct Saved<B: AttentionBackend> {
    q: FloatTensor<B>,
    k: FloatTensor<B>,
    v: FloatTensor<B>,
    segments: FloatTensor<B>,
    prefix: FloatTensor<B>,
    out: FloatTensor<B>,
    lse: FloatTensor<B>,
}

impl<B: AttentionBackend> Backward<B, 3> for AttentionBackward {
    type State = Saved<B>;

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _checkpointer: &mut Checkpointer) {
        let g = grads.consume::<B>(&ops.node);
        let Saved { q, k, v, segments, prefix, out, lse } = ops.state;
        let (dq, dk, dv) = B::attention_backward(g, q, k, v, segments, prefix, out, lse, self.0);
        for (node, grad) in ops.parents.into_iter().zip([dq, dk, dv]) {
            if let Some(node) = node {
                grads.register::<B>(node.id, grad);
            }
        }
    }
}

type T<B, C> = FloatTensor<Autodiff<B, C>>;

impl<B: AttentionBackend, C: CheckpointStrategy> AttentionBackend for Autodiff<B, C> {
    fn attention_forward(
        q: T<B, C>,
        k: T<B, C>,
        v: T<B, C>,
        segments: T<B, C>,
        prefix: T<B, C>,
        mask: AttentionMask,
    ) -> (T<B, C>, T<B, C>) {
        let prepared = AttentionBackward(mask).prepare::<C>([q.node(), k.node(), v.node()]);
        let (q, k, v) = (q.into_primitive(), k.into_primitive(), v.into_primitive());
        let (segments, prefix) = (segments.into_primitive(), prefix.into_primitive());
        match prepared.compute_bound().stateful() {
            OpsKind::Tracked(prep) => {
                let (out, lse) =
                    B::attention_forward(q.clone(), k.clone(), v.clone(), segments.clone(), prefix.clone(), mask);
                let saved = Saved { q, k, v, segments, prefix, out: out.clone(), lse: lse.clone() };
                (prep.finish(saved, out), Autodiff::<B, C>::from_inner(lse))
            }
            OpsKind::UnTracked(prep) => {
                let (out, lse) = B::attention_forward(q, k, v, segments, prefix, mask);
                (prep.finish(out), Autodiff::<B, C>::from_inner(lse))
            }
        }
    }

    fn attention_backward(
        g: T<B, C>,
        q: T<B, C>,
        k: T<B, C>,
        v: T<B, C>,
        segments: T<B, C>,
        prefix: T<B, C>,
        out: T<B, C>,
        lse: T<B, C>,
        mask: AttentionMask,
    ) -> (T<B, C>, T<B, C>, T<B, C>) {
        let (dq, dk, dv) = B::attention_backward(
            g.into_primitive(),
            q.into_primitive(),
            k.into_primitive(),
            v.into_primitive(),
            segments.into_primitive(),
            prefix.into_primitive(),
            out.into_primitive(),
            lse.into_primitive(),
            mask,
        );
        (Autodiff::<B, C>::from_inner(dq), Autodiff::<B, C>::from_inner(dk), Autodiff::<B, C>::from_inner(dv))
    }
}
