"""The queue's admission (refused before the body is parsed) and the bounded JSON parser."""

from __future__ import annotations

import time

import pytest

from magiceraser.errors import ApiError, QueueFull
from magiceraser.jobqueue import InferenceQueue
from magiceraser.jsonbody import MAX_DEPTH, parse_object


def test_admission_holds_max_waiting_plus_one_requests():
    queue = InferenceQueue(max_waiting=2)
    with queue.admit(), queue.admit(), queue.admit():
        started = time.perf_counter()
        with pytest.raises(QueueFull, match="2 request"):
            with queue.admit():
                pass
        assert time.perf_counter() - started < 0.1
    with queue.admit(), queue.admit(), queue.admit():  # all three places free again
        pass


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 5_000, 1_000_000])
def test_json_nested_too_deep_is_a_client_error(depth):
    with pytest.raises(ApiError, match="nested more than|characters outside strings"):
        parse_object(("[" * depth + "]" * depth).encode())


def test_json_depth_up_to_the_limit_and_strings_with_brackets_parse():
    nested = "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1)
    assert parse_object(f'{{"a": {nested}, "b": "[[[[{{{{\\"]]]"}}'.encode())["b"] == '[[[[{{"]]]'
    assert parse_object('{"image": "x"}'.encode("utf-16")) == {"image": "x"}
    assert parse_object(b'\xef\xbb\xbf{"image": "x"}') == {"image": "x"}
