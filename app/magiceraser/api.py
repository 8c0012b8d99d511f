"""HTTP routes: the 2024 MagicEraser ``/predict`` contract, the ``/api/v1`` API, health.

Every failure is JSON ``{"error": ...}`` with a status code that names its class (see
server.py for the handlers); a 200 always carries an image.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from pathlib import PurePath
from urllib.parse import quote

from flask import Blueprint, Response, current_app, jsonify, request

from . import __version__
from .blas.health import BlasHealth
from .contract import Engine
from .dataurl import decode_payload, encode_data_url
from .erase_bytes import Erased, erase, parse_options
from .errors import ApiError
from .jobqueue import InferenceQueue
from .jsonbody import parse_object
from .strategy import InpaintOptions

bp = Blueprint("api", __name__)

_LOOPBACK_ORIGIN = re.compile(r"https?://(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?")
_TIMING_HEADERS = ("X-Inference-Seconds", "X-Queue-Seconds", "X-Decode-Seconds", "X-Encode-Seconds", "Server-Timing",
                   "X-Engine")
_EXTENSIONS = {"JPEG": "jpg", "TIFF": "tif"}
_UNSAFE_IN_FILENAME = re.compile(r"[^A-Za-z0-9._ -]")
MAX_STEM_CHARS = 100


@dataclass
class Runtime:
    """What the routes share: the loaded engine and the one-at-a-time queue."""

    engine: Engine
    queue: InferenceQueue
    blas: BlasHealth = field(init=False)

    def __post_init__(self) -> None:
        self.blas = BlasHealth(gate=self.queue.housekeeping)


def runtime() -> Runtime:
    return current_app.extensions["magiceraser"]


def _admitted(view: Callable[[], Response]) -> Callable[[], Response]:
    """Take a place in the inference queue before the body is parsed: a full queue is a 503 at once."""
    @wraps(view)
    def admitted_view() -> Response:
        with runtime().queue.admit():
            return view()
    return admitted_view


def _json_body() -> dict:
    return parse_object(request.get_data(cache=False))


def _options(fields: dict) -> InpaintOptions | None:
    try:
        return parse_options(fields)
    except ValueError as exc:
        raise ApiError(f"bad options: {exc}") from None


def _run(image: bytes, mask: bytes, options: InpaintOptions | None) -> Erased:
    state = runtime()
    return erase(state.engine, image, mask, options, max_pixels=current_app.config["MAX_PIXELS"],
                 gate=state.queue.turn)


def _timing_headers(erased: Erased) -> dict[str, str]:
    t = erased.timings
    return {
        "X-Inference-Seconds": f"{t['inference']:.3f}",
        "X-Queue-Seconds": f"{t['queue']:.3f}",
        "X-Decode-Seconds": f"{t['decode']:.3f}",
        "X-Encode-Seconds": f"{t['encode']:.3f}",
        "Server-Timing": ", ".join(f"{name};dur={seconds * 1000:.1f}" for name, seconds in t.items()),
        "X-Engine": runtime().engine.name,
    }


@bp.post("/predict")
@_admitted
def predict():
    """The 2024 MagicEraser client: data URLs in, ``{"result_image": dataURL}`` out."""
    body = _json_body()
    erased = _run(decode_payload(body.get("image"), "image"), decode_payload(body.get("mask"), "mask"), None)
    response = jsonify(result_image=encode_data_url(erased.data, erased.mime))
    response.headers.update(_timing_headers(erased))
    return response


def _uploaded(name: str) -> tuple[bytes, str | None]:
    uploads = request.files.getlist(name)
    if not uploads:
        raise ApiError(f"multipart field '{name}' (a file) is missing; send both 'image' and 'mask'")
    if len(uploads) > 1:
        raise ApiError(f"multipart field '{name}' was sent {len(uploads)} times; send one 'image' and one 'mask'")
    return uploads[0].read(), uploads[0].filename


def _content_disposition(filename: str | None, fmt: str) -> str:
    """``inline`` with the result's name: an ASCII ``filename`` any client can parse (nothing a client
    sent can break out of the header) plus RFC 6266 ``filename*`` when the name was not plain ASCII."""
    stem = PurePath(filename).stem[:MAX_STEM_CHARS] if filename else "image"
    name = f"{stem}-erased.{_EXTENSIONS.get(fmt, fmt.lower())}"
    ascii_name = _UNSAFE_IN_FILENAME.sub("_", unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode())
    if ascii_name == name:
        return f'inline; filename="{name}"'
    return f"inline; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


@bp.post("/api/v1/inpaint")
@_admitted
def inpaint():
    """Multipart files or JSON base64 in; the result image's bytes out, in the input's format."""
    if request.mimetype == "multipart/form-data":
        (image, filename), (mask, _) = _uploaded("image"), _uploaded("mask")
        fields = request.form.to_dict()
    elif request.mimetype == "application/json":
        body = _json_body()
        image, mask = decode_payload(body.get("image"), "image"), decode_payload(body.get("mask"), "mask")
        filename = body.get("filename") if isinstance(body.get("filename"), str) else None
        fields = body["options"] if isinstance(body.get("options"), dict) else {
            key: value for key, value in body.items() if key not in ("image", "mask", "filename", "options")}
    else:
        raise ApiError("send multipart/form-data (files 'image' and 'mask') or application/json (base64 'image' "
                       f"and 'mask'); got {request.mimetype or 'no Content-Type'}", 415)
    erased = _run(image, mask, _options(fields))
    headers = {**_timing_headers(erased), "Content-Disposition": _content_disposition(filename, erased.format)}
    return Response(erased.data, mimetype=erased.mime, headers=headers)


@bp.get("/api/v1/health")
def health():
    """Engine, model and queue state: what a UI shows and what a deploy check verifies; the BLAS in use
    (its sgemm speed measured once, in the background, from the first health call on)."""
    state = runtime()
    config = current_app.config
    return jsonify({
        "status": "ok",
        "version": __version__,
        **state.engine.info(),
        "queue_length": state.queue.waiting,
        "busy": state.queue.busy,
        "max_waiting": state.queue.max_waiting,
        "max_pixels": config["MAX_PIXELS"],
        "max_request_bytes": config["MAX_CONTENT_LENGTH"],
        "blas": state.blas.snapshot(),
    })


def _origin_allowed(origin: str) -> bool:
    allowed = current_app.config["CORS_ORIGINS"]
    if not allowed:
        return bool(_LOOPBACK_ORIGIN.fullmatch(origin))
    return "*" in allowed or origin in allowed


@bp.after_request
def cors(response: Response) -> Response:
    """Let a browser UI served from another local origin (the 2024 Vue client) call the API."""
    origin = request.headers.get("Origin")
    if origin and _origin_allowed(origin):
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = "Content-Type"
        response.headers["Access-Control-Expose-Headers"] = ", ".join(_TIMING_HEADERS)
        response.headers["Access-Control-Max-Age"] = "600"
        response.vary.add("Origin")
    return response
