"""Image and mask decoding/encoding around the engine.

The engine only ever sees upright 8-bit RGB. Everything else about the input (mode, alpha,
palette, 16-bit depth, CMYK, EXIF, ICC profile, format) is kept here so the result can be
written back the way it came in. Composition happens in the input's own pixel representation:
only masked pixels are replaced, so every other pixel is bit-identical to the input for
lossless formats. JPEG output reuses the input's quantisation tables and chroma subsampling
(the input's own quality, never lower), so re-encoding drifts as little as JPEG allows.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageOps, JpegImagePlugin, UnidentifiedImageError
from PIL.PngImagePlugin import PngInfo

from . import pngwrite
from .errors import ImageTooLarge, MaskError, UndecodableImage, UnsupportedImage

# Pillow's own bomb check only warns between 89 and 179 MP (and warnings filters are per-context,
# so they cannot turn it into an error reliably). _open() checks every image's header against
# the caller's pixel limit before any pixel is decoded instead, so a bomb is always a refusal.
Image.MAX_IMAGE_PIXELS = None

DEFAULT_MAX_PIXELS = 40_000_000
SUPPORTED_FORMATS = ("PNG", "JPEG", "WEBP", "BMP", "TIFF", "GIF")
LOSSY_FORMATS = ("JPEG",)
EXIF_ORIENTATION = 0x0112
PNG_COMPRESS_LEVEL = 1
_SIXTEEN_BIT_MODES = ("I;16", "I;16L", "I;16B", "I")
_NATIVE_MODES = ("RGB", "RGBA", "L", "LA", "1", "P", "CMYK", *_SIXTEEN_BIT_MODES)


def _open(data: bytes, what: str, max_pixels: int) -> Image.Image:
    """Open and fully decode ``data``; size limits are checked before any pixel is decoded."""
    if not data:
        raise UndecodableImage(f"{what} is empty (0 bytes)")
    try:
        im = Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        raise UndecodableImage(f"{what} is not a readable image (supported: {', '.join(SUPPORTED_FORMATS)})") from None
    except (OSError, ValueError, SyntaxError) as exc:
        raise UndecodableImage(f"{what} cannot be decoded: {exc}") from None
    width, height = im.size
    if width * height > max_pixels:
        raise ImageTooLarge(f"{what} is {width}x{height} = {width * height:,} pixels; "
                            f"the limit is {max_pixels:,} pixels: downscale it first")
    if im.format not in SUPPORTED_FORMATS:
        raise UnsupportedImage(f"{what} format {im.format} is not supported; use one of {', '.join(SUPPORTED_FORMATS)}")
    if getattr(im, "n_frames", 1) > 1:
        raise UnsupportedImage(f"{what} is animated or multi-page ({im.n_frames} frames); "
                               "save one frame as PNG or JPEG")
    try:
        im.load()
    except (OSError, ValueError, SyntaxError) as exc:
        raise UndecodableImage(f"{what} is truncated or corrupt: {exc}") from None
    return im


def _palette_rgba(im: Image.Image) -> np.ndarray:
    """(N, 4) colour of every palette entry, transparency included."""
    count = len(im.palette.tobytes()) // len(im.palette.mode)
    strip = Image.frombytes("P", (count, 1), bytes(range(count)))
    strip.putpalette(im.palette.tobytes(), im.palette.mode)
    if "transparency" in im.info:
        strip.info["transparency"] = im.info["transparency"]
    return np.asarray(strip.convert("RGBA"))[0]


def _nearest_palette_index(colors: np.ndarray, palette_rgb: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """Index of the closest candidate palette entry for each (K, 3) colour."""
    packed = (colors[:, 0].astype(np.uint32) << 16) | (colors[:, 1].astype(np.uint32) << 8) | colors[:, 2]
    unique, inverse = np.unique(packed, return_inverse=True)
    unique_rgb = np.stack([(unique >> 16) & 255, (unique >> 8) & 255, unique & 255], axis=1).astype(np.int32)
    choices = palette_rgb[candidates].astype(np.int32)
    best = np.empty(len(unique), dtype=np.int64)
    for start in range(0, len(unique), 8192):
        chunk = unique_rgb[start:start + 8192]
        distance = ((chunk[:, None, :] - choices[None, :, :]) ** 2).sum(axis=2)
        best[start:start + 8192] = candidates[distance.argmin(axis=1)]
    return best[inverse.reshape(-1)]


def _gray(rgb: np.ndarray) -> np.ndarray:
    """ITU-R 601 luma, the same conversion Pillow uses for RGB -> L."""
    return np.asarray(Image.fromarray(rgb, "RGB").convert("L"))


@dataclass
class DecodedImage:
    """An upright input image: the RGB the engine sees plus what is needed to write it back."""

    native: np.ndarray          # pixels in ``mode`` (indices for P, uint16 for 16-bit, bool for 1)
    mode: str
    format: str
    rgb: np.ndarray             # (H, W, 3) uint8 handed to the engine
    alpha: np.ndarray | None    # (H, W) uint8, re-attached unchanged
    save_params: dict = field(default_factory=dict)
    palette: Image.Image | None = None  # the source image, for its palette (P mode only)

    @property
    def size(self) -> tuple[int, int]:
        return self.rgb.shape[1], self.rgb.shape[0]

    @property
    def mime(self) -> str:
        return Image.MIME[self.format]

    def _native_from_rgb(self, rgb: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """The masked pixels of ``rgb`` expressed in the input's mode, shape (K, ...)."""
        picked = rgb[mask]
        if self.mode == "RGB":
            return picked
        if self.mode == "RGBA":
            return np.concatenate([picked, self.alpha[mask][:, None]], axis=1)
        if self.mode in ("L", "LA", "1", *_SIXTEEN_BIT_MODES):
            gray = _gray(picked[None])[0]
            if self.mode == "L":
                return gray
            if self.mode == "LA":
                return np.stack([gray, self.alpha[mask]], axis=1)
            if self.mode == "1":
                return gray >= 128
            return gray.astype(self.native.dtype) * 257
        if self.mode == "CMYK":
            return np.asarray(Image.fromarray(picked[None], "RGB").convert("CMYK"))[0]
        if self.mode == "P":
            return self._palette_indices(picked, mask)
        raise AssertionError(f"unhandled mode {self.mode}")

    def _palette_indices(self, picked: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Nearest opaque palette colour; (semi-)transparent pixels keep their index."""
        rgba = _palette_rgba(self.palette)
        opaque = np.flatnonzero(rgba[:, 3] == 255)
        original = self.native[mask]
        if len(opaque) == 0:
            return original
        chosen = _nearest_palette_index(picked, rgba[:, :3], opaque).astype(original.dtype)
        keep = rgba[original, 3] < 255
        return np.where(keep, original, chosen)

    def compose(self, result_rgb: np.ndarray, mask: np.ndarray) -> Image.Image:
        """Input pixels everywhere, ``result_rgb`` (converted to the input's mode) where masked."""
        if result_rgb.shape != self.rgb.shape or result_rgb.dtype != np.uint8:
            raise ValueError(f"engine returned {result_rgb.shape} {result_rgb.dtype}, expected {self.rgb.shape} uint8")
        native = self.native.copy()
        native[mask] = self._native_from_rgb(result_rgb, mask)
        if self.mode == "1":
            return Image.fromarray(native)
        height, width = native.shape[:2]
        out = Image.frombytes(self.mode, (width, height), native.tobytes())
        if self.mode == "P":
            out.putpalette(self.palette.palette.tobytes(), self.palette.palette.mode)
        return out

    def encode(self, result_rgb: np.ndarray, mask: np.ndarray) -> bytes:
        """The composed result in the input's format, mode and metadata."""
        composed = self.compose(result_rgb, mask)
        if self.format == "PNG":
            return pngwrite.encode(composed, self.save_params)
        out = io.BytesIO()
        composed.save(out, self.format, **self.save_params)
        return out.getvalue()


def _metadata(source: Image.Image, upright: Image.Image) -> dict:
    """ICC profile, EXIF (orientation dropped: pixels are upright now) and DPI to write back."""
    params: dict = {}
    if source.info.get("icc_profile"):
        params["icc_profile"] = source.info["icc_profile"]
    exif = upright.getexif()
    if len(exif):
        exif.pop(EXIF_ORIENTATION, None)
        params["exif"] = exif.tobytes()
    if "dpi" in source.info:
        params["dpi"] = source.info["dpi"]
    return params


def _webp_is_lossless(data: bytes) -> bool:
    """True when the RIFF container holds a VP8L (lossless) bitstream; ICC/EXIF chunks may precede it."""
    offset = 12
    while offset + 8 <= len(data):
        fourcc, size = data[offset:offset + 4], int.from_bytes(data[offset + 4:offset + 8], "little")
        if fourcc in (b"VP8L", b"VP8 "):
            return fourcc == b"VP8L"
        offset += 8 + size + (size & 1)
    return False


def _format_params(source: Image.Image, data: bytes) -> dict:
    """Encoder settings that reproduce the input's own compression choices."""
    fmt = source.format
    if fmt == "JPEG":
        params = {"qtables": source.quantization}
        sampling = JpegImagePlugin.get_sampling(source)
        if sampling != -1:
            params["subsampling"] = sampling
        if source.info.get("progressive") or source.info.get("progression"):
            params["progressive"] = True
        return params
    if fmt == "WEBP":
        return {"lossless": True} if _webp_is_lossless(data) else {"quality": 95}
    if fmt == "TIFF":
        compression = source.info.get("compression")
        return {"compression": compression} if compression and compression != "raw" else {}
    if fmt in ("PNG", "GIF"):
        # zlib level 1 instead of Pillow's 6: on 1920x1080 photos ~10x less CPU than 6 and ~30 % less
        # than 3 for ~6 % more bytes than 3; on a slow CPU encoding a large PNG at level 6 takes longer
        # than inpainting a crop of it, and the answer only crosses the loopback or a LAN. 8-bit
        # L/LA/RGB/RGBA answers are written by pngwrite.py (half of this CPU); the level is for the rest.
        params = {"compress_level": PNG_COMPRESS_LEVEL} if fmt == "PNG" else {}
        if "transparency" in source.info:
            params["transparency"] = source.info["transparency"]
        if fmt == "PNG" and getattr(source, "text", None):
            info = PngInfo()
            for key, value in source.text.items():
                info.add_text(key, value)
            params["pnginfo"] = info
        return params
    return {}


def decode_image(data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS) -> DecodedImage:
    """Decode an upload, apply its EXIF orientation and split it into engine RGB + what to keep."""
    source = _open(data, "image", max_pixels)
    fmt = source.format
    if source.mode == "F":
        raise UnsupportedImage("image has floating-point pixels (mode F); save it as 8- or 16-bit first")
    try:
        upright = ImageOps.exif_transpose(source)
    except (OSError, ValueError, SyntaxError) as exc:
        raise UndecodableImage(f"image has broken EXIF data: {exc}") from None
    params = {**_format_params(source, data), **_metadata(source, upright)}
    if upright.mode not in _NATIVE_MODES:
        upright = upright.convert("RGBA" if "A" in upright.mode or "a" in upright.mode else "RGB")
    mode = upright.mode
    native = np.asarray(upright)
    alpha = None
    palette = None
    if mode in ("RGB", "RGBA"):
        rgb = native[..., :3]
        alpha = native[..., 3] if mode == "RGBA" else None
    elif mode in ("L", "LA"):
        rgb = np.repeat(native[..., :1] if mode == "LA" else native[..., None], 3, axis=2)
        alpha = native[..., 1] if mode == "LA" else None
    elif mode == "1":
        rgb = np.repeat(np.where(native, 255, 0).astype(np.uint8)[..., None], 3, axis=2)
    elif mode in _SIXTEEN_BIT_MODES:
        scaled = np.rint(native.astype(np.float64).clip(0, 65535) / 257).astype(np.uint8)
        rgb = np.repeat(scaled[..., None], 3, axis=2)
    elif mode == "CMYK":
        rgb = np.asarray(upright.convert("RGB"))
    else:  # P
        palette = upright
        rgb = np.asarray(upright.convert("RGBA"))[..., :3]
    return DecodedImage(native=native, mode=mode, format=fmt, rgb=np.ascontiguousarray(rgb),
                        alpha=alpha, save_params=params, palette=palette)


def _has_transparency(im: Image.Image) -> bool:
    return im.mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in im.info


def decode_mask(data: bytes, size: tuple[int, int], max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Binary (H, W) mask: True = erase.

    Strokes on a transparent background use the alpha channel (any alpha > 0 erases); opaque
    masks erase every non-black pixel, like LaMa's ``mask > 0``. A JPEG mask is thresholded at
    128 instead, or its compression noise would erase speckles all over the photo."""
    source = _open(data, "mask", max_pixels)
    im = ImageOps.exif_transpose(source)
    if im.size != size:
        raise MaskError(f"mask is {im.width}x{im.height} but the image is {size[0]}x{size[1]} (after EXIF rotation); "
                        "draw the mask at the image's size")
    if _has_transparency(im):
        alpha = np.asarray(im.convert("RGBA"))[..., 3]
        if alpha.min() < 255:
            return _require_strokes(alpha > 0)
    threshold = 127 if source.format in LOSSY_FORMATS else 0
    values = np.asarray(im) if im.mode in ("1", "L", *_SIXTEEN_BIT_MODES) else np.asarray(im.convert("RGB"))
    erase = values > threshold
    return _require_strokes(erase.any(axis=2) if erase.ndim == 3 else erase)


def _require_strokes(mask: np.ndarray) -> np.ndarray:
    if not mask.any():
        raise MaskError("mask is empty: paint the area to erase (white on black, or strokes on transparent)")
    return mask
