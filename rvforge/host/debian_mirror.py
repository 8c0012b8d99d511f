"""The Debian archive this machine already uses, so pinned Debian source tarballs come from
the same place as its packages and no mirror is written into the repository.

Order: ``RVFORGE_DEBIAN_MIRROR``, then the main archive in the host's apt sources (deb822
``.sources`` first, then one-line ``sources.list``), then debootstrap's built-in default.
"""

from __future__ import annotations

import re
from pathlib import Path

from rvforge import environment
from rvforge.errors import ConfigError

APT_DIR = Path("/etc/apt")
DEBOOTSTRAP = Path("/usr/sbin/debootstrap")
#: The main archive ends in /debian (not debian-security, debian-ports...).
_MAIN = re.compile(r"/debian/?$")
_ONE_LINE = re.compile(r"^deb\s+(?:\[[^\]]*\]\s+)?(\S+)", re.M)
_DEF_MIRROR = re.compile(r'^DEF_MIRROR="([^"]+)"', re.M)


def _read(paths: list[Path]) -> str:
    texts = []
    for path in paths:
        try:
            texts.append(path.read_text(errors="replace"))
        except OSError:
            continue
    return "\n".join(texts)


def _apt_uris(apt_dir: Path) -> list[str]:
    deb822 = _read(sorted((apt_dir / "sources.list.d").glob("*.sources")))
    uris = [uri for line in deb822.splitlines() if line.startswith("URIs:")
            for uri in line.split()[1:]]
    one_line = _read([apt_dir / "sources.list", *sorted((apt_dir / "sources.list.d").glob("*.list"))])
    return uris + _ONE_LINE.findall(one_line)


def host_mirror(apt_dir: Path = APT_DIR, debootstrap: Path = DEBOOTSTRAP) -> str | None:
    """The main Debian archive of the host's apt sources, else debootstrap's default."""
    for uri in _apt_uris(apt_dir):
        if _MAIN.search(uri):
            return uri.rstrip("/")
    match = _DEF_MIRROR.search(_read([debootstrap]))
    return match.group(1).rstrip("/") if match else None


def debian_mirror(variable: str = "RVFORGE_DEBIAN_MIRROR") -> str:
    """The base URL Debian pool paths are fetched from: ``variable`` when set, else the host's."""
    mirror = environment.get(variable) or host_mirror()
    if not mirror:
        raise ConfigError("no Debian mirror is known: no apt sources and no debootstrap here",
                          hint=f"set {variable} to a Debian archive base URL")
    return mirror.rstrip("/")
