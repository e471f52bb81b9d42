//! The arithmetic a training step computes in (`[run] precision`): `f32` everywhere, or mixed `bf16`.
//!
//! Mixed bf16 (docs/gpu.md, "Precision"):
//!
//! ```text
//! masters θ (f32, what the optimiser updates and checkpoints hold)
//!   └─ cast → θ_bf16 inside the autodiff graph, each step     (∂L/∂θ = cast_f32(∂L/∂θ_bf16))
//! activations and matrix products: bf16
//! fused ops (scans, RG-LRU, attention, softmax cross-entropy): inputs widened to f32 at the kernel boundary,
//!   state and sums in f32, outputs narrowed back to bf16; the loss is f32
//! RMSNorm statistics and RoPE rotations: f32
//! ```
//!
//! The casts are differentiable, so one `backward` of the bf16 loss gives f32 gradients on the f32 masters, and the
//! optimiser, gradient clipping and checkpoints are the same as at f32.

use std::fmt;
use std::str::FromStr;

use burn::module::{Module, ModuleMapper, Param};
use burn::prelude::*;
use burn::tensor::DType;
use serde::{Deserialize, Serialize};

use crate::batch::SequenceBatch;
use crate::device::DeviceChoice;
use crate::model::Model;

/// A training step's arithmetic, as written on the command line or in a config (`[run] precision`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Precision {
    /// f32 everywhere.
    #[default]
    F32,
    /// bf16 activations and matrix products over f32 master weights; f32 scan state, softmax and loss.
    Bf16,
}

/// A precision name that is not one, or a precision the device cannot compute in.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum PrecisionError {
    #[error("unknown precision {0:?}: expected f32 or bf16")]
    Unknown(String),
    #[error(
        "precision bf16 is not available on the {device} device: its shaders (WGSL) have no bf16 type; train in f32 \
         there, or in bf16 on cuda or cpu"
    )]
    Unsupported { device: DeviceChoice },
}

impl fmt::Display for Precision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Precision::F32 => "f32",
            Precision::Bf16 => "bf16",
        })
    }
}

impl FromStr for Precision {
    type Err = PrecisionError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "f32" | "fp32" => Ok(Precision::F32),
            "bf16" => Ok(Precision::Bf16),
            _ => Err(PrecisionError::Unknown(s.to_string())),
        }
    }
}

impl TryFrom<String> for Precision {
    type Error = PrecisionError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Precision> for String {
    fn from(p: Precision) -> String {
        p.to_string()
    }
}

impl Precision {
    /// The dtype of activations and of the parameters' working copy.
    pub fn dtype(self) -> DType {
        match self {
            Precision::F32 => DType::F32,
            Precision::Bf16 => DType::BF16,
        }
    }

    /// Whether `device` computes in this precision: bf16 everywhere but wgpu.
    pub fn check(self, device: DeviceChoice) -> Result<(), PrecisionError> {
        match (self, device) {
            (Precision::Bf16, DeviceChoice::Wgpu) => Err(PrecisionError::Unsupported { device }),
            _ => Ok(()),
        }
    }

    /// The mean cross-entropy of `model` on `batch` in this precision (f32 either way). At bf16 the forward pass
    /// runs on a bf16 working copy of the parameters made inside the graph, so a `backward` of the result reaches
    /// `model`'s f32 parameters.
    pub fn loss(self, model: &Model, batch: &SequenceBatch) -> Tensor<1> {
        match self {
            Precision::F32 => model.loss(batch),
            Precision::Bf16 => working_copy(model, DType::BF16).loss(&batch.cast(DType::BF16)),
        }
    }
}

/// `model` with every float parameter cast to `dtype`; on an autodiff device the casts are recorded, so gradients
/// of the copy's outputs flow back to `model`'s parameters.
pub fn working_copy(model: &Model, dtype: DType) -> Model {
    struct Cast(DType);
    impl ModuleMapper for Cast {
        fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
            let dtype = self.0;
            param.map(|t| t.cast(dtype))
        }
    }
    model.clone().map(&mut Cast(dtype))
}

#[cfg(test)]
mod tests;
