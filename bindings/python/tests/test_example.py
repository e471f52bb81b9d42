"""The PyTorch example trains with decreasing loss (when torch is installed)."""

import subprocess
import sys
from pathlib import Path

import pytest


def test_train_torch_example_loss_decreases():
    pytest.importorskip("torch", reason="torch is not installed: the PyTorch example cannot run")
    script = Path(__file__).resolve().parents[3] / "examples" / "python" / "train_torch.py"
    out = subprocess.run([sys.executable, str(script), "--steps", "20"], capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr
    assert "loss decreased" in out.stdout, out.stdout
