"""The HTTP API on a real ``magiceraser serve`` process: the 2024 contract, /api/v1, errors, CORS."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest
import requests
from eraser_samples import box_mask, data_url, decode, encode, mask_png, photo
from PIL import Image

from magiceraser.server import WEB_DIR


def _predict(server, payload, headers: dict | None = None) -> requests.Response:
    body = payload if isinstance(payload, (str, bytes)) else json.dumps(payload)
    return requests.post(f"{server.url}/predict", data=body, timeout=120,
                         headers={"Content-Type": "application/json", **(headers or {})})


def _error(response: requests.Response, status: int) -> str:
    assert response.status_code == status, (response.status_code, response.text[:300])
    assert response.headers["Content-Type"] == "application/json"
    message = response.json()["error"]
    assert isinstance(message, str) and message and "Traceback" not in message
    return message


def test_predict_matches_the_golden_lama_output(server, lama_reference):
    """The 2024 client's exact request: data URLs in, result_image data URL out (tiny LaMa, +-1)."""
    image = (lama_reference / "image.png").read_bytes()
    mask = (lama_reference / "mask.png").read_bytes()
    response = _predict(server, {"image": data_url(image), "mask": data_url(mask)})
    assert response.status_code == 200, response.text
    result = response.json()["result_image"]
    prefix = "data:image/png;base64,"
    assert result.startswith(prefix)
    pixels = np.asarray(decode(base64.b64decode(result[len(prefix):])), dtype=int)
    golden = np.load(lama_reference / "golden.npz")["result_uint8"].astype(int)
    assert pixels.shape == golden.shape
    assert np.abs(pixels - golden).max() <= 1
    hole = np.asarray(decode(mask)) > 0
    assert np.array_equal(pixels[~hole], np.asarray(decode(image), dtype=int)[~hole])


def test_predict_accepts_the_2024_clients_quirks(server):
    """JPEG data URL, opaque RGBA mask, padding appended blindly, URL-safe alphabet, no Content-Type."""
    rgb = photo(60, 80)
    jpeg = encode(rgb, "JPEG", quality=92)
    image = "data:image/jpeg;base64," + base64.urlsafe_b64encode(jpeg).decode() + "===="
    response = requests.post(f"{server.url}/predict", timeout=120,
                             data=json.dumps({"image": image, "mask": data_url(mask_png(box_mask(60, 80)))}))
    assert response.status_code == 200, response.text
    result = response.json()["result_image"]
    assert result.startswith("data:image/jpeg;base64,")
    out = decode(base64.b64decode(result.split(",", 1)[1]))
    assert out.format == "JPEG" and out.size == (80, 60)
    assert float(response.headers["X-Inference-Seconds"]) > 0


def test_cors_for_a_browser_client_on_another_local_origin(server):
    origin = "http://localhost:5173"
    preflight = requests.options(f"{server.url}/predict", timeout=10, headers={
        "Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"})
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == origin
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "content-type" in preflight.headers["Access-Control-Allow-Headers"].lower()
    refused = _predict(server, "not json", headers={"Origin": origin})
    _error(refused, 400)
    assert refused.headers["Access-Control-Allow-Origin"] == origin  # the client can read the error
    foreign = requests.get(f"{server.url}/api/v1/health", headers={"Origin": "https://evil.example"}, timeout=10)
    assert "Access-Control-Allow-Origin" not in foreign.headers


def test_inpaint_multipart_keeps_format_and_exif(server):
    exif = Image.Exif()
    exif[0x010F] = "RVBook"
    exif[0x0112] = 6
    rgb = photo(64, 96)
    jpeg = encode(rgb, "JPEG", quality=90, exif=exif.tobytes())
    mask = encode(box_mask(96, 64))  # drawn on the upright (portrait) image
    response = requests.post(f"{server.url}/api/v1/inpaint", timeout=120,
                             files={"image": ("holiday.jpg", jpeg), "mask": ("mask.png", mask)},
                             data={"strategy": "original"})
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "image/jpeg"
    assert 'filename="holiday-erased.jpg"' in response.headers["Content-Disposition"]
    out = decode(response.content)
    assert out.size == (64, 96)
    assert out.getexif()[0x010F] == "RVBook" and 0x0112 not in out.getexif()
    for header in ("X-Inference-Seconds", "X-Queue-Seconds"):
        assert float(response.headers[header]) >= 0
    timing = response.headers["Server-Timing"]
    assert "inference;dur=" in timing and "queue;dur=" in timing


