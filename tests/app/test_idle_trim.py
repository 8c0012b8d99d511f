"""Freed memory goes back to the OS once the engine has been idle, not after every request."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

from magiceraser.threads import IdleTrim

ENGINE_RSS = """
import json, time
import numpy as np
from magiceraser.lama import runner
runner.TRIM_AFTER_IDLE_S = {delay}
from magiceraser.strategy import InpaintOptions

def rss_mb():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) // 1024 for line in status if line.startswith("VmRSS"))

engine = runner.LamaEngine.load({model!r}, threads=1, mkldnn=False)
rgb = np.random.default_rng(0).integers(0, 256, (1024, 1024, 3), np.uint8)
mask = np.zeros((1024, 1024), bool)
mask[100:900, 100:900] = True
engine.inpaint(rgb, mask, InpaintOptions(strategy="original"))
after = rss_mb()
time.sleep({delay} + 1.0)
print(json.dumps({{"after": after, "idle": rss_mb()}}))
"""


def test_one_release_after_a_quiet_spell() -> None:
    released: list[str] = []
    done = threading.Event()

    def run(job):  # stands in for the inference thread's submit
        released.append(threading.current_thread().name)
        done.set()

    trim = IdleTrim(0.3, run)
    for _ in range(3):
        trim.request_done()
        time.sleep(0.1)
    assert released == [], "released while requests were still coming"
    assert done.wait(2.0)
    time.sleep(0.4)
    assert len(released) == 1


def test_the_engine_shrinks_once_idle(tiny_model: Path) -> None:
    """A 1024x1024 pass of the tiny model leaves ~45 MB of freed heap; it is kept right after the
    request (the next one reuses it) and handed back after the idle delay."""
    code = ENGINE_RSS.format(delay=0.3, model=str(tiny_model))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    rss = json.loads(result.stdout.splitlines()[-1])
    assert rss["after"] - rss["idle"] > 20, rss
