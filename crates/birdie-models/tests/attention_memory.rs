//! The fused attention keeps no `[seq, seq]` tensor: at T = 2048 the peak heap of a forward and backward pass stays
//! below half of one T × T f32 matrix, while the tensor-op reference (bias, scores, probabilities) needs several.
//! Heap use is counted by this test binary's global allocator, so the file holds this one test.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use birdie_models::ops::{masked_attention, masked_attention_reference, AttentionMask};
use birdie_models::test_values::Lcg;
use burn::prelude::*;

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to the system allocator unchanged; the counters only observe sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::SeqCst) + layout.size();
            PEAK.fetch_max(live, Ordering::SeqCst);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        LIVE.fetch_sub(layout.size(), Ordering::SeqCst);
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Peak heap bytes above the start of one forward and backward pass of `attend` at `[1, 1, t, 64]`.
fn peak_bytes(
    attend: fn(Tensor<4>, Tensor<4>, Tensor<4>, Tensor<2>, Tensor<2>, AttentionMask) -> Tensor<4>,
    t: usize,
) -> usize {
    let device = Device::flex().autodiff();
    let mut g = Lcg(7);
    let mut input = || Tensor::<4>::from_data(TensorData::new(g.vec(t * 64, -1.0, 1.0), [1, 1, t, 64]), &device);
    let (q, k, v) = (input().require_grad(), input().require_grad(), input().require_grad());
    let segments = Tensor::<2>::ones([1, t], &device);
    let prefix = Tensor::<2>::from_data(
        TensorData::new((0..t).map(|i| if i < t / 2 { 1.0f32 } else { 0.0 }).collect(), [1, t]),
        &device,
    );
    let start = LIVE.load(Ordering::SeqCst);
    PEAK.store(start, Ordering::SeqCst);
    let out = attend(q.clone(), k.clone(), v.clone(), segments, prefix, AttentionMask::PrefixLm);
    let grads = out.sum().backward();
    let peak = PEAK.load(Ordering::SeqCst) - start;
    assert!(q.grad(&grads).is_some() && k.grad(&grads).is_some() && v.grad(&grads).is_some());
    peak
}

#[test]
fn no_seq_by_seq_tensor_at_2048() {
    let t = 2048;
    let square = t * t * 4;
    let reference = peak_bytes(masked_attention_reference, t);
    let fused = peak_bytes(masked_attention, t);
    eprintln!("peak heap at T = {t}: fused {fused} B, reference {reference} B, one T×T f32 matrix {square} B");
    assert!(reference >= 2 * square, "the reference should hold several T×T matrices (the count is off): {reference}");
    assert!(fused < square / 2, "the fused attention peaked at {fused} B, a T×T matrix is {square} B");
}
