"""PNG answers written at about half of Pillow's CPU cost, metadata left to Pillow.

Pillow tries all five PNG filters on every row and keeps the best: for a 1920x1080 photo that
choice alone costs about as much as zlib at level 1 (0.06 of 0.115 CPU s). Here every row gets
the Sub filter (one numpy subtraction), and zlib runs with its run-length strategy, which keeps
flat areas (screenshots, skies) small; the parts of the image are deflated on separate threads
(zlib drops the GIL) and joined into one zlib stream the way pigz does. Measured on that photo:
0.060 CPU s and 3.5 % more bytes than Pillow at level 1 (docs/benchmarks.md).

Everything but the pixel data (IHDR fields, ICC profile, EXIF, DPI, text, transparency) is written
by Pillow itself, from a one-row image saved with the same parameters: only its height and its
IDAT chunks are replaced. Modes other than 8-bit L, LA, RGB and RGBA go to Pillow unchanged.
"""

from __future__ import annotations

import io
import struct
import zlib
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from PIL import Image

from .threads import available_cores

SIGNATURE = b"\x89PNG\r\n\x1a\n"
CHANNELS = {"L": 1, "LA": 2, "RGB": 3, "RGBA": 4}
SUB_FILTER = 1
LEVEL = 1
ZLIB_HEADER = b"\x78\x01"  # deflate, 32 KiB window, fastest level (checksum: 0x7801 % 31 == 0)
IDAT_BYTES = 1 << 20
PART_BYTES = 1 << 20  # below this, one thread deflates it all


def encode(image: Image.Image, params: dict) -> bytes:
    """``image`` as PNG bytes with Pillow's ``save`` ``params`` (icc_profile, exif, dpi, pnginfo...)."""
    channels = CHANNELS.get(image.mode)
    if channels is None or image.width == 0 or image.height == 0:
        out = io.BytesIO()
        image.save(out, "PNG", **params)
        return out.getvalue()
    pixels = np.asarray(image).reshape(image.height, image.width * channels)
    chunks = _chunks(_skeleton(image.mode, image.width, params))
    out = [SIGNATURE]
    idat_written = False
    for kind, body in chunks:
        if kind == b"IHDR":
            body = body[:4] + struct.pack(">I", image.height) + body[8:]
        if kind == b"IDAT":
            if not idat_written:
                out.extend(_chunk(b"IDAT", piece) for piece in _split(_zlib_stream(_sub_filtered(pixels, channels))))
                idat_written = True
            continue
        out.append(_chunk(kind, body))
    return b"".join(out)


def _skeleton(mode: str, width: int, params: dict) -> bytes:
    """A one-row PNG of this mode and width that Pillow wrote with ``params``: every chunk but the pixels."""
    out = io.BytesIO()
    Image.new(mode, (width, 1)).save(out, "PNG", **params)
    return out.getvalue()


def _chunks(png: bytes) -> list[tuple[bytes, bytes]]:
    """(type, data) of each chunk of a PNG Pillow just wrote."""
    chunks, offset = [], len(SIGNATURE)
    while offset < len(png):
        length, kind = struct.unpack(">I4s", png[offset:offset + 8])
        chunks.append((kind, png[offset + 8:offset + 8 + length]))
        offset += 12 + length
    return chunks


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(body, zlib.crc32(kind)))


def _split(data: bytes) -> list[bytes]:
    return [data[i:i + IDAT_BYTES] for i in range(0, len(data), IDAT_BYTES)] or [b""]


def _sub_filtered(pixels: np.ndarray, channels: int) -> np.ndarray:
    """Each row as filter byte 1 (Sub) + each byte minus the same channel of the pixel to its left."""
    height, row = pixels.shape
    out = np.empty((height, row + 1), np.uint8)
    out[:, 0] = SUB_FILTER
    out[:, 1:channels + 1] = pixels[:, :channels]
    np.subtract(pixels[:, channels:], pixels[:, :-channels], out=out[:, channels + 1:])
    return out


def _zlib_stream(filtered: np.ndarray) -> bytes:
    """One zlib stream of the rows: raw deflate parts (each ending byte-aligned) + Adler-32 of all."""
    data = filtered.reshape(-1)
    parts = max(1, min(available_cores(), data.size // PART_BYTES, filtered.shape[0]))
    bounds = [round(i * filtered.shape[0] / parts) * filtered.shape[1] for i in range(parts + 1)]
    pieces = [memoryview(data[bounds[i]:bounds[i + 1]]) for i in range(parts)]

    def deflate(index: int) -> bytes:
        compressor = zlib.compressobj(LEVEL, zlib.DEFLATED, -15, 9, zlib.Z_RLE)
        last = index == parts - 1
        return compressor.compress(pieces[index]) + compressor.flush(zlib.Z_FINISH if last else zlib.Z_SYNC_FLUSH)

    if parts == 1:
        body = [deflate(0)]
    else:
        with ThreadPoolExecutor(parts) as pool:
            body = list(pool.map(deflate, range(parts)))
    return b"".join((ZLIB_HEADER, *body, struct.pack(">I", zlib.adler32(memoryview(data)))))
