"""A long-running server must not keep growing: 30 requests of 30 different sizes, RSS from /proc."""

from __future__ import annotations

import random

import requests
from eraser_samples import box_mask, encode, photo

# Measured here (tiny model): RSS climbs ~70 MiB over the first ~20 distinct shapes (allocator
# pools, per-shape kernels) and then levels off, swinging by ~20 MiB. A leak of ~2 MiB per request
# (keeping one decoded photo of this size) would add 60 MiB more.
ALLOWED_GROWTH_KB = 64 * 1024


def _sizes(count: int, seed: int) -> list[tuple[int, int]]:
    rng = random.Random(seed)
    return [(rng.randrange(64, 400), rng.randrange(64, 520)) for _ in range(count)]


def test_rss_stays_bounded_over_30_requests(server):
    def erase_all(sizes: list[tuple[int, int]]) -> list[int]:
        samples = []
        for height, width in sizes:
            response = requests.post(f"{server.url}/api/v1/inpaint", timeout=120, data={"strategy": "original"},
                                     files={"image": encode(photo(height, width)),
                                            "mask": encode(box_mask(height, width))})
            assert response.status_code == 200, response.text
            samples.append(server.rss_kb())
        return samples

    warm = erase_all(_sizes(8, seed=1))
    after = erase_all(_sizes(30, seed=2))
    print(f"VmRSS warm {warm[0] // 1024}-{max(warm) // 1024} MiB, after 30 more {after[-1] // 1024} MiB, "
          f"peak {max(after) // 1024} MiB")
    assert min(after[-5:]) - max(warm) < ALLOWED_GROWTH_KB, (warm, after)
