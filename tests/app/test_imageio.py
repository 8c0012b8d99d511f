"""Image/mask decoding and write-back: every input kind round-trips with only masked pixels changed."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image, ImageCms
from skimage import data

from magiceraser.dataurl import decode_payload, encode_data_url
from magiceraser.errors import (
    ImageTooLarge,
    MaskError,
    UndecodableImage,
    UnsupportedImage,
)
from magiceraser.imageio import decode_image, decode_mask

PHOTO = data.astronaut()[100:196, 180:308]          # 96x128 RGB
GRAY = data.camera()[200:296, 150:278]              # 96x128 uint8
SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def _bytes(im: Image.Image, fmt: str, **params) -> bytes:
    out = io.BytesIO()
    im.save(out, fmt, **params)
    return out.getvalue()


def _mask(shape=(96, 128)) -> np.ndarray:
    mask = np.zeros(shape, bool)
    mask[30:60, 40:90] = True
    return mask


def _erase_like_engine(raw: bytes, mask: np.ndarray) -> tuple[bytes, np.ndarray]:
    """What the pipeline does around the engine; the 'engine' paints the hole with inverted colours."""
    decoded = decode_image(raw)
    result = np.where(mask[..., None], 255 - decoded.rgb, decoded.rgb)
    return decoded.encode(result, mask), result


def _reopen(raw: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(raw))
    im.load()
    return im


@pytest.mark.parametrize("fmt,params", [("PNG", {}), ("BMP", {}), ("TIFF", {"compression": "tiff_lzw"}),
                                        ("WEBP", {"lossless": True, "icc_profile": SRGB})])
def test_lossless_rgb_changes_only_masked_pixels(fmt, params):
    mask = _mask()
    raw = _bytes(Image.fromarray(PHOTO), fmt, **params)
    out_raw, result = _erase_like_engine(raw, mask)
    out = _reopen(out_raw)
    assert out.format == fmt and out.mode == "RGB"
    pixels = np.asarray(out)
    assert np.array_equal(pixels[~mask], PHOTO[~mask])
    assert np.array_equal(pixels[mask], result[mask])
    if fmt == "TIFF":
        assert out.info["compression"] == "tiff_lzw"


def test_jpeg_keeps_quality_tables_exif_and_icc():
    icc = SRGB
    exif = Image.Exif()
    exif[0x010F] = "RVBook"
    raw = _bytes(Image.fromarray(PHOTO), "JPEG", quality=90, icc_profile=icc, exif=exif.tobytes())
    mask = _mask()
    out = _reopen(_erase_like_engine(raw, mask)[0])
    source = _reopen(raw)
    assert out.format == "JPEG"
    assert out.quantization == source.quantization
    assert out.info["icc_profile"] == icc
    assert out.getexif()[0x010F] == "RVBook"
    drift = np.abs(np.asarray(out, dtype=int) - np.asarray(source, dtype=int))[~mask]
    assert drift.mean() < 1.0


def test_exif_orientation_is_applied_and_dropped():
    exif = Image.Exif()
    exif[0x0112] = 6  # stored landscape, shown rotated 90 degrees clockwise
    exif[0x010F] = "RVBook"
    raw = _bytes(Image.fromarray(PHOTO), "JPEG", quality=95, exif=exif.tobytes())
    decoded = decode_image(raw)
    assert decoded.size == (96, 128)  # upright: portrait
    upright = np.asarray(Image.fromarray(PHOTO).transpose(Image.Transpose.ROTATE_270), dtype=int)
    assert np.abs(decoded.rgb.astype(int) - upright).mean() < 3
    mask = np.zeros((128, 96), bool)
    mask[10:20, 10:20] = True
    out = _reopen(decoded.encode(decoded.rgb, mask))
    assert out.size == (96, 128)
    assert 0x0112 not in out.getexif() and out.getexif()[0x010F] == "RVBook"


def test_mask_is_matched_against_the_upright_size():
    exif = Image.Exif()
    exif[0x0112] = 8
    raw = _bytes(Image.fromarray(PHOTO), "JPEG", exif=exif.tobytes())
    size = decode_image(raw).size
    assert size == (96, 128)
    with pytest.raises(MaskError, match="128x96 but the image is 96x128"):
        decode_mask(_bytes(Image.fromarray(_mask()), "PNG"), size)


def test_rgba_keeps_alpha_everywhere():
    alpha = np.tile(np.linspace(0, 255, 128).astype(np.uint8), (96, 1))
    rgba = np.dstack([PHOTO, alpha])
    mask = _mask()
    out = np.asarray(_reopen(_erase_like_engine(_bytes(Image.fromarray(rgba), "PNG"), mask)[0]))
    assert out.shape == (96, 128, 4)
    assert np.array_equal(out[..., 3], alpha)
    assert np.array_equal(out[~mask], rgba[~mask])
    assert np.array_equal(out[mask][:, :3], 255 - PHOTO[mask])


def test_grayscale_with_alpha_keeps_both():
    la = np.dstack([GRAY, np.full_like(GRAY, 128)])
    mask = _mask()
    out = np.asarray(_reopen(_erase_like_engine(_bytes(Image.fromarray(la, "LA"), "PNG"), mask)[0]))
    assert out.shape == (96, 128, 2)
    assert np.array_equal(out[..., 1], la[..., 1]) and np.array_equal(out[~mask], la[~mask])
    assert np.array_equal(out[mask][:, 0], 255 - GRAY[mask])


def test_grayscale_stays_grayscale():
    mask = _mask()
    raw = _bytes(Image.fromarray(GRAY), "PNG")
    out_raw, result = _erase_like_engine(raw, mask)
    out = _reopen(out_raw)
    assert out.mode == "L"
    pixels = np.asarray(out)
    assert np.array_equal(pixels[~mask], GRAY[~mask])
    assert np.array_equal(pixels[mask], 255 - GRAY[mask])


def test_sixteen_bit_keeps_full_precision_outside_the_mask():
    deep = (GRAY.astype(np.uint16) * 257 + np.arange(128, dtype=np.uint16) % 200).astype(np.uint16)
    raw = _bytes(Image.fromarray(deep), "PNG")
    mask = _mask()
    decoded = decode_image(raw)
    assert decoded.mode.startswith("I") and decoded.rgb.dtype == np.uint8
    out = _reopen(decoded.encode(np.full_like(decoded.rgb, 100), mask))
    assert out.mode == decoded.mode
    pixels = np.asarray(out)
    assert np.array_equal(pixels[~mask], deep[~mask])
    assert (pixels[mask] == 100 * 257).all()


@pytest.mark.parametrize("fmt", ["PNG", "GIF"])
def test_palette_image_keeps_palette_and_transparency(fmt):
    source = Image.fromarray(PHOTO).quantize(colors=32)
    source.info["transparency"] = 0
    raw = _bytes(source, fmt, transparency=0)
    mask = _mask()
    out = _reopen(_erase_like_engine(raw, mask)[0])
    assert out.mode == "P"
    before = np.asarray(_reopen(raw).convert("RGBA"))
    after = np.asarray(out.convert("RGBA"))
    assert np.array_equal(after[~mask], before[~mask])
    palette = {tuple(colour) for colour in np.frombuffer(source.palette.tobytes(), np.uint8).reshape(-1, 3)}
    assert {tuple(c) for c in after[mask][:, :3]} <= palette  # new pixels use the palette's own colours
    assert np.array_equal(after[..., 3], before[..., 3])  # transparent pixels stay transparent
    assert not np.array_equal(after[mask], before[mask])


def test_cmyk_jpeg_round_trips_as_cmyk():
    cmyk = Image.fromarray(PHOTO).convert("CMYK")
    raw = _bytes(cmyk, "JPEG", quality=95)
    decoded = decode_image(raw)
    assert decoded.mode == "CMYK" and decoded.rgb.shape == (96, 128, 3)
    mask = _mask()
    out = _reopen(decoded.encode(decoded.rgb, mask))
    assert out.mode == "CMYK" and out.format == "JPEG"
    drift = np.abs(np.asarray(out, dtype=int) - np.asarray(_reopen(raw), dtype=int))
    assert drift.mean() < 1.5


def test_bilevel_image():
    bits = GRAY > 128
    mask = _mask()
    out = np.asarray(_reopen(_erase_like_engine(_bytes(Image.fromarray(bits), "PNG"), mask)[0]))
    assert out.dtype == bool
    assert np.array_equal(out[~mask], bits[~mask]) and np.array_equal(out[mask], ~bits[mask])


def test_engine_result_of_wrong_shape_is_refused():
    decoded = decode_image(_bytes(Image.fromarray(PHOTO), "PNG"))
    with pytest.raises(ValueError, match="expected"):
        decoded.encode(np.zeros((10, 10, 3), np.uint8), _mask())


# --- masks -------------------------------------------------------------------------------------------

def _mask_variants():
    mask = _mask()
    white = np.where(mask, 255, 0).astype(np.uint8)
    opaque_rgba = np.dstack([white, white, white, np.full_like(white, 255)])  # the 2024 client
    strokes = np.zeros((96, 128, 4), np.uint8)
    strokes[mask] = (255, 204, 0, 0xBB)  # IOPaint-style strokes on transparent
    grey_edge = white.copy()
    grey_edge[mask] = 3  # faint anti-aliased stroke: still counts
    return {
        "L": _bytes(Image.fromarray(white), "PNG"),
        "RGB": _bytes(Image.fromarray(np.dstack([white, white * 0, white * 0])), "PNG"),
        "opaque RGBA": _bytes(Image.fromarray(opaque_rgba), "PNG"),
        "strokes on transparent": _bytes(Image.fromarray(strokes), "PNG"),
        "faint": _bytes(Image.fromarray(grey_edge), "PNG"),
        "1-bit": _bytes(Image.fromarray(mask), "PNG"),
    }


@pytest.mark.parametrize("kind", list(_mask_variants()))
def test_mask_encodings_agree(kind):
    assert np.array_equal(decode_mask(_mask_variants()[kind], (128, 96)), _mask())


def test_jpeg_mask_noise_does_not_erase_speckles():
    mask = _mask()
    noisy = _bytes(Image.fromarray(np.where(mask, 255, 0).astype(np.uint8)), "JPEG", quality=60)
    assert (np.asarray(_reopen(noisy))[~mask] > 0).sum() > 50  # compression noise outside the strokes
    decoded = decode_mask(noisy, (128, 96))
    assert (decoded != mask).sum() < 0.01 * mask.size


def test_empty_and_mismatched_masks():
    with pytest.raises(MaskError, match="empty"):
        decode_mask(_bytes(Image.new("L", (128, 96)), "PNG"), (128, 96))
    with pytest.raises(MaskError, match="empty"):
        decode_mask(_bytes(Image.new("RGBA", (128, 96), (255, 255, 255, 0)), "PNG"), (128, 96))
    with pytest.raises(MaskError, match="mask is 128x96 but the image is 100x96"):
        decode_mask(_bytes(Image.fromarray(_mask()), "PNG"), (100, 96))


# --- refusals ----------------------------------------------------------------------------------------

def test_undecodable_and_unsupported_inputs():
    png = _bytes(Image.fromarray(PHOTO), "PNG")
    with pytest.raises(UndecodableImage, match="not a readable image"):
        decode_image(b"this is not an image")
    with pytest.raises(UndecodableImage, match="truncated or corrupt"):
        decode_image(png[: len(png) // 2])
    with pytest.raises(UndecodableImage, match="empty"):
        decode_image(b"")
    with pytest.raises(UnsupportedImage, match="ICO"):
        decode_image(_bytes(Image.fromarray(PHOTO[:32, :32]), "ICO"))
    frames = [Image.fromarray(PHOTO), Image.fromarray(255 - PHOTO)]
    animated = io.BytesIO()
    frames[0].save(animated, "GIF", save_all=True, append_images=frames[1:])
    with pytest.raises(UnsupportedImage, match="animated"):
        decode_image(animated.getvalue())
    with pytest.raises(UnsupportedImage, match="floating-point"):
        decode_image(_bytes(Image.fromarray(GRAY.astype(np.float32)), "TIFF"))


def test_pixel_limit_and_decompression_bombs_are_too_large():
    with pytest.raises(ImageTooLarge, match="limit is 10,000 pixels"):
        decode_image(_bytes(Image.fromarray(PHOTO), "PNG"), max_pixels=10_000)
    for side in (10_000, 20_000):  # 100 and 400 MP in a few kB
        bomb = _bytes(Image.new("1", (side, side)), "PNG")
        assert len(bomb) < 100_000
        with pytest.raises(ImageTooLarge, match=f"{side}x{side}"):
            decode_image(bomb)
        with pytest.raises(ImageTooLarge, match="mask is"):
            decode_mask(bomb, (side, side))


# --- base64 / data URLs ------------------------------------------------------------------------------

def test_payload_decoding_is_tolerant_where_the_2024_client_was():
    raw = bytes(range(256)) * 3 + b"\xfb\xff"
    standard = base64.b64encode(raw).decode()
    assert "+" in standard and "/" in standard and standard.endswith("=")
    urlsafe = base64.urlsafe_b64encode(raw).decode()
    for text in (standard, urlsafe, standard.rstrip("="), standard + "====", f"data:image/png;base64,{standard}",
                 "data:image/png;base64," + "\n".join(standard[i:i + 76] for i in range(0, len(standard), 76)),
                 encode_data_url(raw, "image/jpeg")):
        assert decode_payload(text, "image") == raw


@pytest.mark.parametrize("text,error,match", [
    ("", UndecodableImage, "non-empty"),
    (None, UndecodableImage, "non-empty"),
    ("abc*def", UndecodableImage, "not valid base64"),
    ("abcde", UndecodableImage, "not valid base64"),
    ("data:image/png;base64", UndecodableImage, "no ','"),
    ("data:image/png,%89PNG", UndecodableImage, "base64-encoded"),
    ("data:text/plain;base64,aGVsbG8=", UnsupportedImage, "text/plain"),
])
def test_bad_payloads(text, error, match):
    with pytest.raises(error, match=match):
        decode_payload(text, "image")
