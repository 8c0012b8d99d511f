"""3x3 stride-1 convolutions by Winograd's minimal filtering, F(4x4, 3x3).

Without oneDNN (every riscv64 torch) a conv is im2col + one GEMM: 9 multiplies per input channel,
output channel and pixel. LaMa spends most of its time in the 3x3 convs of its 18 FFC blocks, and
F(4x4, 3x3) computes each 4x4 output tile from a 6x6 input tile with 36 multiplies instead of
144: the GEMM work shrinks 4x. The input and output transforms (one small GEMM each) cost about as
much again in torch, so a conv runs 2-3x faster, not 4x (docs/benchmarks.md). The transforms are
the classic ones (interpolation points 0, +-1, +-2, infinity, Lavin & Gray 2016); in float32 a
conv at big-lama widths stays within ~2e-5 of a float64 reference (the direct conv: ~2e-6), and the
reference tiny model's output stays within 1.5e-6 of golden.npz.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

TILE = 4  # output tile side m; the input tile is m + 2
_BT = [[4, 0, -5, 0, 1, 0],
       [0, -4, -4, 1, 1, 0],
       [0, 4, -4, -1, 1, 0],
       [0, -2, -1, 2, 1, 0],
       [0, 2, -1, -2, 1, 0],
       [0, 4, 0, -5, 0, 1]]
_G = [[1 / 4, 0, 0],
      [-1 / 6, -1 / 6, -1 / 6],
      [-1 / 6, 1 / 6, -1 / 6],
      [1 / 24, 1 / 12, 1 / 6],
      [1 / 24, -1 / 12, 1 / 6],
      [0, 0, 1]]
_AT = [[1, 1, 1, 1, 1, 0],
       [0, 1, -1, 2, -2, 0],
       [0, 1, 1, 4, 4, 0],
       [0, 1, -1, 8, -8, 1]]


def _kron(matrix: list[list[float]]) -> torch.Tensor:
    """The 2-D transform X -> M X M^T as one matrix acting on row-major flattened tiles."""
    m = torch.tensor(matrix, dtype=torch.float64)
    return torch.kron(m, m).float()


#: The product whose output transform is 1 at all 16 outputs (column 1 of A^T is all ones): a bias
#: added there reaches every output pixel, at 1/16 of the cost of adding it to the output.
BIAS_PRODUCT = 1 * (TILE + 2) + 1
_INPUT = _kron(_BT)     # (36, 36): 6x6 input tile -> 36 products' inputs
_FILTER = _kron(_G)     # (36, 9): 3x3 filter -> 36 products' weights
_OUTPUT = _kron(_AT)    # (16, 36): 36 products -> 4x4 output tile


def transform_weight(weight: torch.Tensor) -> torch.Tensor:
    """(C_out, C_in, 3, 3) filter -> (36, C_in, C_out) Winograd-domain GEMM operands, as the
    transposed view of a (36, C_out, C_in) result: the filter is read in place (no reordered copy)
    and the GEMMs take the operand transposed (8-18 % faster for transform + bmm at big-lama widths).

    Computed per call, not cached: the transformed filters are 4x the size of big-lama's 3x3
    weights (~600 MB), while transforming them all costs well under 5 % of a forward pass."""
    c_out, c_in = weight.shape[:2]
    taps = weight.detach().reshape(c_out * c_in, 9).T
    return (_FILTER.to(weight.dtype) @ taps).view(36, c_out, c_in).transpose(1, 2)


def _tiled_input(x: torch.Tensor, pad: tuple[int, int, int, int], mode: str, rows: int, cols: int) -> torch.Tensor:
    """x padded by ``pad`` (left, right, top, bottom; "reflect" or "constant") inside one buffer of
    whole 6x6 tiles: a single copy of x instead of one per padding. The fringe past the padded
    image only reaches outputs that are cropped away; it is zeroed to keep it finite."""
    left, right, top, bottom = pad
    n, c, h, w = x.shape
    height, width = h + top + bottom, w + left + right
    buf = x.new_empty((n, c, rows * TILE + 2, cols * TILE + 2))
    buf[:, :, top:top + h, left:left + w] = x
    reflect = mode == "reflect"
    for i in range(top):
        buf[:, :, top - 1 - i, left:left + w] = x[:, :, i + 1] if reflect else 0
    for i in range(bottom):
        buf[:, :, top + h + i, left:left + w] = x[:, :, h - 2 - i] if reflect else 0
    for j in range(left):
        buf[:, :, :height, left - 1 - j] = buf[:, :, :height, left + 1 + j] if reflect else 0
    for j in range(right):
        buf[:, :, :height, left + w + j] = buf[:, :, :height, left + w - 2 - j] if reflect else 0
    buf[:, :, height:] = 0
    buf[:, :, :height, width:] = 0
    return buf


@dataclass(frozen=True)
class Tiles:
    """An input in the Winograd domain: ``v`` (36, tiles, C_in) and where its outputs go."""

    v: torch.Tensor
    n: int
    rows: int
    cols: int
    h_out: int
    w_out: int


def to_tiles(x: torch.Tensor, pad: tuple[int, int, int, int] = (0, 0, 0, 0), mode: str = "constant") -> Tiles:
    """x (N, C_in, H, W) padded by ``pad`` (left, right, top, bottom) in ``mode``, cut into 6x6 tiles
    4 apart and input-transformed."""
    n, c_in, h, w = x.shape
    h_out, w_out = h + pad[2] + pad[3] - 2, w + pad[0] + pad[1] - 2
    rows, cols = -(-h_out // TILE), -(-w_out // TILE)
    x = _tiled_input(x, pad, mode, rows, cols)
    tiles = x.unfold(2, TILE + 2, TILE).unfold(3, TILE + 2, TILE)  # (n, c, rows, cols, 6, 6), a view
    tiles = tiles.permute(4, 5, 0, 2, 3, 1).reshape(36, n * rows * cols * c_in)
    v = (_INPUT.to(x.dtype) @ tiles).view(36, n * rows * cols, c_in)
    return Tiles(v, n, rows, cols, h_out, w_out)


def from_tiles(products: torch.Tensor, tiles: Tiles, bias: torch.Tensor | None) -> torch.Tensor:
    """Products (36, tiles, C_out) + bias -> the (N, C_out, H_out, W_out) output."""
    if bias is not None:
        products[BIAS_PRODUCT] += bias
    c_out = products.shape[-1]
    y = (_OUTPUT.to(products.dtype) @ products.view(36, -1)).view(TILE, TILE, tiles.n, tiles.rows, tiles.cols, c_out)
    y = y.permute(2, 5, 3, 0, 4, 1).reshape(tiles.n, c_out, tiles.rows * TILE, tiles.cols * TILE)
    return y[:, :, :tiles.h_out, :tiles.w_out].contiguous()


def conv3x3(x: torch.Tensor, u: torch.Tensor, bias: torch.Tensor | None,
            pad: tuple[int, int, int, int] = (0, 0, 0, 0), mode: str = "constant") -> torch.Tensor:
    """Stride-1 3x3 conv of x (N, C_in, H, W) padded by ``pad`` (left, right, top, bottom) in
    ``mode``, with ``transform_weight`` output u.

    Equals ``F.conv2d(F.pad(x, pad, mode=mode), weight, bias)`` up to float rounding."""
    tiles = to_tiles(x, pad, mode)
    return from_tiles(torch.bmm(tiles.v, u), tiles, bias)  # the 4x fewer multiplies live in bmm


def ffc_conv3x3(x_l: torch.Tensor, x_g: torch.Tensor, u_l2l: torch.Tensor, u_l2g: torch.Tensor, u_g2l: torch.Tensor,
                bias_l: torch.Tensor | None, bias_g: torch.Tensor | None, pad: tuple[int, int, int, int] = (0, 0, 0, 0),
                mode: str = "constant") -> tuple[torch.Tensor, torch.Tensor]:
    """An FFC's three 3x3 convs: (l2l(x_l) + g2l(x_g), l2g(x_l)). x_l is cut into tiles once for
    both of its convs, and the local sum is taken among the products, before one output transform."""
    local, global_ = to_tiles(x_l, pad, mode), to_tiles(x_g, pad, mode)
    products = torch.bmm(local.v, u_l2l).baddbmm_(global_.v, u_g2l)
    return from_tiles(products, local, bias_l), from_tiles(torch.bmm(local.v, u_l2g), local, bias_g)
