//! `Packer`: one row being filled with samples (design §2.2).

/// Why a sample could not be added.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PackError {
    #[error("empty input or label")]
    Empty,
    #[error("sample of {needed} tokens does not fit the {remaining} left in the row")]
    NoSpace { needed: usize, remaining: usize },
}

/// One row: `seq_len` positions written left to right.
#[derive(Debug, Clone)]
pub struct Packer {
    seq_len: usize,
    start_of_generation: i32,
    pub(crate) input_ids: Vec<i32>,
    pub(crate) label_ids: Vec<i32>,
    pub(crate) segment_ids: Vec<i32>,
    pub(crate) attention_mask: Vec<i32>,
    pub(crate) position_ids: Vec<i32>,
    segments: i32,
}

impl Packer {
    pub fn new(seq_len: usize, start_of_generation: u32) -> Self {
        Packer {
            seq_len,
            start_of_generation: start_of_generation as i32,
            input_ids: Vec::with_capacity(seq_len),
            label_ids: Vec::with_capacity(seq_len),
            segment_ids: Vec::with_capacity(seq_len),
            attention_mask: Vec::with_capacity(seq_len),
            position_ids: Vec::with_capacity(seq_len),
            segments: 0,
        }
    }

    /// Positions still free.
    pub fn remaining(&self) -> usize {
        self.seq_len - self.input_ids.len()
    }

    /// Positions used.
    pub fn used(&self) -> usize {
        self.input_ids.len()
    }

    /// Samples packed so far.
    pub fn num_segments(&self) -> usize {
        self.segments as usize
    }

    /// Appends a sample: `input` with mask 1 and no label, then start-of-generation + `label[..M-1]` with mask 3 and
    /// labels `label`. Returns the start position.
    pub fn add(&mut self, input: &[u32], label: &[u32]) -> Result<usize, PackError> {
        if input.is_empty() || label.is_empty() {
            return Err(PackError::Empty);
        }
        let needed = input.len() + label.len();
        if needed > self.remaining() {
            return Err(PackError::NoSpace { needed, remaining: self.remaining() });
        }
        let start = self.used();
        self.segments += 1;
        let seg = self.segments;
        self.input_ids.extend(input.iter().map(|&t| t as i32));
        self.input_ids.push(self.start_of_generation);
        self.input_ids.extend(label[..label.len() - 1].iter().map(|&t| t as i32));
        self.label_ids.extend(std::iter::repeat_n(super::IGNORE_INDEX, input.len()));
        self.label_ids.extend(label.iter().map(|&t| t as i32));
        self.segment_ids.extend(std::iter::repeat_n(seg, needed));
        self.attention_mask.extend(std::iter::repeat_n(1, input.len()));
        self.attention_mask.extend(std::iter::repeat_n(3, label.len()));
        self.position_ids.extend(0..needed as i32);
        Ok(start)
    }

    /// Writes the row, right-padded, into row `r` of `batch`.
    pub(crate) fn write_into(&self, batch: &mut super::PackedBatch, r: usize) {
        let o = r * self.seq_len;
        let n = self.used();
        batch.input_ids[o..o + n].copy_from_slice(&self.input_ids);
        batch.label_ids[o..o + n].copy_from_slice(&self.label_ids);
        batch.segment_ids[o..o + n].copy_from_slice(&self.segment_ids);
        batch.attention_mask[o..o + n].copy_from_slice(&self.attention_mask);
        batch.position_ids[o..o + n].copy_from_slice(&self.position_ids);
    }

    /// Empties the row.
    pub fn clear(&mut self) {
        self.input_ids.clear();
        self.label_ids.clear();
        self.segment_ids.clear();
        self.attention_mask.clear();
        self.position_ids.clear();
        self.segments = 0;
    }
}
