"""Banded convolutions equal the untiled ops within float tolerance, with and without oneDNN."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from magiceraser.lama.tiling import Tiling

TINY = Tiling(budget=2048)  # forces bands of one or a few rows


@pytest.fixture(params=[True, False], ids=["onednn", "no-onednn"])
def onednn(request, monkeypatch):
    monkeypatch.setattr(torch.backends.mkldnn, "enabled", request.param)


@pytest.mark.parametrize("kernel,stride,padding,reflect", [(7, 1, 3, True), (3, 2, 1, True), (3, 1, 1, True),
                                                           (3, 2, 1, False), (7, 1, 0, True)])
@pytest.mark.parametrize("height", [37, 40])
@pytest.mark.parametrize("c_in,c_out", [(5, 6), (6, 3)], ids=["im2col", "shift-sum"])
def test_conv2d_bands_equal_whole(onednn, kernel, stride, padding, reflect, height, c_in, c_out):
    torch.manual_seed(0)
    conv = nn.Conv2d(c_in, c_out, kernel, stride, bias=True)
    x = torch.rand(1, c_in, height, 29)
    mode = "reflect" if reflect else "constant"
    expected = conv(F.pad(x, (padding,) * 4, mode=mode) if padding else x)
    with torch.inference_mode():
        got = TINY.conv2d(x, conv, padding, reflect)
    assert got.shape == expected.shape
    torch.testing.assert_close(got, expected.detach(), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("height", [9, 16, 23])
def test_conv_transpose_bands_equal_whole(onednn, height):
    torch.manual_seed(0)
    up = nn.ConvTranspose2d(6, 4, 3, stride=2, padding=1, output_padding=1)
    x = torch.rand(1, 6, height, 13)
    with torch.inference_mode():
        expected = up(x)
        got = TINY.conv_transpose2d(x, up)
    assert got.shape == expected.shape
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)


def test_no_budget_means_one_call():
    conv = nn.Conv2d(2, 2, 3)
    assert Tiling(None).rows_per_band(10**9, 100) == 100
    assert TINY.rows_per_band(1024, 100) == 2
    assert TINY.rows_per_band(10**6, 100) == 1
    x = torch.rand(1, 2, 8, 8)
    torch.testing.assert_close(Tiling(None).conv2d(x, conv, 1), conv(F.pad(x, (1,) * 4, mode="reflect")))


def test_streamed_buffers_band_at_the_work_set_and_winograd_only_at_the_budget():
    tiling = Tiling(budget=10**6, work_set=1024)
    assert tiling.rows_per_band(512, 100, streamed=True) == 2  # im2col/col2im: cache-sized bands
    assert tiling.rows_per_band(512, 100) == 100  # Winograd buffers: only the memory budget applies
    assert Tiling(None, work_set=1024).rows_per_band(512, 100, streamed=True) == 100  # oneDNN: never tiled
    conv = nn.Conv2d(3, 8, 7)
    x = torch.rand(1, 3, 30, 20)
    with torch.inference_mode():
        got = Tiling(budget=10**9, work_set=4096).conv2d(x, conv, 3)
    torch.testing.assert_close(got, conv(F.pad(x, (3,) * 4, mode="reflect")), atol=1e-5, rtol=1e-5)
