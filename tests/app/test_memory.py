"""Bounded memory without oneDNN (as on riscv64 torch): full-resolution layers never build a whole-image im2col.

Each check runs in its own interpreter; its peak RSS is that child's ru_maxrss from os.wait4.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

HEAD_AT_1080P = """
import torch
from torch import nn
from magiceraser.lama.tiling import Tiling
torch.backends.mkldnn.enabled = False
torch.manual_seed(0)
head = nn.Conv2d(64, 3, 7)  # big-lama's last layer: 26 GB of im2col at 1920x1080 when untiled
x = torch.rand(1, 64, 1080, 1920)
with torch.inference_mode():
    out = Tiling().conv2d(x, head, 3)
assert out.shape == (1, 3, 1080, 1920) and bool(torch.isfinite(out).all())
"""

TINY_FULL_FRAME = """
import numpy as np
from magiceraser.engine import load_engine
from magiceraser.strategy import InpaintOptions
engine = load_engine({model!r}, mkldnn=False, warm_up=False)
rgb = np.random.default_rng(0).integers(0, 256, (1080, 1920, 3), dtype=np.uint8)
mask = np.zeros((1080, 1920), bool)
mask[500:650, 900:1100] = True
out = engine.inpaint(rgb, mask, InpaintOptions(strategy="original"))
assert np.array_equal(out[~mask], rgb[~mask]) and engine.info()["mkldnn"] is False
"""


def peak_rss_mb(code: str) -> float:
    """Run ``code`` in a child interpreter and return its own peak RSS in MB."""
    with open(os.devnull, "w") as sink:
        proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], stdout=sink, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        error = proc.stderr.read().decode()
        proc.stderr.close()
    assert proc.returncode == 0, error
    return usage.ru_maxrss / 1024


@pytest.mark.slow
def test_big_lama_head_at_1080p_without_onednn_stays_small():
    # input 530 MB + output 25 MB + one band of im2col (<= 96 MB) + torch itself
    assert peak_rss_mb(HEAD_AT_1080P) < 1200


@pytest.mark.slow
def test_full_frame_1080p_without_onednn_is_bounded(lama_reference):
    # the tiny model untiled would need 8*49*4 B per pixel = 3.2 GB for its last conv alone
    assert peak_rss_mb(TINY_FULL_FRAME.format(model=str(lama_reference / "tiny-lama"))) < 1200
