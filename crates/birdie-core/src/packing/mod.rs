//! Packing samples into fixed-shape batches (design §2).
//!
//! A sample (input X of N tokens, label Y of M tokens) occupies N + M consecutive positions of a row:
//!
//! | positions | `input_ids` | `label_ids` | `attention_mask` |
//! |---|---|---|---|
//! | s .. s+N | X | −100 | 1 (prefix, bidirectional) |
//! | s+N .. s+N+M | start-of-generation, Y[..M−1] | Y | 3 (causal target) |
//!
//! Labels are pre-shifted: the logits at position t are scored against `label_ids[t]`. Every position of the sample
//! gets the row's next `segment_ids` value (1, 2, … restarting per row); `position_ids` restart at 0 per sample
//! (B21); padding is 0 everywhere except `label_ids` (−100).

mod batch;
mod batcher;
mod packer;

pub use batch::{PackedBatch, SegmentInfo, IGNORE_INDEX};
pub use batcher::Batcher;
pub use packer::{PackError, Packer};
