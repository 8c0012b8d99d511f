"""Turn a failed build log into its last relevant lines plus a one-line diagnosis.

The known failures of this stack each leave a recognisable line; naming the cause and the fix
saves reading thousands of lines of compiler output on a small screen.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from rvforge.host.profiles import Profile


@dataclass(frozen=True)
class Known:
    pattern: str
    diagnosis: str  # may use {install[requirement]} placeholders, filled from the profile


#: A compiler killed by a signal, in the words of the gcc driver, make, or collect2 (the OOM killer
#: picks the biggest process: cc1plus on torch's large units).
KILLED_COMPILER = (r"Killed signal terminated program|internal compiler error: Killed|"
                   r"fatal error: Killed signal|cc1(?:plus)?: .*Killed|collect2: .*signal 9|"
                   r"\] Error 137\b")

KNOWN = (
    Known(r"Unknown compiler\(s\):.*fortran|Fortran compiler .*not found",
          "no Fortran compiler: scipy needs gfortran - install it with `{install[gfortran]}`"),
    Known(r"Dependency \"?(?:OpenBLAS|openblas|scipy-openblas)\"? not found|"
          r"Run-time dependency (?:openblas|OpenBLAS) found: NO|No BLAS library detected",
          "pkg-config cannot find OpenBLAS: run `invoke doctor --fix` (writes openblas.pc for "
          "this tool) or install `{install[openblas]}`"),
    Known(r"Python\.h: No such file or directory|Python dependency not found|"
          r"Could not find Python3 .*Development|python3 --embed.* not found",
          "Python headers are missing: install `{install[python-headers]}`"),
    Known(r"No module named '?distutils'?",
          "this Python has no distutils (3.12+): the package version is too old for it, e.g. "
          "numpy <= 1.25 - use a recipe variant for this Python (numpy >= 1.26)"),
    Known(KILLED_COMPILER,
          "the compiler was killed, most likely out of memory: rerun with fewer jobs "
          "(--jobs 1 or 2) or add swap"),
    Known(r"sha256 mismatch|THESE PACKAGES DO NOT MATCH THE HASHES",
          "a downloaded file does not match its pinned sha256: check the index or mirror"),
    Known(r"Failed to clone repository|fatal: unable to access '[a-z+]+://|Could not resolve host",
          "the package's own build tried to download something (a git clone at configure time) "
          "that this machine cannot reach: the recipe must supply it as a source, or patch the "
          "fetch out, so the build runs offline"),
    Known(r"Failed to establish a new connection|Temporary failure in name resolution|"
          r"Network is unreachable|No matching distribution found|Could not find a version that "
          r"satisfies",
          "a build requirement is neither in the cache nor reachable: connect and run "
          "`invoke build-wheels --download-only` once"),
)


def compiler_killed(line: str) -> bool:
    """Whether this build output line says a compiler was killed (most likely out of memory)."""
    return re.search(KILLED_COMPILER, line) is not None


def install_hints(profile: Profile) -> dict[str, str]:
    return {req: profile.install_hint(req) for req in profile.packages}


def diagnose(text: str, profile: Profile) -> tuple[str | None, str | None]:
    """(diagnosis, the log line that proves it) for the first known failure in ``text``."""
    hints = install_hints(profile)
    for known in KNOWN:
        match = re.search(known.pattern, text)
        if match:
            start = text.rfind("\n", 0, match.start()) + 1
            end = text.find("\n", match.end())
            line = text[start:end if end != -1 else None].strip()
            return known.diagnosis.format(install=hints), line
    return None, None


def relevant_tail(text: str, count: int = 25) -> list[str]:
    """The last lines that say something (pip's progress and blank lines dropped)."""
    lines = [line.rstrip() for line in text.splitlines() if line.strip()]
    noise = re.compile(r"^\s*(?:\[\d+/\d+\] (?:Compiling|Linking)|Building wheel|Created temporary)")
    return [line for line in lines if not noise.match(line)][-count:]


def report(log: Path, profile: Profile) -> str:
    text = log.read_text(errors="replace")
    diagnosis, line = diagnose(text, profile)
    parts = ["last lines of the build log:", *("  | " + tail for tail in relevant_tail(text))]
    if line:
        parts.append(f"  matched: {line}")
    parts.append(f"diagnosis: {diagnosis or 'unknown failure - read the full log'}")
    parts.append(f"full log: {log}")
    return "\n".join(parts)
