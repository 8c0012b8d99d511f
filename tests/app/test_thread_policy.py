"""No oversubscription: during a big-lama pass at most --threads threads burn CPU (torch's pool and
any BLAS pool take turns), counted per thread from /proc in a fresh interpreter per setting."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from magiceraser.threads import available_cores

_PROBE = r"""
import json, os, sys
from magiceraser.threads import configure, prepare_environment
threads = int(sys.argv[1])
prepare_environment(threads)
import numpy  # its own OpenBLAS pool is loaded too, as in the service
import torch
from magiceraser.lama.ffc import FFCResNetGenerator
from magiceraser.lama.tiling import Tiling
from magiceraser.lama.weights.config import BIG_LAMA
torch.backends.mkldnn.enabled = False
configure(threads)
torch.manual_seed(0)
model = FFCResNetGenerator(BIG_LAMA, Tiling(winograd=True)).eval()
x = torch.rand(1, 4, 192, 192)

def cpu_by_thread():
    out = {}
    for tid in os.listdir("/proc/self/task"):
        fields = open(f"/proc/self/task/{tid}/stat").read().rsplit(")", 1)[1].split()
        out[tid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return out

with torch.inference_mode():
    model(x)
    before = cpu_by_thread()
    model(x)
    model(x)
    after = cpu_by_thread()
used = sorted((after[t] - before.get(t, 0.0) for t in after), reverse=True)
print(json.dumps({"torch": torch.get_num_threads(), "used": used}))
"""


@pytest.mark.slow
@pytest.mark.parametrize("threads", [1, 2])
def test_at_most_the_configured_threads_compute(threads):
    if threads > available_cores():
        pytest.skip(f"needs {threads} cores")
    unset = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
    env = {key: value for key, value in os.environ.items() if key not in unset}
    proc = subprocess.run([sys.executable, "-c", _PROBE, str(threads)], capture_output=True, text=True, env=env,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["torch"] == threads
    used, total = report["used"], sum(report["used"])
    busy = [seconds for seconds in used if seconds > 0.05 * total]
    assert total > 0.2, used  # enough work that every pool would have woken up
    assert len(busy) <= threads, f"{len(busy)} threads computed with --threads {threads}: {used[:8]}"
    if threads > 1:
        assert len(busy) == threads, f"only {len(busy)} of {threads} threads computed: {used[:8]}"
