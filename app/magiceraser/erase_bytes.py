"""Image bytes + mask bytes -> result bytes in the input's format: the one path the API and CLI share."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field

from .contract import Engine
from .imageio import DEFAULT_MAX_PIXELS, decode_image, decode_mask
from .strategy import InpaintOptions

Gate = Callable[[], AbstractContextManager]


@dataclass
class Erased:
    data: bytes
    format: str
    mime: str
    timings: dict[str, float] = field(default_factory=dict)  # seconds: decode, queue, inference, encode


def parse_options(fields: Mapping) -> InpaintOptions | None:
    """InpaintOptions from request/CLI fields; None when none were given, so the engine's defaults apply.

    Raises ValueError naming the bad field."""
    if not fields:
        return None
    return InpaintOptions.from_mapping(fields)


def erase(engine: Engine, image: bytes, mask: bytes, options: InpaintOptions | None = None, *,
          max_pixels: int = DEFAULT_MAX_PIXELS, gate: Gate = lambda: nullcontext(0.0)) -> Erased:
    """Decode, inpaint inside ``gate`` (the inference queue; it yields its waiting time), encode.

    Decoding and encoding stay outside the gate so they never hold up the one inference slot."""
    t0 = time.perf_counter()
    decoded = decode_image(image, max_pixels)
    hole = decode_mask(mask, decoded.size, max_pixels)
    t1 = time.perf_counter()
    with gate() as queued:
        t2 = time.perf_counter()
        result = engine.inpaint(decoded.rgb, hole, options)
        t3 = time.perf_counter()
    data = decoded.encode(result, hole)
    t4 = time.perf_counter()
    timings = {"decode": t1 - t0, "queue": queued, "inference": t3 - t2, "encode": t4 - t3}
    return Erased(data=data, format=decoded.format, mime=decoded.mime, timings=timings)
