"""Convolutions in row bands with exact halos, so memory stays bounded without oneDNN.

torch builds without oneDNN (all riscv64 builds) run Conv2d through an im2col buffer of
C_in*k*k floats per output pixel: the last 7x7 conv of LaMa alone needs 26 GB at 1920x1080.
Cutting the output into bands of rows, each computed from exactly the input rows it depends on
(halo included, reflect padding applied only at the real image edge), gives the same result as
the untiled op while the buffer never exceeds ``budget`` bytes. Convs with fewer outputs than
inputs (the 7x7 head) skip im2col altogether: one GEMM to per-tap maps, then shifted sums. With
``winograd`` the 3x3 stride-1 convs (LaMa's FFC blocks, most of its work) skip it too (winograd.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .winograd import conv3x3, ffc_conv3x3, transform_weight

DEFAULT_BUDGET = 96 * 2**20
DEFAULT_WORK_SET = 4 * 2**20


@dataclass(frozen=True)
class Tiling:
    """How convs bound their work buffers.

    budget: largest buffer one conv call may allocate (None = never tile: the oneDNN path).
    work_set: band size for buffers that are written once and read once by the GEMM right after
    (im2col, col2im, per-tap maps): bands that stay in cache run the full-resolution layers faster
    than one big buffer (measured here: 4 MiB bands cut the time of the layers outside the FFC blocks
    by ~28 %).
    winograd: 3x3 stride-1 convs use Winograd F(4x4, 3x3) (4x fewer multiplies than im2col + GEMM)."""

    budget: int | None = DEFAULT_BUDGET
    winograd: bool = False
    work_set: int = DEFAULT_WORK_SET

    def rows_per_band(self, bytes_per_row: int, rows: int, streamed: bool = False) -> int:
        if self.budget is None:
            return rows
        limit = min(self.budget, self.work_set) if streamed else self.budget
        if bytes_per_row * rows <= limit:
            return rows
        return max(1, limit // bytes_per_row)

    def conv2d(self, x: torch.Tensor, conv: torch.nn.Conv2d, padding: int = 0, reflect: bool = True) -> torch.Tensor:
        """``conv`` (built with padding 0) applied after padding x by ``padding`` (reflect or zeros)."""
        return self._conv(x, conv.weight, conv.bias, conv.stride[0], padding, reflect)

    def _conv(self, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, stride: int, padding: int,
              reflect: bool) -> torch.Tensor:
        k = weight.shape[-1]
        n, c_in, h, w = x.shape
        c_out = weight.shape[0]
        h_out = (h + 2 * padding - k) // stride + 1
        mode = "reflect" if reflect else "constant"
        method = self._method(weight, stride, c_in)
        # floats per output pixel of the method's work buffer (Winograd: 36/16 per channel in and out)
        per_pixel = {"im2col": c_in * k * k, "shift-sum": c_out * k * k, "winograd": 3 * (c_in + c_out)}[method]
        band = self.rows_per_band(per_pixel * x.element_size() * n * (w + 2 * padding), h_out,
                                  streamed=method != "winograd")
        operand = transform_weight(weight) if method == "winograd" else weight
        return _in_bands(x, c_out, k, stride, padding, h_out if k == 1 else band,
                         lambda piece, pad: self._padded_conv(method, piece, pad, mode, operand, bias, stride))

    def ffc_convs(self, x_l: torch.Tensor, x_g: torch.Tensor, l2l: torch.nn.Conv2d, l2g: torch.nn.Conv2d,
                  g2l: torch.nn.Conv2d, padding: int) -> tuple[torch.Tensor, torch.Tensor]:
        """An FFC's convs of spatial kernels: (l2l(x_l) + g2l(x_g), l2g(x_l)), reflect-padded. In one
        band of Winograd 3x3 convs they share x_l's tiles (winograd.ffc_conv3x3); else one by one."""
        n, c_l, h, w = x_l.shape
        h_out = h + 2 * padding - 2
        channels = c_l + x_g.shape[1] + l2l.out_channels + l2g.out_channels
        winograd = all(self._method(conv.weight, conv.stride[0], conv.in_channels) == "winograd"
                       for conv in (l2l, l2g, g2l))
        shared = winograd and self.rows_per_band(3 * channels * x_l.element_size() * n * (w + 2 * padding),
                                                 h_out) >= h_out
        if not shared:
            return self.conv2d(x_l, l2l, padding).add_(self.conv2d(x_g, g2l, padding)), self.conv2d(x_l, l2g, padding)
        bias_l = l2l.bias if g2l.bias is None else g2l.bias if l2l.bias is None else l2l.bias + g2l.bias
        return ffc_conv3x3(x_l, x_g, transform_weight(l2l.weight), transform_weight(l2g.weight),
                           transform_weight(g2l.weight), bias_l, l2g.bias, (padding,) * 4, "reflect")

    def _method(self, weight: torch.Tensor, stride: int, c_in: int) -> str:
        k = weight.shape[-1]
        if self.winograd and stride == 1 and tuple(weight.shape[-2:]) == (3, 3):
            return "winograd"
        if self.budget is not None and stride == 1 and k > 1 and weight.shape[0] < c_in:
            return "shift-sum"
        return "im2col"

    @staticmethod
    def _padded_conv(method: str, x: torch.Tensor, pad: tuple[int, int, int, int], mode: str, operand: torch.Tensor,
                     bias: torch.Tensor | None, stride: int) -> torch.Tensor:
        """Conv of x padded by ``pad`` (left, right, top, bottom); ``operand`` is the weight, or its
        Winograd transform (which pads while it cuts tiles)."""
        if method == "winograd":
            return conv3x3(x, operand, bias, pad, mode)
        if any(pad):
            x = F.pad(x, pad, mode=mode)
        if method == "shift-sum":
            return _shift_sum_conv(x, operand, bias)
        return F.conv2d(x, operand, bias, stride)

    def conv_transpose2d(self, x: torch.Tensor, conv: torch.nn.ConvTranspose2d) -> torch.Tensor:
        """``conv(x)`` computed band by band; each output band reads the input rows that reach it."""
        weight, bias = conv.weight, conv.bias
        stride, pad, out_pad, k = conv.stride[0], conv.padding[0], conv.output_padding[0], weight.shape[-1]
        n, c_in, h, w = x.shape
        h_out = (h - 1) * stride - 2 * pad + k + out_pad
        w_out = (w - 1) * stride - 2 * pad + k + out_pad
        # col2im buffer: C_out*k*k per input pixel, i.e. per output row about that / stride
        per_row = weight.shape[1] * k * k * w * x.element_size() * n
        band = self.rows_per_band(max(1, per_row // stride), h_out, streamed=True)
        if band >= h_out:
            return conv(x)
        out = x.new_empty((n, weight.shape[1], h_out, w_out))
        for o0 in range(0, h_out, band):
            o1 = min(h_out, o0 + band)
            i0 = max(0, -(-(o0 + pad - k + 1) // stride))
            i1 = min(h, (o1 - 1 + pad) // stride + 1)
            full = F.conv_transpose2d(x[:, :, i0:i1], weight, None, stride, (0, pad), (0, out_pad))
            first = o0 + pad - i0 * stride
            rows = full[:, :, first:first + (o1 - o0)]
            out[:, :, o0:o0 + rows.shape[2]] = rows
            out[:, :, o0 + rows.shape[2]:o1] = 0  # rows past the last input only see output padding
        if bias is not None:
            out += bias.view(1, -1, 1, 1)
        return out


def _in_bands(x: torch.Tensor, c_out: int, k: int, stride: int, padding: int, band: int,
              conv: Callable[[torch.Tensor, tuple[int, int, int, int]], torch.Tensor]) -> torch.Tensor:
    """``conv(piece, (left, right, top, bottom) padding)`` over bands of ``band`` output rows, each
    from exactly the input rows that reach it (padding only at the real top and bottom edges)."""
    n, _, h, w = x.shape
    h_out = (h + 2 * padding - k) // stride + 1
    w_out = (w + 2 * padding - k) // stride + 1
    if band >= h_out:
        return conv(x, (padding,) * 4)
    out = x.new_empty((n, c_out, h_out, w_out))
    for o0 in range(0, h_out, band):
        o1 = min(h_out, o0 + band)
        start, stop = o0 * stride - padding, (o1 - 1) * stride + k - padding
        top, bottom = max(0, -start), max(0, stop - h)
        out[:, :, o0:o1] = conv(x[:, :, max(0, start):min(h, stop)], (padding, padding, top, bottom))
    return out


def _shift_sum_conv(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """Stride-1 valid conv as one GEMM to C_out*k*k maps, then k*k shifted sums.

    When C_out < C_in (LaMa's 64->3 7x7 head) the intermediate is C_out*k*k floats per pixel
    instead of im2col's C_in*k*k: 21x less memory traffic for the head, same multiply count."""
    n, c_in, h, w = x.shape
    c_out, _, kh, kw = weight.shape
    taps = weight.permute(2, 3, 0, 1).reshape(kh * kw * c_out, c_in)
    maps = torch.matmul(taps, x.reshape(n, c_in, h * w)).view(n, kh, kw, c_out, h, w)
    h_out, w_out = h - kh + 1, w - kw + 1
    out = maps[:, 0, 0, :, :h_out, :w_out].clone()
    for dy in range(kh):
        for dx in range(kw):
            if dy or dx:
                out += maps[:, dy, dx, :, dy:dy + h_out, dx:dx + w_out]
    if bias is not None:
        out += bias.view(1, -1, 1, 1)
    return out
