//! `PackedBatch`: the plain-array batch that models and the trainer consume.

/// Label value of positions without loss.
pub const IGNORE_INDEX: i32 = -100;

/// Where one packed sample sits, and which arm made it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentInfo {
    pub row: usize,
    pub start: usize,
    pub input_len: usize,
    pub label_len: usize,
    /// Index of the arm in the mixture.
    pub arm: usize,
}

/// A batch of `batch_size` rows of `seq_len` positions, row-major, in the design §2.1 format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackedBatch {
    pub batch_size: usize,
    pub seq_len: usize,
    pub input_ids: Vec<i32>,
    pub label_ids: Vec<i32>,
    pub segment_ids: Vec<i32>,
    pub attention_mask: Vec<i32>,
    pub position_ids: Vec<i32>,
    /// The samples in the batch, in packing order.
    pub segments: Vec<SegmentInfo>,
}

impl PackedBatch {
    /// An all-padding batch.
    pub fn empty(batch_size: usize, seq_len: usize) -> Self {
        let n = batch_size * seq_len;
        PackedBatch {
            batch_size,
            seq_len,
            input_ids: vec![0; n],
            label_ids: vec![IGNORE_INDEX; n],
            segment_ids: vec![0; n],
            attention_mask: vec![0; n],
            position_ids: vec![0; n],
            segments: Vec::new(),
        }
    }

    /// Positions holding a sample (segment id ≠ 0).
    pub fn filled(&self) -> usize {
        self.segment_ids.iter().filter(|&&s| s != 0).count()
    }

    /// Positions with a label.
    pub fn label_count(&self) -> usize {
        self.label_ids.iter().filter(|&&l| l != IGNORE_INDEX).count()
    }

    /// Share of positions holding a sample.
    pub fn fill_rate(&self) -> f64 {
        self.filled() as f64 / (self.batch_size * self.seq_len).max(1) as f64
    }

    /// One row of a field.
    pub fn row<'a>(&self, field: &'a [i32], r: usize) -> &'a [i32] {
        &field[r * self.seq_len..(r + 1) * self.seq_len]
    }
}
