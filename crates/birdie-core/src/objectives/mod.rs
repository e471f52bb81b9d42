//! The Birdie pre-training objectives (design §1), operating on token ids.
//!
//! Every objective turns a prefix of a token stream into one training sample: an `input` (the bidirectional prefix
//! after packing) and a `label` (the teacher-forced, causal part), with `input.len() + label.len() ≤ budget`
//! because the packer stores both (design §1.0). It reports how many tokens it `consumed`, so the rest of a long
//! document stays token ids and becomes the next sample (design §7.3: never re-tokenize). Paradigm tokens are added
//! by the [`Arm`](crate::Arm), not here: objectives see the budget left after the paradigm token.
//!
//! Failures are per-sample ([`SampleError`]): the pipeline takes the next text or another arm, never stops (B5).

mod autoencoding;
mod copying;
mod deshuffling;
mod infilling;
mod next_token;
mod prefix_lm;
mod selective_copying;
mod spans;

pub use autoencoding::{AutoencodingObjective, AutoencodingParams};
pub use copying::{CopyingObjective, CopyingParams};
pub use deshuffling::{DeshufflingObjective, DeshufflingParams};
pub use infilling::{InfillingObjective, InfillingParams, Masker};
pub use next_token::{NextTokenObjective, NextTokenParams};
pub use prefix_lm::{PrefixLmObjective, PrefixLmParams};
pub use selective_copying::{FormatStyle, SelectiveCopyingObjective, SelectiveCopyingParams};

use birdie_data::SpecialTokens;

use crate::rng::SampleRng;

/// One training sample before packing.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Sample {
    /// Prefix tokens (bidirectional context after packing).
    pub input: Vec<u32>,
    /// Target tokens (causal, with loss).
    pub label: Vec<u32>,
    /// Tokens of the text used; the text from here on is the next sample's.
    pub consumed: usize,
}

/// Why one sample could not be made (recoverable: the pipeline moves on to other text or another arm).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SampleError {
    #[error("text too short: needs {needed} tokens, has {got}")]
    TooShort { needed: usize, got: usize },
    #[error("no space: budget {budget}, needs at least {needed}")]
    NoSpace { budget: usize, needed: usize },
    #[error("no span could be masked in {attempts} attempts")]
    NothingMasked { attempts: usize },
}

/// An objective: text tokens + budget → sample.
pub trait Objective {
    /// Builds one sample from the start of `tokens` within `budget` tokens (input + label).
    ///
    /// # Errors
    /// A [`SampleError`] when this text or budget cannot make a sample.
    fn apply(
        &self,
        tokens: &[u32],
        budget: usize,
        specials: &SpecialTokens,
        rng: &mut SampleRng,
    ) -> Result<Sample, SampleError>;

    /// The smallest budget (paradigm excluded) with which the objective can ever succeed.
    fn min_budget(&self) -> usize;

    /// The smallest budget (paradigm excluded) with which the objective never fails for lack of space on a long
    /// enough text. The pipeline draws an arm only where this much space is free, so a sample is never attempted
    /// where it would mostly fail; the default is [`Objective::min_budget`] (objectives that always fit there).
    fn reliable_budget(&self) -> usize {
        self.min_budget()
    }
}

/// The first `⌊budget / 2⌋` tokens of `tokens`, for objectives whose input and label both hold the text.
pub(crate) fn half_budget_text(tokens: &[u32], budget: usize) -> Result<&[u32], SampleError> {
    let k = budget / 2;
    if k == 0 {
        return Err(SampleError::NoSpace { budget, needed: 2 });
    }
    if tokens.is_empty() {
        return Err(SampleError::TooShort { needed: 1, got: 0 });
    }
    Ok(&tokens[..tokens.len().min(k)])
}

#[cfg(test)]
pub(crate) mod testing {
    //! Shared fixtures for objective tests.
    use birdie_data::SpecialTokens;

    /// Special ids laid out like the bundled tokenizer (ordinary text ids start at 530).
    pub fn specials() -> SpecialTokens {
        let all = birdie_data::special_tokens::all_special_tokens();
        birdie_data::special_tokens::SpecialTokens::from_ids(|t| all.iter().position(|s| s == t).map(|i| i as u32))
            .expect("all specials present")
    }

    /// First ordinary (non-special) id of [`specials`].
    pub const TEXT_BASE: u32 = 530;

    /// `n` distinct text ids.
    pub fn text(n: usize) -> Vec<u32> {
        (0..n as u32).map(|i| TEXT_BASE + i).collect()
    }
}
