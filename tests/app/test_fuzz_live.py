"""Hostile requests against a real ``magiceraser serve`` on 127.0.0.1: generated ones through
requests, malformed HTTP through a raw socket. waitress answers the latter itself, so this is
where its refusals are checked to be JSON 4xx too. Afterwards the server is up and golden."""

from __future__ import annotations

import json
import socket

import pytest
import requests
from answer_checks import Answer, check_answer, check_golden, golden_request
from fuzz_cases import json_bodies, multipart_bodies, nested_bodies, requests_of_any_shape
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

LIVE_CASES = 80

RAW_REQUESTS = [
    b"GARBAGE\r\n\r\n",
    b"POST /predict HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: abc\r\n\r\n",
    b"POST /predict HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: -5\r\n\r\n",
    b"POST /predict HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    b"POST /predict HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: gzip\r\n\r\n",
    b"POST /predict HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 999999999999\r\n\r\n",
    b"POST /predict HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n{}",
    b"GET /\xff\xfe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    b"GET /api/v1/health HTTP/9.9\r\nHost: x\r\nConnection: close\r\n\r\n",
    b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\nBad Header\r\n\r\n",
    b"POST /api/v1/inpaint HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
    b"Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 17\r\n\r\n--b\r\nno headers\r\n",
]


def _raw(server, data: bytes) -> tuple[int, dict, bytes]:
    """Send ``data`` as is; the status, headers and body of waitress's answer."""
    port = int(server.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    head, _, body = reply.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, body


@pytest.mark.parametrize("data", RAW_REQUESTS, ids=range(len(RAW_REQUESTS)))
def test_malformed_http_gets_a_json_4xx(server, data):
    status, headers, body = _raw(server, data)
    method, _, rest = data.decode("latin-1").partition(" ")
    check_answer(Answer(status, headers, body), method, rest.partition(" ")[0])


def _send(server, method: str, path: str, body) -> None:
    response = requests.request(method, server.url + path, data=body.data, timeout=60,
                                headers={**body.headers, **({"Content-Type": body.content_type}
                                                            if body.content_type else {})})
    check_answer(Answer(response.status_code, response.headers, response.content), method, path)


ROUTED = st.one_of(
    json_bodies().map(lambda body: ("POST", "/predict", body)),
    nested_bodies().map(lambda body: ("POST", "/api/v1/inpaint", body)),
    json_bodies().map(lambda body: ("POST", "/api/v1/inpaint", body)),
    multipart_bodies().map(lambda body: ("POST", "/api/v1/inpaint", body)),
    requests_of_any_shape(),
)


@settings(max_examples=LIVE_CASES, derandomize=True, database=None, deadline=None,
          suppress_health_check=list(HealthCheck))
@given(case=ROUTED)
def test_generated_requests_on_the_real_server(server, case):
    method, path, body = case
    _send(server, method, requests.utils.quote(path, safe="/?=&%"), body)


def test_still_up_and_golden_after_the_fuzzing(server, lama_reference):
    response = requests.post(f"{server.url}/predict", data=json.dumps(golden_request(lama_reference)), timeout=120)
    assert response.status_code == 200, response.text[:300]
    check_golden(response.json()["result_image"], lama_reference)
    health = server.health()
    assert health["queue_length"] == 0 and not health["busy"]
    assert server.process.poll() is None
    assert "Traceback" not in server.log()
