"""One inference at a time, FIFO, bounded: in-process queue semantics and 8 real concurrent clients."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from eraser_samples import box_mask, encode, photo
from live_server import live_server

from magiceraser.errors import QueueFull
from magiceraser.jobqueue import InferenceQueue


def test_turns_are_taken_in_arrival_order_one_at_a_time():
    queue = InferenceQueue(max_waiting=10)
    started: list[int] = []
    inside = threading.Semaphore(1)
    overlap = []

    def job(number: int) -> None:
        with queue.turn():
            if not inside.acquire(blocking=False):
                overlap.append(number)
            started.append(number)
            time.sleep(0.02)
            inside.release()

    threads = []
    for number in range(6):
        threads.append(threading.Thread(target=job, args=(number,)))
        threads[-1].start()
        time.sleep(0.005)  # arrival order 0..5
    for thread in threads:
        thread.join()
    assert started == list(range(6))
    assert not overlap
    assert queue.waiting == 0 and not queue.busy


def test_full_queue_refuses_at_once_with_a_retry_estimate():
    queue = InferenceQueue(max_waiting=1)
    release = threading.Event()
    entered = threading.Event()

    def hold() -> None:
        with queue.turn():
            entered.set()
            release.wait(5)

    def wait_in_line() -> None:
        with queue.turn() as waited:
            assert waited > 0

    runner = threading.Thread(target=hold)
    runner.start()
    entered.wait(5)
    waiter = threading.Thread(target=wait_in_line)
    waiter.start()
    while queue.waiting < 1:
        time.sleep(0.001)
    assert queue.busy
    started = time.perf_counter()
    with pytest.raises(QueueFull, match="1 request") as refused:
        with queue.turn():
            pass
    assert time.perf_counter() - started < 0.1
    assert refused.value.retry_after >= 1
    release.set()
    runner.join()
    waiter.join()
    with queue.turn() as waited:  # free again
        assert waited < 0.1


def test_no_waiting_allowed():
    queue = InferenceQueue(max_waiting=0)
    with queue.turn():
        with pytest.raises(QueueFull):
            with queue.turn():
                pass
    with pytest.raises(ValueError):
        InferenceQueue(max_waiting=-1)


def test_housekeeping_waits_its_turn_and_never_gets_a_request_refused():
    """A chore (the BLAS measurement) waits for the running erase; a request arriving while a
    chore waits or runs is served after it, not refused, even with no waiting places at all."""
    queue = InferenceQueue(max_waiting=0)
    order: list[str] = []
    release = threading.Event()

    def chore() -> None:
        with queue.housekeeping():
            order.append("chore")
            release.wait(5)

    def request() -> None:
        with queue.turn():
            order.append("request")

    with queue.turn():
        chores = threading.Thread(target=chore)
        chores.start()
        time.sleep(0.2)
        assert order == []  # the running erase holds the turn
    time.sleep(0.2)
    assert order == ["chore"]
    requests_ = threading.Thread(target=request)
    requests_.start()  # would raise QueueFull if the chore counted as a request
    time.sleep(0.2)
    release.set()
    chores.join(5)
    requests_.join(5)
    assert order == ["chore", "request"]


def test_eight_concurrent_clients_against_a_queue_of_two(tiny_model):
    """All 8 get an answer (the image, or 503 + Retry-After), accepted ones in arrival order."""
    size = 512  # full-resolution run on the tiny model (~1-2 s here): long enough for the queue to fill
    image = encode(photo(size, size))
    mask = encode(box_mask(size, size))
    with live_server(tiny_model, "--max-waiting", "2") as server:
        def client(number: int):
            time.sleep(number * 0.04)  # distinct arrival order, all within one inference
            response = requests.post(f"{server.url}/api/v1/inpaint", files={"image": image, "mask": mask},
                                     data={"strategy": "original"}, timeout=300)
            return number, response, time.perf_counter()

        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(client, range(8)))
        statuses = [response.status_code for _, response, _ in results]
        assert set(statuses) <= {200, 503}, statuses
        served = [(number, done) for number, response, done in results if response.status_code == 200]
        refused = [response for _, response, _ in results if response.status_code == 503]
        assert len(served) >= 3 and refused, statuses
        assert [number for number, _ in sorted(served, key=lambda item: item[1])] == sorted(n for n, _ in served)
        for response in refused:
            assert int(response.headers["Retry-After"]) >= 1
            assert "busy" in response.json()["error"]
        for _, response, _ in results:
            if response.status_code == 200:
                assert response.headers["Content-Type"] == "image/png"
        health = server.health()
        assert health["queue_length"] == 0 and health["busy"] is False
        assert server.process.poll() is None
