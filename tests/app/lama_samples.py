"""big-lama with random weights for tests and benches, its BatchNorm statistics drawn like a trained
model's (defaults of 1 and 0 would make a BN, and any mistake in folding it, invisible)."""

from __future__ import annotations

import torch

from magiceraser.lama.ffc import FFCResNetGenerator
from magiceraser.lama.tiling import Tiling
from magiceraser.lama.weights.config import BIG_LAMA


def trained_looking_big_lama(tiling: Tiling, seed: int = 0) -> FFCResNetGenerator:
    """Eval-mode big-lama: random conv weights (seed), BN weight U(0.5,1.5), bias N(0,0.1), running
    mean N(0,0.1), running variance U(0.5,1.5), as in the reference checkpoint (tests/data/lama)."""
    torch.manual_seed(seed)
    model = FFCResNetGenerator(BIG_LAMA, tiling).eval().requires_grad_(False)
    with torch.no_grad():
        for bn in (m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)):
            assert bn.running_mean is not None and bn.running_var is not None
            bn.weight.uniform_(0.5, 1.5), bn.bias.normal_(0, 0.1)
            bn.running_mean.normal_(0, 0.1), bn.running_var.uniform_(0.5, 1.5)
    return model
