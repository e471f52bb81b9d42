//! Where a packed batch enters a model.

use birdie_core::PackedBatch;
use birdie_models::{ModelError, SequenceBatch};
use burn::prelude::*;

/// The model inputs of a packed batch for a model of `vocab_size` ids: where a batch enters the model, so every token
/// and label id is checked against the vocabulary here (an id outside it would otherwise fail as an index panic in
/// the middle of a step).
///
/// # Errors
/// [`ModelError::TokenOutOfVocabulary`] naming the batch's largest id and the vocabulary size.
pub fn sequence_batch(
    b: &PackedBatch,
    conv_width: usize,
    vocab_size: usize,
    device: &Device,
) -> Result<SequenceBatch, ModelError> {
    let largest = b.input_ids.iter().chain(&b.label_ids).copied().max().unwrap_or(0);
    if largest >= 0 && largest as usize >= vocab_size {
        return Err(ModelError::TokenOutOfVocabulary { largest: largest as u32, vocab_size });
    }
    Ok(SequenceBatch::new(
        &b.input_ids,
        &b.label_ids,
        &b.segment_ids,
        &b.attention_mask,
        b.batch_size,
        b.seq_len,
        conv_width,
        device,
    ))
}

#[cfg(test)]
mod tests {
    use birdie_core::packing::Batcher;

    use super::*;

    #[test]
    fn token_ids_outside_the_vocabulary_are_a_typed_error_naming_both_sizes() {
        let device = Device::flex();
        let batch = |input: &[u32], label: &[u32]| {
            let mut b = Batcher::new(1, 8, 5);
            b.add(input, label, 0).unwrap();
            b.take()
        };
        // Ids up to vocab − 1 (the start-of-generation token 5 included) enter the model.
        assert!(sequence_batch(&batch(&[1, 2], &[3, 4]), 4, 6, &device).is_ok());
        // A prompt id and a label id past the vocabulary: the error names the largest id and the vocabulary size.
        for (input, label, largest) in [(&[1u32, 700][..], &[3u32][..], 700), (&[1, 2], &[3, 512], 512)] {
            let err = sequence_batch(&batch(input, label), 4, 512, &device).unwrap_err();
            assert_eq!(err, ModelError::TokenOutOfVocabulary { largest, vocab_size: 512 });
            let text = err.to_string();
            assert!(text.contains(&largest.to_string()) && text.contains("vocabulary of 512"), "{text}");
        }
    }
}
