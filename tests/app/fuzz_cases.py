"""Hypothesis strategies for hostile HTTP requests: JSON shapes, data URLs, broken image files,
masks of every mode, multipart bodies, methods, paths and headers.

Broken files are mutations of real ones (every supported format, written by Pillow), so the
decoders see plausible headers followed by damage, not just random bytes they reject at once.
"""

from __future__ import annotations

import base64
import io
import json
import struct
import zlib
from dataclasses import dataclass, field

import numpy as np
from eraser_samples import box_mask, encode, photo
from hypothesis import strategies as st
from PIL import Image

HEIGHT, WIDTH = 24, 32
FORMATS = ("PNG", "JPEG", "WEBP", "BMP", "TIFF", "GIF")
MASK_FORMATS = {"1": ("PNG", "TIFF", "JPEG"), "L": ("PNG", "TIFF", "JPEG"), "LA": ("PNG", "TIFF"), "P": ("PNG", "TIFF"),
                "RGB": ("PNG", "TIFF", "JPEG"), "RGBA": ("PNG", "TIFF"), "I;16": ("PNG", "TIFF"), "I": ("TIFF",),
                "F": ("TIFF",), "CMYK": ("TIFF", "JPEG")}


def _sample(fmt: str) -> bytes:
    rgb = photo(HEIGHT, WIDTH)
    return encode(Image.fromarray(rgb).convert("P") if fmt == "GIF" else rgb, fmt)


SAMPLES = {fmt: _sample(fmt) for fmt in FORMATS}
GOOD_MASK = encode(box_mask(HEIGHT, WIDTH))


def png_with_size(width: int, height: int) -> bytes:
    """A PNG whose header declares ``width`` x ``height`` but carries almost no data (a bomb's header)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    data = chunk(b"IDAT", zlib.compress(b"\0" * 64))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + data + chunk(b"IEND", b"")


def _dimension_fields(fmt: str, data: bytes) -> tuple[str, int, int]:
    """struct format and offsets of the width and height in SAMPLES[fmt]'s header."""
    if fmt == "JPEG":
        sof = data.index(b"\xff\xc0")
        return ">H", sof + 7, sof + 5
    return {"BMP": ("<i", 18, 22), "TIFF": ("<I", 18, 30), "GIF": ("<H", 6, 8), "WEBP": ("<H", 26, 28)}[fmt]


def forged_size(fmt: str, width: int, height: int) -> bytes:
    """A real small file of ``fmt`` whose header claims ``width`` x ``height`` (16-bit fields are clamped)."""
    if fmt == "PNG":
        return png_with_size(width, height)
    data = bytearray(SAMPLES[fmt])
    kind, at_width, at_height = _dimension_fields(fmt, SAMPLES[fmt])
    top = {"<H": 0xFFFF, ">H": 0xFFFF, "<i": 2**31 - 1}.get(kind, 2**32 - 1)
    if fmt == "WEBP":
        top = 0x3FFF
    struct.pack_into(kind, data, at_width, min(width, top))
    struct.pack_into(kind, data, at_height, min(height, top))
    return bytes(data)


