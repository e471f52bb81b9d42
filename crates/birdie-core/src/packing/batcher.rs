//! `Batcher`: `batch_size` rows filled best-fit (design §2.4): a sample goes to the fullest row that can take it.

use super::{PackError, PackedBatch, Packer, SegmentInfo};

/// Rows of one batch under construction.
#[derive(Debug, Clone)]
pub struct Batcher {
    rows: Vec<Packer>,
    seq_len: usize,
    segments: Vec<SegmentInfo>,
}

impl Batcher {
    pub fn new(batch_size: usize, seq_len: usize, start_of_generation: u32) -> Self {
        Batcher {
            rows: (0..batch_size).map(|_| Packer::new(seq_len, start_of_generation)).collect(),
            seq_len,
            segments: Vec::new(),
        }
    }

    /// The largest free space of any row: the budget for the next sample.
    pub fn max_remaining(&self) -> usize {
        self.rows.iter().map(Packer::remaining).max().unwrap_or(0)
    }

    /// Free positions over all rows.
    pub fn total_remaining(&self) -> usize {
        self.rows.iter().map(Packer::remaining).sum()
    }

    /// Adds a sample to the fullest row with room (ties: the lowest row index); returns the row.
    pub fn add(&mut self, input: &[u32], label: &[u32], arm: usize) -> Result<usize, PackError> {
        let needed = input.len() + label.len();
        let row = (0..self.rows.len())
            .filter(|&r| self.rows[r].remaining() >= needed)
            .min_by_key(|&r| (self.rows[r].remaining(), r))
            .ok_or(PackError::NoSpace { needed, remaining: self.max_remaining() })?;
        let start = self.rows[row].add(input, label)?;
        self.segments.push(SegmentInfo { row, start, input_len: input.len(), label_len: label.len(), arm });
        Ok(row)
    }

    /// Emits the batch and empties the rows.
    pub fn take(&mut self) -> PackedBatch {
        let mut batch = PackedBatch::empty(self.rows.len(), self.seq_len);
        for (r, row) in self.rows.iter_mut().enumerate() {
            row.write_into(&mut batch, r);
            row.clear();
        }
        batch.segments = std::mem::take(&mut self.segments);
        batch
    }

    /// True when no sample has been added since the last [`Batcher::take`].
    pub fn is_empty(&self) -> bool {
        self.segments.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packing::IGNORE_INDEX;

    /// The reference's packer conformance example (its test_packer_batcher.py; design §2.2), exact arrays.
    #[test]
    fn golden_spec_2_3() {
        let mut b = Batcher::new(1, 16, 99);
        b.add(&[1, 2, 3], &[4, 5], 0).unwrap();
        b.add(&[6, 7], &[8, 9, 10], 0).unwrap();
        b.add(&[11], &[12], 0).unwrap();
        assert_eq!(b.max_remaining(), 4);
        let batch = b.take();
        let x = IGNORE_INDEX;
        assert_eq!(batch.input_ids, [1, 2, 3, 99, 4, 6, 7, 99, 8, 9, 11, 99, 0, 0, 0, 0]);
        assert_eq!(batch.label_ids, [x, x, x, 4, 5, x, x, 8, 9, 10, x, 12, x, x, x, x]);
        assert_eq!(batch.segment_ids, [1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 3, 3, 0, 0, 0, 0]);
        assert_eq!(batch.attention_mask, [1, 1, 1, 3, 3, 1, 1, 3, 3, 3, 1, 3, 0, 0, 0, 0]);
        assert_eq!(batch.position_ids, [0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1, 0, 0, 0, 0]);
        assert_eq!(batch.segments.len(), 3);
    }

    #[test]
    fn best_fit_picks_the_fullest_row_that_fits() {
        let mut b = Batcher::new(3, 10, 2);
        assert_eq!(b.add(&[5; 3], &[6; 3], 0).unwrap(), 0); // rows: 4, 10, 10 left
        assert_eq!(b.add(&[5; 4], &[6; 2], 0).unwrap(), 1); // does not fit row 0 → row 1 (4, 4, 10)
        assert_eq!(b.add(&[5; 2], &[6; 2], 0).unwrap(), 0); // both 4 left → lowest index
        assert_eq!(b.max_remaining(), 10);
        assert!(matches!(b.add(&[5; 6], &[6; 5], 0), Err(PackError::NoSpace { needed: 11, .. })));
        let batch = b.take();
        assert_eq!(batch.row(&batch.segment_ids, 0), [1, 1, 1, 1, 1, 1, 2, 2, 2, 2]);
        assert!(b.is_empty());
        assert_eq!(b.max_remaining(), 10);
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use crate::packing::IGNORE_INDEX;
    use proptest::prelude::*;

    proptest! {
        /// Rows never overflow, segments restart at 1 per row and never straddle rows, labels sit exactly on the
        /// mask-3 positions, and every added sample is found back in its row.
        #[test]
        fn batcher_invariants(samples in prop::collection::vec((1usize..40, 1usize..40), 1..60), rows in 1usize..5) {
            let seq = 64;
            let mut b = Batcher::new(rows, seq, 2);
            let mut added = Vec::new();
            for (n, m) in samples {
                let input: Vec<u32> = (0..n as u32).map(|i| 1000 + i).collect();
                let label: Vec<u32> = (0..m as u32).map(|i| 2000 + i).collect();
                if b.add(&input, &label, 0).is_ok() {
                    added.push((input, label));
                }
            }
            let batch = b.take();
            prop_assert_eq!(batch.segments.len(), added.len());
            for r in 0..rows {
                let seg = batch.row(&batch.segment_ids, r);
                let mask = batch.row(&batch.attention_mask, r);
                let lab = batch.row(&batch.label_ids, r);
                let mut next = 1;
                for p in 0..seq {
                    prop_assert_eq!(mask[p] == 3, lab[p] != IGNORE_INDEX);
                    if seg[p] != 0 && (p == 0 || seg[p - 1] != seg[p]) {
                        prop_assert_eq!(seg[p], next);
                        next += 1;
                    }
                }
            }
            for (info, (input, label)) in batch.segments.iter().zip(&added) {
                let o = info.row * seq + info.start;
                let ids: Vec<u32> = batch.input_ids[o..o + input.len()].iter().map(|&x| x as u32).collect();
                prop_assert_eq!(&ids, input);
                let labs: Vec<u32> = batch.label_ids[o + input.len()..o + input.len() + label.len()].iter().map(|&x| x as u32).collect();
                prop_assert_eq!(&labs, label);
                prop_assert_eq!(batch.input_ids[o + input.len()], 2);
            }
        }
    }
}
