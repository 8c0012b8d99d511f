"""The Fourier unit's two transform methods agree with torch.fft, the faster one is kept per shape,
and the generator matches the official outputs with either."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from magiceraser.lama import spectrum
from magiceraser.lama.loader import load_generator
from magiceraser.lama.tiling import Tiling


def _reference_forward(x: torch.Tensor) -> torch.Tensor:
    n, c, h, _ = x.shape
    spec = torch.fft.rfftn(x.double(), dim=(-2, -1), norm="ortho")
    return torch.stack((spec.real, spec.imag), dim=2).reshape(n, 2 * c, h, -1)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 2), c=st.integers(1, 5), h=st.integers(1, 40), w=st.integers(1, 40), seed=st.integers(0, 999))
def test_both_methods_are_the_ortho_real_fft(n: int, c: int, h: int, w: int, seed: int) -> None:
    """Odd and even widths (with and without a Nyquist bin), one-pixel grids, batches: both methods
    within float32 rounding of a float64 FFT, both ways; the inverse undoes the forward."""
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n, c, h, w, generator=generator)
    expected = _reference_forward(x)
    for name in ("fft", "dft"):
        spec = spectrum.FORWARD[name](x)
        assert spec.shape == expected.shape
        torch.testing.assert_close(spec.double(), expected, atol=2e-5, rtol=0)
        back = spectrum.INVERSE[name](spec, h, w)
        torch.testing.assert_close(back, x, atol=2e-5, rtol=0)


def test_inverse_ignores_what_irfft_ignores() -> None:
    """Imaginary parts of the DC and Nyquist bins do not exist in a real signal's spectrum; both
    methods drop them the way torch.fft.irfftn does."""
    h, w = 6, 8
    spec = torch.randn(1, 2, h, w // 2 + 1)
    torch.testing.assert_close(spectrum.inverse_dft(spec, h, w), spectrum.inverse_fft(spec, h, w), atol=1e-5, rtol=0)


def test_the_faster_method_is_kept_per_shape(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def slow(x: torch.Tensor) -> torch.Tensor:
        calls.append("slow")
        torch.mm(torch.ones(300, 300), torch.ones(300, 300))  # measurably slower
        return spectrum.forward_fft(x)

    def fast(x: torch.Tensor) -> torch.Tensor:
        calls.append("fast")
        return spectrum.forward_dft(x)

    monkeypatch.setattr(spectrum, "FORWARD", {"slow": slow, "fast": fast})
    monkeypatch.setattr(spectrum, "_CHOSEN", {})
    x = torch.randn(1, 3, 11, 13)
    spectrum.rfft2(x)
    assert sorted(calls) == ["fast"] * (1 + spectrum.TRIALS) + ["slow"] * (1 + spectrum.TRIALS)
    calls.clear()
    for _ in range(3):
        spectrum.rfft2(x)
    assert calls == ["fast"] * 3
    assert spectrum.chosen_methods() == {(spectrum.FORWARD_KEY, 1, 3, 11, 13): "fast"}
    spectrum.rfft2(torch.randn(1, 3, 12, 13))  # a new shape is timed on its own
    assert len(spectrum.chosen_methods()) == 2
    monkeypatch.setattr(spectrum, "REMEMBERED", 2)
    spectrum.rfft2(torch.randn(1, 3, 14, 13))  # the oldest shape is forgotten, the memory stays bounded
    forward = spectrum.FORWARD_KEY
    assert list(spectrum.chosen_methods()) == [(forward, 1, 3, 12, 13), (forward, 1, 3, 14, 13)]


@pytest.mark.parametrize("method", ["fft", "dft"])
def test_generator_matches_golden_with_either_method(lama_reference, monkeypatch, method: str) -> None:
    monkeypatch.setattr(spectrum, "FORWARD", {method: spectrum.FORWARD[method]})
    monkeypatch.setattr(spectrum, "INVERSE", {method: spectrum.INVERSE[method]})
    monkeypatch.setattr(spectrum, "_CHOSEN", {})
    monkeypatch.setattr(torch.backends.mkldnn, "enabled", False)
    golden = dict(np.load(lama_reference / "golden.npz"))
    model = load_generator(lama_reference / "tiny-lama", tiling=Tiling(winograd=True))
    with torch.inference_mode():
        out = model(torch.from_numpy(golden["padded_input"])).numpy()
    np.testing.assert_allclose(out, golden["generator_output"], atol=1e-5, rtol=0)
    assert set(spectrum.chosen_methods().values()) == {method}
