"""The Fourier unit's 2-D real FFT and its inverse, by whichever of two exact methods is faster here.

LaMa's global branch transforms a grid of H/8 x W/8 at every FFC layer (72 transforms a pass). The
windows this engine sees give grids like 51x57, whose prime factors (17, 19) FFT libraries handle
slowly: on this x86 host torch's FFT took 8.5 ms for a 192-channel 51x57 pair, while the same
transforms written as a DFT by matrix products (cos/sin matrices, one GEMM per axis) took 3.2 ms.
On power-of-two grids the FFT wins by 2-3x. Which one wins depends on the grid and on the
machine (MKL or pocketfft, vector BLAS or not), so each grid size is timed once, on its first
use, and the faster method is kept for that size for the life of the process. Both compute the
same transform (ortho norm, ``torch.fft.rfftn``/``irfftn`` over the last two dims); their float32
results differ by rounding only (~1e-6).

Layout in and out of the frequency domain is LaMa's: real and imaginary parts as separate
planes per channel, ``(N, 2C, H, W//2+1)`` with channel ``2c`` real and ``2c+1`` imaginary.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from functools import lru_cache

import torch

Method = Callable[..., torch.Tensor]
FORWARD_KEY, INVERSE_KEY = 0, 1
TRIALS = 3
REMEMBERED = 1024
#: (direction, input shape...) -> the method kept for it
_CHOSEN: dict[tuple[int, ...], str] = {}


@lru_cache(maxsize=64)
def _dft_matrices(h: int, w: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Forward along W (w, 2*wf), forward along H (2h, h), inverse along H (2h, 2h), inverse along W
    (2*wf, w); built in float64, ortho-scaled, rounded to float32 once."""
    wf = w // 2 + 1
    cols, freqs, rows = (torch.arange(n, dtype=torch.float64) for n in (w, wf, h))
    angle_w = 2 * math.pi * torch.outer(cols, freqs) / w
    along_w = torch.cat([torch.cos(angle_w), -torch.sin(angle_w)], 1) / math.sqrt(w)
    angle_h = 2 * math.pi * torch.outer(rows, rows) / h
    cos_h, sin_h = torch.cos(angle_h) / math.sqrt(h), torch.sin(angle_h) / math.sqrt(h)
    along_h = torch.cat([cos_h, sin_h], 0)
    back_h = torch.cat([torch.cat([cos_h, -sin_h], 1), torch.cat([sin_h, cos_h], 1)], 0)
    # irfft: bins 1..(w-1)//2 stand for themselves and their mirror image; DC and Nyquist do not
    weight = torch.full((wf,), 2.0, dtype=torch.float64)
    weight[0] = 1.0
    if w % 2 == 0:
        weight[-1] = 1.0
    angle_back = 2 * math.pi * torch.outer(freqs, cols) / w
    back_w = torch.cat([torch.cos(angle_back), -torch.sin(angle_back)], 0) * torch.cat([weight, weight])[:, None]
    return along_w.float(), along_h.float(), back_h.float(), (back_w / math.sqrt(w)).float()


def forward_fft(x: torch.Tensor) -> torch.Tensor:
    n, c, h, w = x.shape
    spec = torch.fft.rfftn(x, dim=(-2, -1), norm="ortho")
    return torch.stack((spec.real, spec.imag), dim=2).reshape(n, 2 * c, h, -1)


def forward_dft(x: torch.Tensor) -> torch.Tensor:
    """Along W: real rows times [cos | -sin]; along H: [cos; sin] times those, recombined into
    real = C Yr + S Yi and imaginary = C Yi - S Yr, written straight into LaMa's layout."""
    n, c, h, w = x.shape
    wf = w // 2 + 1
    along_w, along_h, _, _ = _dft_matrices(h, w)
    rows = (x.reshape(-1, w) @ along_w.to(x.dtype)).view(n * c, h, 2 * wf)
    cs = torch.matmul(along_h.to(x.dtype), rows).view(n * c, 2, h, 2 * wf)
    out = x.new_empty((n * c, 2, h, wf))
    torch.add(cs[:, 0, :, :wf], cs[:, 1, :, wf:], out=out[:, 0])
    torch.sub(cs[:, 0, :, wf:], cs[:, 1, :, :wf], out=out[:, 1])
    return out.view(n, 2 * c, h, wf)


def inverse_fft(spec: torch.Tensor, h: int, w: int) -> torch.Tensor:
    n, c2, _, wf = spec.shape
    planes = spec.view(n, c2 // 2, 2, h, wf)
    return torch.fft.irfftn(torch.complex(planes[:, :, 0], planes[:, :, 1]), s=(h, w), dim=(-2, -1), norm="ortho")


def inverse_dft(spec: torch.Tensor, h: int, w: int) -> torch.Tensor:
    """Along H: the complex inverse as one real (2h, 2h) matrix on the stacked planes; along W:
    [real | imaginary] rows times the folded cos/sin matrix (imaginary parts of DC and Nyquist
    ignored, as irfft does)."""
    n, c2, _, wf = spec.shape
    _, _, back_h, back_w = _dft_matrices(h, w)
    planes = torch.matmul(back_h.to(spec.dtype), spec.reshape(n * c2 // 2, 2 * h, wf))
    rows = planes.view(-1, 2, h, wf).transpose(1, 2).reshape(-1, 2 * wf)
    return (rows @ back_w.to(spec.dtype)).view(n, c2 // 2, h, w)


FORWARD: dict[str, Method] = {"fft": forward_fft, "dft": forward_dft}
INVERSE: dict[str, Method] = {"fft": inverse_fft, "dft": inverse_dft}


def _fastest(key: tuple[int, ...], methods: dict[str, Method], *args: object) -> torch.Tensor:
    """Run the method chosen for this shape. On the shape's first use, run each once (plans and
    matrices get built), then each ``TRIALS`` times in turn, and keep the one with the shortest run:
    a single timing of a few milliseconds on a thread pool can be off by more than the difference."""
    chosen = _CHOSEN.get(key)
    if chosen is not None:
        return methods[chosen](*args)
    results = {name: method(*args) for name, method in methods.items()}
    best: dict[str, float] = {}
    for _ in range(TRIALS):
        for name, method in methods.items():
            start = time.perf_counter()
            method(*args)
            best[name] = min(best.get(name, math.inf), time.perf_counter() - start)
    if len(_CHOSEN) >= REMEMBERED:
        del _CHOSEN[next(iter(_CHOSEN))]  # a long-running service sees many window sizes: forget the oldest
    _CHOSEN[key] = min(best, key=lambda name: best[name])
    return results[_CHOSEN[key]]


def rfft2(x: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) real -> (N, 2C, H, W//2+1) real/imaginary planes (ortho norm)."""
    return _fastest((FORWARD_KEY, *x.shape), FORWARD, x)


def irfft2(spec: torch.Tensor, h: int, w: int) -> torch.Tensor:
    """rfft2's inverse back to (N, C, h, w)."""
    return _fastest((INVERSE_KEY, *spec.shape, h, w), INVERSE, spec, h, w)


def chosen_methods() -> dict[tuple[int, ...], str]:
    """The method kept for each (direction, shape) seen so far (for benchmarks and tests)."""
    return dict(_CHOSEN)
