"""Security defaults of the HTTP side: nothing a request names reaches the filesystem, bombs are
refused from their header, bodies over the limit are refused unread, and error bodies show no
path of the server's machine (the traceback goes to the server log only)."""

from __future__ import annotations

import io
import logging
import sys
import tempfile
from pathlib import Path

import pytest
from answer_checks import PRIVATE
from eraser_samples import box_mask, data_url, encode, photo
from fuzz_cases import FORMATS, forged_size
from PIL import Image, ImageFile
from test_api_internal_errors import BrokenEngine

from magiceraser.classical.engine import ClassicalEngine
from magiceraser.server import WEB_DIR, create_app

MARKER = "zz-request-named-path"
AUDITED = ("open", "os.listdir", "os.scandir", "os.remove", "os.rename", "os.mkdir", "shutil.copyfile")
_opened: list[tuple[str, str]] | None = None


def _audit(event: str, args: tuple) -> None:
    if _opened is not None and event in AUDITED and args and isinstance(args[0], (str, bytes, Path)):
        _opened.append((event, str(args[0])))


sys.addaudithook(_audit)  # hooks cannot be removed; this one records only while a test sets _opened

IMAGE, MASK = encode(photo(40, 50)), encode(box_mask(40, 50))
MAX_PIXELS = 1_000_000


@pytest.fixture(scope="module")
def client():
    app = create_app({"ENGINE": ClassicalEngine(), "MAX_PIXELS": MAX_PIXELS, "MAX_CONTENT_LENGTH": 2**20})
    return app.test_client()


def test_no_path_from_a_request_reaches_the_filesystem(client):
    global _opened
    paths = [f"/{MARKER}", f"/../{MARKER}", f"/..%2f..%2f{MARKER}", f"/js/../../{MARKER}", f"//tmp/{MARKER}",
             f"/%2e%2e/%2e%2e/tmp/{MARKER}", f"/index.html/{MARKER}", f"/~/{MARKER}"]
    assert client.get("/index.html").status_code == 200  # loads the MIME table before recording
    _opened = []
    try:
        for path in paths:
            assert client.get(path).status_code == 404, path
        named = {"image": (io.BytesIO(IMAGE), f"../../../tmp/{MARKER}.png"), "mask": (io.BytesIO(MASK), f"/{MARKER}")}
        assert client.post("/api/v1/inpaint", data=named).status_code == 200
        body = {"image": data_url(IMAGE), "mask": data_url(MASK), "filename": f"/tmp/{MARKER}.png"}
        assert client.post("/api/v1/inpaint", json=body).status_code == 200
        assert client.get("/index.html").status_code == 200
        touched = list(_opened)
    finally:
        _opened = None
    assert not [entry for entry in touched if MARKER in entry[1]], touched
    allowed = (str(WEB_DIR), tempfile.gettempdir(), sys.prefix, sys.base_prefix, "/proc/stat")
    # web files, spooled uploads, modules; the machine's load (adaptive threads)
    assert all(path.startswith(allowed) for _, path in touched), touched
    assert not list(Path(tempfile.gettempdir()).glob(f"*{MARKER}*"))


def _bombs() -> dict[str, bytes]:
    """Files of 100 MP (limit 1 MP) that are a few kB: real compressed bombs and forged headers."""
    huge = Image.new("1", (10_000, 10_000))
    forged = {f"forged {fmt}": forged_size(fmt, 10_000, 10_000) for fmt in FORMATS}
    return {"png": encode(huge, "PNG"), "tiff": encode(huge, "TIFF", compression="group4"),
            "gif": encode(huge.convert("P"), "GIF"), **forged}


def test_decompression_bombs_are_refused_before_any_pixel_is_decoded(client, monkeypatch):
    decoded: list[tuple[int, int]] = []
    original_load = ImageFile.ImageFile.load

    def spy(im):
        decoded.append(im.size)
        return original_load(im)

    monkeypatch.setattr(ImageFile.ImageFile, "load", spy)
    for name, bomb in _bombs().items():
        assert len(bomb) < 2**20, name
        for fields in ({"image": bomb, "mask": MASK}, {"image": IMAGE, "mask": bomb}):
            files = {key: (io.BytesIO(value), "x") for key, value in fields.items()}
            response = client.post("/api/v1/inpaint", data=files)
            assert response.status_code == 413, (name, response.get_json())
            assert "1,000,000 pixels" in response.get_json()["error"]
    assert decoded and all(width * height <= MAX_PIXELS for width, height in decoded), decoded  # only IMAGE


class CountingStream(io.BytesIO):
    """A request body that records how much of it the server read."""

    taken = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        CountingStream.taken += len(chunk)
        return chunk

    readline = read


@pytest.mark.parametrize("content_type", ["application/json", "multipart/form-data; boundary=x"])
def test_a_body_over_the_limit_is_refused_unread(client, content_type):
    CountingStream.taken = 0
    size = 2**20 + 1
    response = client.post("/predict" if content_type == "application/json" else "/api/v1/inpaint",
                           input_stream=CountingStream(b"{" * size), content_type=content_type,
                           headers={"Content-Length": str(size)})
    assert response.status_code == 413
    assert "larger than 1,048,576 bytes" in response.get_json()["error"]
    assert CountingStream.taken == 0


def test_error_bodies_show_no_path_of_the_server(caplog):
    secret_path = f"{Path.home()}/.local/share/magiceraser/big-lama/best.ckpt"
    failure = FileNotFoundError(2, "No such file or directory", secret_path)
    client = create_app({"ENGINE": BrokenEngine(failure)}).test_client()
    with caplog.at_level(logging.ERROR, logger="magiceraser.server"):
        response = client.post("/predict", json={"image": data_url(IMAGE), "mask": data_url(MASK)})
    message = response.get_json()["error"]
    assert response.status_code == 500 and "best.ckpt" in message
    assert not any(private in message for private in PRIVATE[:3]), message
    assert secret_path in caplog.text  # the operator still sees it
