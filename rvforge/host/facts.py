"""Host facts read once: distro (from os-release), machine, cores, RAM."""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass
from pathlib import Path

from rvforge import environment


@dataclass(frozen=True)
class Host:
    os_id: str
    os_like: tuple[str, ...]
    os_version: str
    machine: str
    cpus: int
    mem_bytes: int
    swap_bytes: int


def parse_os_release(text: str) -> dict[str, str]:
    """Parse the KEY=value lines of os-release(5), unquoting values."""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        fields[key] = value.strip().strip('"').strip("'")
    return fields


def _meminfo(root: Path) -> tuple[int, int]:
    try:
        text = (root / "proc/meminfo").read_text()
    except OSError:
        return 0, 0
    values = {}
    for line in text.splitlines():
        name, _, rest = line.partition(":")
        parts = rest.split()
        if parts:
            values[name] = int(parts[0]) * 1024
    return values.get("MemTotal", 0), values.get("SwapTotal", 0)


def detect(sysroot: Path | None = None) -> Host:
    """Read the host. With a sysroot, os-release comes from inside it (fixtures present
    another distro); machine, cores and memory are always the real ones."""
    root = sysroot or Path("/")
    release = {}
    for candidate in ("etc/os-release", "usr/lib/os-release"):
        path = root / candidate
        if path.is_file():
            release = parse_os_release(path.read_text())
            break
    mem, swap = _meminfo(Path("/"))
    return Host(
        os_id=release.get("ID", "unknown").lower(),
        os_like=tuple(release.get("ID_LIKE", "").lower().split()),
        os_version=release.get("VERSION_ID", ""),
        machine=environment.get("RVFORGE_MACHINE") or platform.machine(),
        cpus=os.cpu_count() or 1,
        mem_bytes=mem,
        swap_bytes=swap,
    )
