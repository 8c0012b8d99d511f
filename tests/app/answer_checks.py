"""What every answer of the eraser must look like, whatever was asked, and the golden result.

Shared by the in-process fuzzing (Flask's test client) and the real server runs (requests).
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from magiceraser.server import WEB_DIR

REPO = Path(__file__).resolve().parents[2]
PRIVATE = (str(Path.home()) + "/", str(REPO), "site-packages", "Traceback", "internal error")
CLIENT_ERRORS = {400, 404, 405, 413, 415, 416}
API_ROUTES = ("/predict", "/api/v1/inpaint", "/api/v1/health")
WEB_FILES = {p.read_bytes() for p in WEB_DIR.rglob("*") if p.is_file()}


@dataclass
class Answer:
    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "")


def check_answer(answer: Answer, method: str, path: str, *, busy_ok: bool = False) -> None:
    """A 200 that carries what the route promises, or a JSON 4xx (503 when ``busy_ok``) with a reason."""
    context = (method, path[:80], answer.status, answer.body[:300])
    for name, value in answer.headers.items():
        assert "\r" not in value and "\n" not in value, (name, value, context)
        value.encode("latin-1")  # what HTTP/1.1 can carry; anything else is a 500 in waitress
    route = path.split("?")[0]
    if answer.status == 200:
        _check_success(answer, method, route, context)
        return
    if answer.status in (206, 304) and route not in API_ROUTES:  # a Range or If-Modified-Since on a web file
        assert not answer.body or any(answer.body in web_file for web_file in WEB_FILES), context
        return
    allowed = CLIENT_ERRORS | ({503} if busy_ok else set())
    assert answer.status in allowed, context
    if method == "HEAD":
        return
    assert answer.content_type == "application/json", context
    message = json.loads(answer.body)["error"]
    assert isinstance(message, str) and message, context
    assert not any(private in message for private in PRIVATE), context
    assert len(message) <= 1000, context
    if answer.status == 503:
        assert int(answer.headers["Retry-After"]) >= 1, context


def _check_success(answer: Answer, method: str, route: str, context: tuple) -> None:
    if method in ("HEAD", "OPTIONS"):
        return
    if route == "/predict":
        result = json.loads(answer.body)["result_image"]
        assert isinstance(result, str) and result.startswith("data:image/"), context
        Image.open(io.BytesIO(base64.b64decode(result.split(",", 1)[1]))).load()
    elif route == "/api/v1/inpaint":
        assert answer.content_type.startswith("image/"), context
        Image.open(io.BytesIO(answer.body)).load()
    elif route == "/api/v1/health":
        assert json.loads(answer.body)["status"] == "ok", context
    else:
        assert answer.body in WEB_FILES, context  # a file of the web UI and nothing else on disk


def check_golden(result_image: str, lama_reference: Path) -> None:
    """/predict's answer for the reference image and mask equals the golden LaMa output (+-1)."""
    prefix = "data:image/png;base64,"
    assert result_image.startswith(prefix)
    pixels = np.asarray(Image.open(io.BytesIO(base64.b64decode(result_image[len(prefix):]))), dtype=int)
    golden = np.load(lama_reference / "golden.npz")["result_uint8"].astype(int)
    assert pixels.shape == golden.shape and np.abs(pixels - golden).max() <= 1


def golden_request(lama_reference: Path) -> dict:
    def url(name: str) -> str:
        return "data:image/png;base64," + base64.b64encode((lama_reference / name).read_bytes()).decode()
    return {"image": url("image.png"), "mask": url("mask.png")}
