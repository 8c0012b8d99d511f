"""Compile helpers for a build: the host list, the client environment, and what a finished build
says about them.

Compiles go ``ccache`` -> ``distcc`` -> helper (``CCACHE_PREFIX=distcc``): a ccache hit never
leaves the machine, a miss is preprocessed here and compiled there. Everything else (Cython,
code generators, links, Fortran, which distcc never sends) stays local. Helpers are listed by IP:
in ``DISTCC_HOSTS`` the word ``localhost`` means "compile here", not "connect to 127.0.0.1".
"""

from __future__ import annotations

import re
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from rvforge.common import accepts_connections
from rvforge.errors import ConfigError
from rvforge.host.profiles import Profile
from rvforge.host.toolchain import which

DEFAULT_PORT = 3632
DEFAULT_SLOTS = 4
ACCEPTED = "HOST[:PORT][/SLOTS],... e.g. 192.168.1.20/16,192.168.1.21:3632/8"
_ITEM = re.compile(r"(?P<host>[A-Za-z0-9][A-Za-z0-9.\-]*)(?::(?P<port>[0-9]+))?(?:/(?P<slots>[0-9]+))?")
#: What distcc prints when a job it meant to send was compiled here instead.
_FALLBACK = re.compile(r"distcc\[\d+\] .*Warning: failed to distribute")


@dataclass(frozen=True)
class Helper:
    """One helper as ``DISTCC_HOSTS`` names it."""

    address: str  # an IP address
    port: int
    slots: int

    @property
    def name(self) -> str:
        """``ADDRESS:PORT``: how messages name the helper."""
        return f"{self.address}:{self.port}"

    def spec(self) -> str:
        """The ``DISTCC_HOSTS`` entry, with lzo compression (preprocessed source compresses well)."""
        return f"{self.address}:{self.port}/{self.slots},lzo"


def parse_hosts(text: str, source: str = "--distcc") -> tuple[Helper, ...]:
    """``HOST[:PORT][/SLOTS]`` items separated by commas or spaces; names resolved to IPs."""
    items = [item for item in re.split(r"[,\s]+", text.strip()) if item]
    if not items:
        raise ConfigError(f"{source}: empty host list", hint=f"give {ACCEPTED}")
    helpers = []
    for item in items:
        match = _ITEM.fullmatch(item)
        port = int(match["port"] or DEFAULT_PORT) if match else 0
        slots = int(match["slots"] or DEFAULT_SLOTS) if match else 0
        if not match or not 1 <= port <= 65535 or not 1 <= slots <= 512:
            raise ConfigError(f"{source}: '{item}' is not a helper", hint=f"give {ACCEPTED}")
        helpers.append(Helper(_address(match["host"], source), port, slots))
    return tuple(helpers)


def _address(host: str, source: str) -> str:
    """The helper's IP (``localhost`` too becomes an address, so it is really connected to)."""
    try:
        return socket.gethostbyname(host)
    except OSError:
        raise ConfigError(f"{source}: cannot resolve helper '{host}'",
                          hint=f"give its IP address: {ACCEPTED}") from None


def triplet_compiler(driver: str, env: Mapping[str, str]) -> str:
    """``x86_64-linux-gnu-gcc`` rather than ``gcc`` when that name exists: a helper maps both,
    but only the triplet name says which machine the client means."""
    gcc = which("gcc", env)
    if gcc is None:
        return driver
    try:
        machine = subprocess.run([str(gcc), "-dumpmachine"], capture_output=True, text=True,
                                 check=False, env=dict(env), timeout=60).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return driver
    named = f"{machine}-{driver}"
    return named if machine and which(named, env) else driver


@dataclass(frozen=True)
class DistccSetup:
    """The helpers of one run and how the build talks to them."""

    helpers: tuple[Helper, ...]
    local_jobs: int  # what this machine's RAM allows: links and local compiles
    directory: Path  # DISTCC_DIR (locks, backoff state)
    cc: str
    cxx: str
    flags: tuple[str, ...]  # pinned on every C/C++ compile

    @property
    def jobs(self) -> int:
        """Remote slots plus local ones: local preprocessing overlaps with remote compiles."""
        return self.local_jobs + sum(helper.slots for helper in self.helpers)

    def env(self) -> dict[str, str]:
        """The client's variables. Fallback stays on (a helper that goes away costs speed, not
        the build); a job the helper failed is not retried here (configure probes fail on
        purpose, and a retry would put the helper in backoff)."""
        return {"CCACHE_PREFIX": "distcc", "DISTCC_HOSTS": " ".join(h.spec() for h in self.helpers),
                "DISTCC_DIR": str(self.directory), "DISTCC_SKIP_LOCAL_RETRY": "1"}

    def names(self) -> list[str]:
        """``ADDRESS:PORT/SLOTS`` of each helper, as the manifest and messages show them."""
        return [f"{h.name}/{h.slots}" for h in self.helpers]

    def record(self, log_text: str) -> dict[str, Any]:
        """For the manifest: which helpers the build used, and how many jobs ran here instead."""
        return {"helpers": self.names(), "local_fallbacks": local_fallbacks(log_text)}


def setup(helpers: tuple[Helper, ...], local_jobs: int, cache: Path, profile: Profile,
          env: Mapping[str, str]) -> DistccSetup:
    """The helpers of a run with this machine's compiler names and the target's pinned flags."""
    return DistccSetup(helpers, local_jobs, cache / "distcc", triplet_compiler("gcc", env),
                       triplet_compiler("g++", env), profile.pinned_flags)


def reachable(helper: Helper, timeout: float = 3.0) -> bool:
    """Whether the helper's distccd accepts connections now."""
    return accepts_connections(helper.address, helper.port, timeout)


def local_fallbacks(log_text: str) -> int:
    """Compile jobs distcc meant to send but ran here (a helper was gone or busy)."""
    return sum(bool(_FALLBACK.search(line)) for line in log_text.splitlines())
