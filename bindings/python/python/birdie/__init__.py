"""birdie: the Birdie pre-training procedure's objectives, deterministic data pipeline and reward-driven mixture
controller (Blouir et al., EMNLP 2024), for PyTorch and JAX trainers. The work is done in Rust (no ML framework is
linked); see ``Birdie`` and the package README."""

from ._native import BirdieError, __version__
from .birdie import BATCH_KEYS, Birdie, BirdieIterable, to_torch
from . import distributed
from .config import KNOWN_KEYS, PRESETS

__all__ = ["Birdie", "BirdieIterable", "BirdieError", "distributed", "BATCH_KEYS", "KNOWN_KEYS", "PRESETS", "to_torch", "__version__"]