def test_inpaint_json_rgba_keeps_alpha_and_unmasked_pixels(server):
    rgba = np.dstack([photo(48, 64), np.tile(np.arange(64, dtype=np.uint8) * 4, (48, 1))])
    mask = box_mask(48, 64)
    body = {"image": base64.b64encode(encode(rgba)).decode(), "mask": data_url(encode(mask)),
            "options": {"strategy": "crop", "crop_margin": 16}}
    response = requests.post(f"{server.url}/api/v1/inpaint", json=body, timeout=120)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "image/png"
    out = np.asarray(decode(response.content))
    assert out.shape == (48, 64, 4)
    assert np.array_equal(out[..., 3], rgba[..., 3])
    assert np.array_equal(out[~mask], rgba[~mask])
    assert not np.array_equal(out[mask], rgba[mask])


def test_health_reports_engine_model_and_queue(server, tiny_model):
    health = server.health()
    assert health["engine"] == "lama"
    assert health["model_path"] and tiny_model.name in health["model_path"]
    assert health["model_digest"]
    assert health["torch_version"]
    assert health["threads"] >= 1
    assert isinstance(health["mkldnn"], bool)
    assert health["queue_length"] == 0
    for key in ("model_missing_hint", "pixels_per_second", "max_pixels"):
        assert key in health
    assert f"MagicEraser on {server.url}/" in server.log()


def test_web_ui_is_served(server):
    response = requests.get(f"{server.url}/", timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    assert b"<html" in response.content.lower()
    asset = next(p for p in sorted(WEB_DIR.rglob("*")) if p.is_file() and p.name != "index.html")
    response = requests.get(f"{server.url}/{asset.relative_to(WEB_DIR).as_posix()}", timeout=10)
    assert response.status_code == 200 and response.content == asset.read_bytes()
    _error(requests.get(f"{server.url}/no-such-file.js", timeout=10), 404)


IMAGE = encode(photo(40, 50))
MASK = encode(box_mask(40, 50))


@pytest.mark.parametrize("body,match", [
    ("{not json", "JSON object"),
    ("[1, 2]", "JSON object"),
    ({"mask": data_url(MASK)}, "'image' must be"),
    ({"image": "data:image/png;base64,@@@@", "mask": data_url(MASK)}, "not valid base64"),
    ({"image": data_url(b"GIF89a but not really"), "mask": data_url(MASK)}, "not a readable image"),
    ({"image": data_url(IMAGE[:200]), "mask": data_url(MASK)}, "truncated or corrupt"),
    ({"image": data_url(IMAGE), "mask": data_url(encode(box_mask(50, 40)))}, "mask is 40x50 but the image is 50x40"),
    ({"image": data_url(IMAGE), "mask": data_url(encode(np.zeros((40, 50), np.uint8)))}, "mask is empty"),
])
def test_bad_requests_are_400(server, body, match):
    assert match in _error(_predict(server, body), 400)


def test_bad_options_and_missing_files_are_400(server):
    files = {"image": IMAGE, "mask": MASK}
    response = requests.post(f"{server.url}/api/v1/inpaint", files=files, data={"strategy": "magic"}, timeout=60)
    assert "strategy" in _error(response, 400)
    response = requests.post(f"{server.url}/api/v1/inpaint", files=files, data={"colour": "red"}, timeout=60)
    assert "colour" in _error(response, 400)
    response = requests.post(f"{server.url}/api/v1/inpaint", files={"image": IMAGE}, timeout=60)
    assert "'mask'" in _error(response, 400)


def test_too_large_is_413(server):
    big = encode(np.zeros((1200, 1000, 3), np.uint8))  # 1.2 MP > --max-pixels 1000000
    message = _error(_predict(server, {"image": data_url(big), "mask": data_url(MASK)}), 413)
    assert "1,000,000" in message
    bomb = encode(Image.new("1", (8_000, 8_000)))  # 64 MP in a few kB
    _error(requests.post(f"{server.url}/api/v1/inpaint", files={"image": bomb, "mask": MASK}, timeout=60), 413)
    huge_body = b"0" * (5 * 2**20)  # > --max-request-mb 4
    message = _error(requests.post(f"{server.url}/api/v1/inpaint", data=huge_body, timeout=60,
                                   headers={"Content-Type": "application/json"}), 413)
    assert "larger than" in message


def test_unsupported_is_415(server):
    icon = encode(photo(32, 32), "ICO")
    assert "ICO" in _error(_predict(server, {"image": data_url(icon), "mask": data_url(MASK)}), 415)
    assert "text/plain" in _error(_predict(server, {"image": "data:text/plain;base64,aGk=", "mask": "x"}), 415)
    response = requests.post(f"{server.url}/api/v1/inpaint", data="image=1", timeout=10,
                             headers={"Content-Type": "text/plain"})
    assert "multipart/form-data" in _error(response, 415)


def test_unknown_routes_and_methods_are_json(server):
    _error(requests.get(f"{server.url}/api/v1/nothing", timeout=10), 404)
    _error(requests.get(f"{server.url}/api/v1/inpaint", timeout=10), 405)
    assert server.health()["status"] == "ok"  # still alive after every error above