@st.composite
def mutated(draw, data: bytes) -> bytes:
    """``data`` truncated, with bytes overwritten, inserted or deleted, or a block repeated."""
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(("truncate", "flip", "insert", "delete", "repeat")))
        at = draw(st.integers(0, max(len(out) - 1, 0)))
        if kind == "truncate":
            del out[at:]
        elif kind == "flip":
            out[at:at + 4] = draw(st.binary(min_size=1, max_size=4))
        elif kind == "insert":
            out[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif kind == "delete":
            del out[at:at + draw(st.integers(1, 64))]
        else:
            out[at:at] = out[at:at + draw(st.integers(1, 256))] * draw(st.integers(1, 8))
    return bytes(out)


def image_files() -> st.SearchStrategy[bytes]:
    """Good files of every format, mutated ones, bomb headers, random bytes and empty input."""
    good = st.sampled_from(list(SAMPLES.values()))
    return st.one_of(
        good,
        st.sampled_from(FORMATS).flatmap(lambda fmt: mutated(SAMPLES[fmt])),
        st.builds(forged_size, st.sampled_from(FORMATS), st.integers(0, 2**31 - 1), st.integers(0, 2**31 - 1)),
        st.binary(max_size=64),
    )


@st.composite
def masks(draw) -> bytes:
    """Masks of every mode, matching or not the image's size, empty, full or random, in any format."""
    mode = draw(st.sampled_from(sorted(MASK_FORMATS)))
    height = draw(st.sampled_from((HEIGHT, HEIGHT + 1, 1, WIDTH)))
    width = draw(st.sampled_from((WIDTH, WIDTH - 1, 1, HEIGHT)))
    content = draw(st.sampled_from(("box", "empty", "full", "random")))
    if content == "random":
        values = np.random.default_rng(draw(st.integers(0, 2**16))).integers(0, 2, (height, width), dtype=np.uint8)
    else:
        values = np.full((height, width), content == "full", np.uint8)
        if content == "box":
            values = box_mask(height, width).astype(np.uint8)
    im = Image.fromarray(values * 255).convert(mode)
    fmt = draw(st.sampled_from(MASK_FORMATS[mode]))
    out = io.BytesIO()
    im.save(out, fmt)
    return out.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


GOOD_PREFIXES = ("data:image/png;base64,", "", "data:image/jpeg;base64,", "data:image/png;charset=utf-8;base64,")


@st.composite
def payloads(draw, files: st.SearchStrategy[bytes], good: bytes) -> object:
    """What a client puts in 'image' or 'mask': half the time ``good`` as a valid data URL (so the
    request gets past decoding), else data URLs with every prefix and padding, or not a string."""
    if draw(st.booleans()):
        return draw(st.sampled_from(GOOD_PREFIXES)) + b64(good)
    data = draw(files)
    body = b64(data)
    prefix = draw(st.sampled_from(("data:image/png;base64,", "", "data:image/jpeg;base64,", "data:;base64,",
                                   "data:image/png,", "data:image/png;base64", "data:text/html;base64,",
                                   "DATA:image/png;base64,", "data:image/png;charset=utf-8;base64,",
                                   "data:image/png;base64,,")))
    padding = draw(st.sampled_from(("", "=", "==", "====", "=" * 100, "\n", " ", "%3D")))
    body = body.rstrip("=") + padding if draw(st.booleans()) else body
    body = body.translate(str.maketrans("+/", "-_")) if draw(st.booleans()) else body
    return draw(st.one_of(
        st.just(prefix + body),
        st.just(prefix + body).map(lambda s: s[:len(s) // 2]),
        st.text(max_size=40),
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True),
        st.lists(st.integers(), max_size=3),
        st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=2),
    )) if draw(st.integers(0, 3)) == 0 else prefix + body


JSON_LEAVES = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
json_values = st.recursive(JSON_LEAVES, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=20)
OPTION_NAMES = ("strategy", "crop_trigger", "crop_margin", "resize_limit", "colour", "")
option_values = st.one_of(st.sampled_from(("crop", "resize", "original", "CROP ", "magic", "", "512", "1e3", "nan")),
                          st.integers(-2**70, 2**70), st.floats(), st.none(), st.booleans(), json_values)


@st.composite
def request_objects(draw) -> dict:
    """A JSON object as /predict and /api/v1/inpaint take it, each field good, bad or missing."""
    body: dict = {}
    if draw(st.integers(0, 5)):
        body["image"] = draw(payloads(image_files(), draw(st.sampled_from(list(SAMPLES.values())))))
    if draw(st.integers(0, 5)):
        body["mask"] = draw(payloads(masks() | image_files(), GOOD_MASK))
    if draw(st.booleans()):
        options = draw(st.dictionaries(st.sampled_from(OPTION_NAMES), option_values, max_size=3))
        if draw(st.booleans()):
            body["options"] = options
        else:
            body.update(options)
    if draw(st.integers(0, 2)) == 0:
        body["filename"] = draw(st.sampled_from(FILENAMES) | st.text(max_size=30))
    body.update(draw(st.dictionaries(st.text(max_size=5), json_values, max_size=2)))
    return body


FILENAMES = ("photo.png", "../../etc/passwd", "/root/x.png", "a\r\nX-Evil: 1.png", "日本.png", 'a"b.png', "",
             "x" * 5000, "C:\\Users\\me\\a.jpg", "\0.png")
DEPTHS = (1, 2, 31, 32, 33, 100, 999, 1000, 1001, 3000, 20_000)


def _nested(depth: int, style: str) -> str:
    if style == "array":
        return "[" * depth + "]" * depth
    if style == "object":
        return '{"a":' * depth + "1" + "}" * depth
    return '{"image": ' + "[" * depth + '"x"' + "]" * depth + "}"


CHARSETS = ("utf-8", "utf-16", "utf-32", "latin-1", "utf-16-le")


def nested_bodies() -> st.SearchStrategy[Body]:
    """JSON nested from 1 to 20,000 levels: arrays, objects, or deep inside the 'image' field."""
    depths = st.sampled_from(DEPTHS) | st.integers(1, 20_000)
    styles = st.sampled_from(("array", "object", "field"))
    return st.builds(lambda depth, style: Body(_nested(depth, style).encode(), "application/json"), depths, styles)


@dataclass
class Body:
    data: bytes
    content_type: str | None
    headers: dict = field(default_factory=dict)


@st.composite
def json_bodies(draw) -> Body:
    """Request bodies sent as JSON: good and bad objects, any JSON, deep nesting, broken text, charsets."""
    kind = draw(st.sampled_from(("object", "object", "object", "any", "deep", "deep", "text", "bytes")))
    if kind == "object":
        text = json.dumps(draw(request_objects()))
    elif kind == "any":
        text = json.dumps(draw(json_values))
    elif kind == "deep":
        depth = draw(st.sampled_from(DEPTHS) if draw(st.booleans()) else st.integers(1, 20_000))
        text = _nested(depth, draw(st.sampled_from(("array", "object", "field"))))
    elif kind == "text":
        text = draw(st.text(max_size=200))
    else:
        return Body(draw(st.binary(max_size=300)), draw(content_types()))
    text = text[:draw(st.integers(0, len(text)))] if draw(st.integers(0, 9)) == 0 else text
    charset = draw(st.sampled_from(CHARSETS))
    data = text.encode(charset, errors="replace")
    declared = draw(st.sampled_from((None, "utf-8", "latin-1", "utf-16", "klingon")))
    content_type = draw(st.sampled_from(("application/json", None, "text/plain", "application/x-www-form-urlencoded")))
    if content_type and declared:
        content_type += f"; charset={declared}"
    return Body(data, content_type)


def content_types() -> st.SearchStrategy[str | None]:
    return st.sampled_from((None, "application/json", "multipart/form-data", "multipart/form-data; boundary=",
                            "text/plain", "image/png", "application/octet-stream", "*/*", ";;;", "multipart/mixed"))


PART_HEADERS = ("", "Content-Type: image/png\r\n", "Content-Type: text/plain; charset=klingon\r\n",
                "Content-Transfer-Encoding: base64\r\n")


@st.composite
def multipart_bodies(draw) -> Body:
    """multipart/form-data with parts missing, duplicated, oversized, misnamed or malformed."""
    boundary = draw(st.sampled_from(("fuzzboundary", "x", "a" * 70, "with space")))
    names = ["image", "mask"] if draw(st.booleans()) else []
    names += draw(st.lists(st.sampled_from(("image", "mask", "strategy", "crop_margin", "", "x")), max_size=4))
    chunks = []
    for name in names:
        if name in ("image", "mask"):
            good = st.sampled_from(list(SAMPLES.values())) if name == "image" else st.just(GOOD_MASK)
            data = draw(good | (image_files() if name == "image" else masks()))
            filename = draw(st.sampled_from(('"a.png"', '"../../../etc/passwd"', '"日本.png"', '""', "a.png",
                                             '"/root/.ssh/id_rsa"', '"a\\"b.png"', None)))
            disposition = f'form-data; name="{name}"' + (f"; filename={filename}" if filename is not None else "")
        else:
            data = draw(st.binary(max_size=20) | st.sampled_from((b"crop", b"512", b"x" * 600_000)))
            disposition = f'form-data; name="{name}"'
        part_type = draw(st.sampled_from(PART_HEADERS))
        head = f"--{boundary}\r\nContent-Disposition: {disposition}\r\n{part_type}\r\n"
        chunks.append(head.encode() + data + b"\r\n")
    data = b"".join(chunks) + (f"--{boundary}--\r\n".encode() if draw(st.integers(0, 5)) else b"")
    if draw(st.integers(0, 7)) == 0:
        data = draw(mutated(data)) if data else data
    declared = draw(st.sampled_from((boundary, boundary, None, "other", '"' + boundary + '"')))
    content_type = "multipart/form-data" + (f"; boundary={declared}" if declared else "")
    if draw(st.integers(0, 5)) == 0:
        content_type += "; charset=" + draw(st.sampled_from(("utf-8", "latin-1", "klingon")))
    return Body(data, content_type)


METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE", "BREW")
PATHS = ("/", "/predict", "/api/v1/inpaint", "/api/v1/health", "/api/v1", "/api", "/index.html", "/style.css",
         "/../server.py", "/..%2fserver.py", "/%2e%2e/%2e%2e/etc/passwd", "//etc/passwd", "/js/../../api.py",
         "/web/index.html", "/%00", "/a%00b.js", "/~root/.ssh/id_rsa", "/C:%5Cwindows", "/js/", "/icon.svg/..")


@st.composite
def requests_of_any_shape(draw) -> tuple[str, str, Body]:
    """Any method on any route (and paths trying to leave the web folder), with any headers and body."""
    method = draw(st.sampled_from(METHODS))
    path = draw(st.sampled_from(PATHS) | st.text(min_size=1, max_size=30).map(lambda s: "/" + s.lstrip("/")))
    if draw(st.booleans()):
        path += "?" + draw(st.text(max_size=20))
    body = Body(draw(st.binary(max_size=100)), draw(content_types()))
    header_names = st.sampled_from(("Origin", "Accept", "Accept-Encoding", "Content-Encoding", "Range",
                                    "X-Forwarded-For", "If-Modified-Since", "Cookie", "Authorization", "Expect"))
    header_values = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40)
    body.headers = draw(st.dictionaries(header_names, header_values, max_size=3))
    return method, path, body
