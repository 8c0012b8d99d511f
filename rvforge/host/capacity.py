"""Machine resources a build needs: parallel compile jobs from RAM+swap, free disk.

A torch translation unit takes about 2 GB in cc1plus (some more); on an 8-16 GB board running one
job per core gets the build OOM-killed hours in, so the job count is capped by memory too.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from rvforge.host.facts import Host

GIB = 1024 ** 3
#: Memory one torch compile job needs; build-wheels uses the same figure for its default -j.
GB_PER_JOB = 2.0
#: Free disk that sources, build trees and ccache of the whole stack (torch dominates) need.
DISK_FULL_STACK_GB = 20.0
#: Below this not even the small recipes (numpy, Pillow) fit.
DISK_MINIMUM_GB = 5.0


def max_jobs(host: Host, gb_per_job: float = GB_PER_JOB) -> int:
    """Safe parallel compile jobs: min(cores, (RAM+swap) / gb_per_job), at least 1."""
    by_memory = int((host.mem_bytes + host.swap_bytes) // (gb_per_job * GIB))
    return max(1, min(host.cpus, by_memory))


def free_bytes(path: Path) -> int:
    """Free space on the file system that holds ``path`` (or would, once it is created)."""
    probe = Path(path).absolute()
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return shutil.disk_usage(probe).free
