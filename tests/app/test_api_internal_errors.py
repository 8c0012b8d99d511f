"""Failures inside the engine: a JSON 500 with a message (and a log entry), never a traceback or a 200 null."""

from __future__ import annotations

import io
import logging

import pytest
from eraser_samples import box_mask, data_url, encode, photo

from magiceraser.classical.engine import ClassicalEngine
from magiceraser.common import url_for_host
from magiceraser.server import create_app, exposure_warning


class BrokenEngine(ClassicalEngine):
    """A real engine whose inference fails the way a crashed or starved model does."""

    def __init__(self, failure: BaseException):
        super().__init__()
        self.failure = failure

    def inpaint(self, rgb, mask, options=None):
        raise self.failure


@pytest.mark.parametrize("failure,status,match", [
    (RuntimeError("conv kernel exploded"), 500, "internal error: RuntimeError: conv kernel exploded"),
    (MemoryError(), 500, "out of memory"),
])
def test_engine_failures_are_json_500(failure, status, match, caplog):
    client = create_app({"ENGINE": BrokenEngine(failure)}).test_client()
    image, mask = encode(photo(32, 40)), encode(box_mask(32, 40))
    with caplog.at_level(logging.ERROR, logger="magiceraser.server"):
        response = client.post("/predict", json={"image": data_url(image), "mask": data_url(mask)})
    assert response.status_code == status
    assert match in response.get_json()["error"]
    assert caplog.records and caplog.records[-1].exc_info  # the traceback goes to the log only
    response = client.post("/api/v1/inpaint", data={"image": (io.BytesIO(image), "a.png"),
                                                    "mask": (io.BytesIO(mask), "m.png")})
    assert response.status_code == status and response.is_json
    assert client.get("/api/v1/health").get_json()["queue_length"] == 0  # the slot was released


def test_exposure_warning_and_url():
    for host in ("127.0.0.1", "127.0.0.2", "localhost", "::1"):
        assert exposure_warning(host) is None
    for host in ("0.0.0.0", "192.168.1.20", "::", "rvbook.local"):
        assert "anyone who can reach this machine" in exposure_warning(host)
    assert url_for_host("0.0.0.0", 7777) == "http://127.0.0.1:7777/"
    assert url_for_host("::1", 8000) == "http://[::1]:8000/"
