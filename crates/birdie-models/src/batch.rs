//! `SequenceBatch`: a packed batch (design §2) as the tensors the models read.
//!
//! Built from plain arrays (the packed format's `input_ids`, `label_ids`, `segment_ids`, `attention_mask`), so this
//! crate does not depend on the data pipeline. Derived once per batch: segment resets for the scans, the prefix mask
//! (attention_mask = 1) that lets reverse states flow, and the per-tap masks that keep the causal convolution inside
//! each packed sample (design §2.5).

use std::sync::Arc;

use burn::prelude::*;
use burn::tensor::DType;

use crate::ops::linear_scan::resets_from_segments;

/// Model inputs for one packed batch.
#[derive(Debug, Clone)]
pub struct SequenceBatch {
    pub batch: usize,
    pub seq: usize,
    /// Token ids `[batch, seq]`.
    pub tokens: Tensor<2, Int>,
    /// Labels, row-major, −100 = no loss (pre-shifted: position t is scored against `labels[t]`).
    pub labels: Arc<Vec<i32>>,
    /// 1.0 where a segment starts `[batch, seq]`.
    pub reset: Tensor<2>,
    /// 1.0 in the bidirectional prefix (attention_mask = 1) `[batch, seq]`.
    pub prefix: Tensor<2>,
    /// All ones `[batch, seq]` (transition mask of causal scans).
    pub ones: Tensor<2>,
    /// For tap k = 1, 2, …: 1.0 where position t − k lies in the same segment as t, `[batch, seq, 1]`.
    pub conv_keep: Vec<Tensor<3>>,
    /// Segment ids as f32 `[batch, seq]` (exact below 2²⁴; the attention mask reads them on the device).
    pub segments: Tensor<2>,
}

impl SequenceBatch {
    /// # Panics
    /// If the arrays are not all `batch × seq` long.
    #[allow(clippy::too_many_arguments)] // the four packed arrays, their shape, the conv width and the device
    pub fn new(
        input_ids: &[i32],
        label_ids: &[i32],
        segment_ids: &[i32],
        attention_mask: &[i32],
        batch: usize,
        seq: usize,
        conv_width: usize,
        device: &Device,
    ) -> Self {
        let n = batch * seq;
        for (name, len) in [
            ("input_ids", input_ids.len()),
            ("label_ids", label_ids.len()),
            ("segment_ids", segment_ids.len()),
            ("attention_mask", attention_mask.len()),
        ] {
            assert_eq!(len, n, "{name} has {len} values, expected {batch} × {seq}");
        }
        let f2 = |v: Vec<f32>| Tensor::<2>::from_data(TensorData::new(v, [batch, seq]), device);
        let tokens = Tensor::<2, Int>::from_data(
            TensorData::new(input_ids.iter().map(|&x| x as i64).collect::<Vec<_>>(), [batch, seq]),
            device,
        );
        let prefix: Vec<f32> = attention_mask.iter().map(|&m| if m == 1 { 1.0 } else { 0.0 }).collect();
        let conv_keep = (1..conv_width.max(1))
            .map(|k| {
                let keep: Vec<f32> = (0..n)
                    .map(|i| {
                        let t = i % seq;
                        if t >= k && segment_ids[i - k] == segment_ids[i] {
                            1.0
                        } else {
                            0.0
                        }
                    })
                    .collect();
                Tensor::<3>::from_data(TensorData::new(keep, [batch, seq, 1]), device)
            })
            .collect();
        SequenceBatch {
            batch,
            seq,
            tokens,
            labels: Arc::new(label_ids.to_vec()),
            reset: f2(resets_from_segments(segment_ids, batch, seq)),
            prefix: f2(prefix),
            ones: Tensor::<2>::ones([batch, seq], device),
            conv_keep,
            segments: f2(segment_ids.iter().map(|&s| s as f32).collect()),
        }
    }

    /// The batch with its masks in `dtype`, the dtype of the activations they multiply (`crate::Precision`).
    /// The segment ids stay f32: bf16 holds integers exactly only up to 256, and the attention kernels read them
    /// in f32.
    pub fn cast(&self, dtype: DType) -> SequenceBatch {
        SequenceBatch {
            reset: self.reset.clone().cast(dtype),
            prefix: self.prefix.clone().cast(dtype),
            ones: self.ones.clone().cast(dtype),
            conv_keep: self.conv_keep.iter().map(|k| k.clone().cast(dtype)).collect(),
            ..self.clone()
        }
    }
}
