"""A crowd of clients trickling bytes on raw sockets cannot lock a good request out of the server."""

from __future__ import annotations

import socket
import threading
import time

import requests
from fault_support import erase

TRICKLERS = 150  # more than waitress's default connection limit (100), which they used to exhaust
ANSWER_BOUND = 10.0  # seconds a good request may take while they trickle (the tiny model needs < 1 s)


def trickle(sockets: list[socket.socket], stop: threading.Event) -> None:
    """One byte of body per connection per second: never idle, never finished."""
    while not stop.wait(1.0):
        for sock in sockets:
            try:
                sock.send(b"x")
            except OSError:
                pass


def test_a_good_request_is_answered_while_150_clients_trickle(server):
    host, port = server.url.removeprefix("http://").split(":")
    sockets, stop = [], threading.Event()
    try:
        for _ in range(TRICKLERS):
            sock = socket.create_connection((host, int(port)), timeout=5)
            sock.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         b"Content-Length: 1000000\r\n\r\n{")
            sockets.append(sock)
        worker = threading.Thread(target=trickle, args=(sockets, stop), daemon=True)
        worker.start()
        time.sleep(2)  # every trickler has been accepted (or is queued) and has sent more bytes
        start = time.monotonic()
        health = requests.get(f"{server.url}/api/v1/health", timeout=ANSWER_BOUND)
        answer = erase(server.url, timeout=ANSWER_BOUND)
        elapsed = time.monotonic() - start
    finally:
        stop.set()
        for sock in sockets:
            sock.close()
    assert health.status_code == 200 and answer.status_code == 200, answer.text
    assert elapsed < ANSWER_BOUND, f"answered after {elapsed:.1f} s"
    assert server.process.poll() is None
