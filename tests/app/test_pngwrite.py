"""The fast PNG writer: same pixels and metadata as Pillow's own PNG, checked by decoding both."""

from __future__ import annotations

import io
import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from PIL import Image, ImageCms
from PIL.PngImagePlugin import PngInfo
from skimage import data

from magiceraser import pngwrite

MODES = {"L": 1, "LA": 2, "RGB": 3, "RGBA": 4}


def _decoded(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    image.load()
    return image


def _pillow(image: Image.Image, params: dict) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG", **params)
    return out.getvalue()


def _same_as_pillow(image: Image.Image, params: dict) -> bytes:
    ours, theirs = _decoded(pngwrite.encode(image, params)), _decoded(_pillow(image, params))
    assert (ours.mode, ours.size) == (theirs.mode, theirs.size) == (image.mode, image.size)
    assert np.array_equal(np.asarray(ours), np.asarray(image))
    assert ours.info == theirs.info
    assert dict(ours.getexif()) == dict(theirs.getexif())
    return pngwrite.encode(image, params)


@settings(max_examples=60, deadline=None)
@given(mode=st.sampled_from(sorted(MODES)), height=st.integers(1, 40), width=st.integers(1, 40),
       seed=st.integers(0, 2**32 - 1))
def test_any_8bit_image_round_trips_exactly(mode: str, height: int, width: int, seed: int) -> None:
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, MODES[mode]), np.uint8)
    image = Image.fromarray(pixels.squeeze(-1) if MODES[mode] == 1 else pixels, mode)
    _same_as_pillow(image, {})


@given(arrays(np.uint8, st.tuples(st.integers(1, 9), st.integers(1, 9), st.just(3))))
def test_extreme_byte_values_wrap_like_png_arithmetic(pixels: np.ndarray) -> None:
    _same_as_pillow(Image.fromarray(pixels), {})


def test_metadata_is_written_as_pillow_writes_it() -> None:
    photo = Image.fromarray(data.astronaut())
    text = PngInfo()
    text.add_text("Title", "astronaut")
    exif = Image.Exif()
    exif[0x010E] = "a description"
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    params = {"icc_profile": icc, "dpi": (300, 300), "pnginfo": text, "exif": exif.tobytes(), "compress_level": 1}
    ours = _decoded(_same_as_pillow(photo, params))
    assert ours.info["icc_profile"] == icc and ours.text == {"Title": "astronaut"}
    assert round(ours.info["dpi"][0]) == 300 and ours.getexif()[0x010E] == "a description"


def test_transparency_colour_of_an_rgb_image_is_kept() -> None:
    image = Image.fromarray(data.coffee())
    assert _decoded(_same_as_pillow(image, {"transparency": (1, 2, 3)})).info["transparency"] == (1, 2, 3)


@pytest.mark.parametrize("mode", ["P", "1", "I;16"])
def test_other_modes_are_pillows_own_bytes(mode: str) -> None:
    image = Image.fromarray(data.camera()).convert(mode)
    assert pngwrite.encode(image, {"compress_level": 1}) == _pillow(image, {"compress_level": 1})


def test_parts_deflated_apart_form_one_valid_stream(monkeypatch: pytest.MonkeyPatch) -> None:
    """Several parts (one per core, here forced small) join into one zlib stream, split over IDATs."""
    monkeypatch.setattr(pngwrite, "PART_BYTES", 4096)
    monkeypatch.setattr(pngwrite, "available_cores", lambda: 3)
    monkeypatch.setattr(pngwrite, "IDAT_BYTES", 10_000)
    photo = Image.fromarray(data.chelsea())
    png = _same_as_pillow(photo, {})
    idat = b"".join(body for kind, body in pngwrite._chunks(png) if kind == b"IDAT")
    assert len([kind for kind, _ in pngwrite._chunks(png) if kind == b"IDAT"]) > 1
    rows = zlib.decompress(idat)
    assert len(rows) == photo.height * (photo.width * 3 + 1) and set(rows[::photo.width * 3 + 1]) == {2}


def test_flat_areas_stay_small() -> None:
    """A flat screenshot-like image stays tiny (Huffman-only coding would give ~780 KB)."""
    flat = Image.new("RGB", (1920, 1080), (250, 250, 250))
    assert len(pngwrite.encode(flat, {})) < min(50_000, 1.1 * len(_pillow(flat, {"compress_level": 1})))


def test_a_photo_is_not_much_bigger_than_pillows_level_1() -> None:
    photo = Image.fromarray(data.astronaut())
    assert len(pngwrite.encode(photo, {})) < 1.1 * len(_pillow(photo, {"compress_level": 1}))


def test_repeats_far_apart_are_found() -> None:
    """A tiled image (repeats ~1.5 KB apart, as in screenshots and patterns) compresses about as well
    as Pillow's level 1; run-length-only deflate made such a 4032x3024 image 6.5x bigger."""
    tiled = Image.fromarray(np.tile(data.astronaut()[:128, :128], (8, 8, 1)))
    assert len(pngwrite.encode(tiled, {})) < 1.15 * len(_pillow(tiled, {"compress_level": 1}))
