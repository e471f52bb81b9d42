//! Validation batches (design §2.7, B8 fixed): for every arm, `rows` rows of the training shape built by the same
//! packer and objective parameters from the validation split, fixed once at start, so the controller compares each
//! arm's loss on like data at every evaluation.

use birdie_data::SpecialTokens;

use super::batch_filling::{build_batch, BuildContext};
use super::source::DocumentSource;
use super::stream::{Cursor, StreamReader};
use super::{PipelineConfig, PipelineError};
use crate::arm::Arm;
use crate::packing::PackedBatch;
use crate::rng::SampleRng;

/// RNG streams of validation batches live above this offset.
const VALIDATION_STREAM_BASE: u64 = 1 << 41;

/// One validation batch per arm (in arm order).
///
/// # Errors
/// An arm that cannot fill one validation row (no sample of it fits the sequence length from the validation text)
/// is refused, naming the arm and the sizes: its loss would be meaningless (a batch without label positions), and
/// a controller rewarded by it would be misled.
pub fn validation_batches(
    arms: &[Arm],
    specials: &SpecialTokens,
    source: &dyn DocumentSource,
    rows: usize,
    config: &PipelineConfig,
) -> Result<Vec<PackedBatch>, PipelineError> {
    if source.num_docs() == 0 {
        return Err(PipelineError::NoData { what: "the validation split is empty".into() });
    }
    let ctx = BuildContext {
        arms,
        specials,
        source,
        batch_size: rows,
        seq_len: config.seq_len,
        min_sample_budget: config.min_sample_budget,
        redraw_after: usize::MAX,
        max_consecutive_failures: config.max_consecutive_failures,
    };
    let mut out = Vec::with_capacity(arms.len());
    for a in 0..arms.len() {
        let mut weights = vec![0.0; arms.len()];
        weights[a] = 1.0;
        let stream = VALIDATION_STREAM_BASE + a as u64;
        let mut reader = StreamReader::new(config.seed ^ stream, 0, 1, source.num_docs(), Cursor::default());
        let mut rng = SampleRng::derive(config.seed, stream, 0);
        let refuse = |why: String| {
            PipelineError::Config(format!(
                "arm {a} (\"{}\", minimum sample {} tokens) cannot fill one validation row of {} tokens from the \
                 validation split ({} documents, {} tokens): {why}",
                arms[a].name,
                arms[a].min_budget(),
                config.seq_len,
                source.num_docs(),
                (0..source.num_docs()).map(|d| source.doc_len(d)).sum::<usize>(),
            ))
        };
        match build_batch(&ctx, &weights, &mut reader, &mut rng, 0) {
            Ok((batch, stats)) if stats[a].samples > 0 => out.push(batch),
            Ok(_) => return Err(refuse("no sample of it fits".into())),
            Err(PipelineError::TooManyFailures { detail, .. }) => return Err(refuse(detail)),
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}
