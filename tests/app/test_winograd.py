"""Winograd F(4x4, 3x3) convs equal the direct conv, whole or in bands."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from magiceraser.lama.runner import tiling_for
from magiceraser.lama.tiling import DEFAULT_BUDGET, Tiling
from magiceraser.lama.winograd import conv3x3, ffc_conv3x3, transform_weight


@pytest.mark.parametrize("batch,c_in,c_out,height,width", [
    (1, 1, 1, 3, 3),        # one output pixel: a single, mostly padded tile
    (1, 3, 5, 4, 7),        # output 2x5: smaller than a tile
    (2, 4, 6, 9, 13),       # batch > 1, output not a multiple of the tile
    (1, 8, 2, 37, 29),
    (1, 384, 128, 21, 23),  # big-lama FFC widths (g2l)
    (1, 128, 384, 18, 18),  # (l2g), output a multiple of the tile
])
@pytest.mark.parametrize("bias", [True, False])
def test_equals_direct_conv(batch, c_in, c_out, height, width, bias):
    torch.manual_seed(0)
    conv = nn.Conv2d(c_in, c_out, 3, bias=bias)
    x = torch.randn(batch, c_in, height, width)
    reference = F.conv2d(x.double(), conv.weight.double(), None if conv.bias is None else conv.bias.double())
    with torch.inference_mode():
        got = conv3x3(x, transform_weight(conv.weight), conv.bias)
    assert got.shape == reference.shape and got.dtype == x.dtype and got.is_contiguous()
    torch.testing.assert_close(got.double(), reference, atol=2e-5 * max(1.0, reference.abs().max().item()), rtol=0)


@pytest.mark.parametrize("pad", [(1, 1, 1, 1), (1, 1, 1, 0), (1, 1, 0, 1), (2, 3, 3, 2), (0, 2, 0, 0)])
@pytest.mark.parametrize("mode", ["reflect", "constant"])
def test_padding_is_applied_while_tiles_are_cut(pad, mode):
    """Whole-image and band paddings (top or bottom only), wider ones, both modes: as F.pad + conv."""
    torch.manual_seed(2)
    conv = nn.Conv2d(5, 7, 3, bias=True)
    x = torch.randn(2, 5, 11, 9)
    reference = F.conv2d(F.pad(x.double(), pad, mode=mode), conv.weight.double(), conv.bias.double())
    with torch.inference_mode():
        got = conv3x3(x, transform_weight(conv.weight), conv.bias, pad, mode)
    assert got.shape == reference.shape and got.is_contiguous()
    torch.testing.assert_close(got.double(), reference, atol=2e-5 * reference.abs().max().item(), rtol=0)


@pytest.mark.parametrize("budget", [None, 4096], ids=["whole", "bands"])
@pytest.mark.parametrize("reflect", [True, False])
def test_tiling_uses_winograd_for_3x3_stride_1(monkeypatch, budget, reflect):
    monkeypatch.setattr(torch.backends.mkldnn, "enabled", False)
    torch.manual_seed(1)
    conv = nn.Conv2d(16, 24, 3, bias=False)
    x = torch.rand(1, 16, 41, 35)
    expected = conv(F.pad(x, (1,) * 4, mode="reflect" if reflect else "constant"))
    calls = []
    monkeypatch.setattr("magiceraser.lama.tiling.conv3x3", lambda *a: calls.append(a) or conv3x3(*a))
    with torch.inference_mode():
        got = Tiling(budget, winograd=True).conv2d(x, conv, 1, reflect)
    assert calls and (len(calls) > 1) == (budget is not None)
    torch.testing.assert_close(got, expected.detach(), atol=2e-5, rtol=1e-5)


def test_other_convs_keep_their_path(monkeypatch):
    """Stride-2 and 7x7 convs are not Winograd F(4x4, 3x3) material."""
    monkeypatch.setattr("magiceraser.lama.tiling.conv3x3",
                        lambda *a: pytest.fail("Winograd used for a non-3x3/stride-1 conv"))
    tiling = Tiling(None, winograd=True)
    for conv in (nn.Conv2d(4, 6, 3, stride=2), nn.Conv2d(4, 6, 7)):
        x = torch.rand(1, 4, 20, 20)
        torch.testing.assert_close(tiling.conv2d(x, conv, 1), conv(F.pad(x, (1,) * 4, mode="reflect")))


def test_engine_without_onednn_uses_winograd_and_onednn_does_not():
    assert tiling_for(mkldnn=False).winograd
    if torch.backends.mkldnn.is_available():
        assert not tiling_for(mkldnn=True).winograd


@pytest.mark.parametrize("budget", [DEFAULT_BUDGET, 20000, None], ids=["shared tiles", "bands", "no winograd"])
@pytest.mark.parametrize("biases", [(True, False, True), (False, True, False), (True, True, True)],
                         ids=["folded", "g2l only", "all"])
def test_an_ffc_s_three_convs_equal_them_one_by_one(monkeypatch, budget, biases):
    """(l2l(x_l) + g2l(x_g), l2g(x_l)) with x_l's tiles shared, whole or banded, as the direct convs."""
    torch.manual_seed(3)
    l2l, l2g, g2l = (nn.Conv2d(c_in, c_out, 3, bias=bias) for (c_in, c_out), bias
                     in zip(((6, 5), (6, 11), (9, 5)), biases, strict=True))
    x_l, x_g = torch.randn(1, 6, 23, 19), torch.randn(1, 9, 23, 19)

    def direct(conv, x):
        return F.conv2d(F.pad(x.double(), (1,) * 4, mode="reflect"), conv.weight.double(),
                        None if conv.bias is None else conv.bias.double())

    shared = []
    monkeypatch.setattr("magiceraser.lama.tiling.ffc_conv3x3", lambda *a: shared.append(a) or ffc_conv3x3(*a))
    with torch.inference_mode():
        got_l, got_g = Tiling(budget, winograd=budget is not None).ffc_convs(x_l, x_g, l2l, l2g, g2l, 1)
    assert bool(shared) == (budget == DEFAULT_BUDGET)
    for got, expected in ((got_l, direct(l2l, x_l) + direct(g2l, x_g)), (got_g, direct(l2g, x_l))):
        assert got.shape == expected.shape
        torch.testing.assert_close(got.double(), expected, atol=2e-5 * expected.abs().max().item(), rtol=0)
