"""Compiler and tool probes that really run: a compiler only counts if it builds and links a
program in a temp dir (an installed gfortran without libgfortran fails at link time, which is
exactly when scipy's two-hour build would otherwise fail)."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from rvforge.common import last_lines


@dataclass(frozen=True)
class Language:
    name: str
    env_var: str  # the variable build systems read the compiler from
    candidates: tuple[str, ...]  # looked up on PATH when the variable is unset
    suffix: str
    program: str


LANGUAGES = {
    "c": Language("C", "CC", ("cc", "gcc"), ".c",
                  "#include <stdio.h>\nint main(void) { puts(\"ok\"); return 0; }\n"),
    # new/delete and a vtable need libstdc++ at link time; few headers keep the probe fast.
    "c++": Language("C++", "CXX", ("c++", "g++"), ".cpp",
                    "#include <cstdio>\nstruct Probe { virtual ~Probe() {} };\n"
                    "int main() { Probe *p = new Probe; delete p; std::puts(\"ok\"); return 0; }\n"),
    "fortran": Language("Fortran", "FC", ("gfortran",), ".f90",
                        "program probe\n  print '(a)', 'ok'\nend program probe\n"),
}


@dataclass(frozen=True)
class Probe:
    """What a probe found: ``ok`` only when the tool ran (and for compilers built and linked)."""

    command: tuple[str, ...]  # the command as configured ("ccache gcc" -> two words); () if none
    path: Path | None  # the executable found on PATH
    ok: bool
    version: str  # first line of --version output
    error: str  # why it is not usable


def which(name: str, env: Mapping[str, str]) -> Path | None:
    """Look a program up on the PATH of ``env`` (not the PATH this process runs with)."""
    found = shutil.which(name, path=env.get("PATH", os.defpath))
    return Path(found) if found else None


def _run(command: list[str], env: Mapping[str, str], cwd: Path | None = None,
         timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, env=dict(env), cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, check=False)


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def probe_tool(name: str, env: Mapping[str, str], version_args: tuple[str, ...] = ("--version",)
               ) -> Probe:
    """Find ``name`` on PATH and run it with ``--version``."""
    path = which(name, env)
    if path is None:
        return Probe((), None, False, "", f"{name} not found on PATH")
    try:
        proc = _run([str(path), *version_args], env, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Probe((str(path),), path, False, "", f"{path} does not run: {exc}")
    output = proc.stdout + proc.stderr
    if proc.returncode != 0:
        return Probe((str(path),), path, False, "", f"{path} --version failed: {_first_line(output)}")
    return Probe((str(path),), path, True, _first_line(output), "")


def compiler_command(language: str, env: Mapping[str, str]) -> tuple[str, ...]:
    """The compiler a build would use: ``$CC``/``$CXX``/``$FC`` if set, else the first candidate
    on PATH; () when there is none."""
    lang = LANGUAGES[language]
    configured = env.get(lang.env_var, "").strip()
    if configured:
        return tuple(shlex.split(configured))
    for candidate in lang.candidates:
        if which(candidate, env):
            return (candidate,)
    return ()


def probe_compiler(language: str, env: Mapping[str, str]) -> Probe:
    """Compile, link and run a tiny program; report the compiler's own words when it fails."""
    lang = LANGUAGES[language]
    command = compiler_command(language, env)
    if not command:
        return Probe((), None, False, "", f"{' or '.join(lang.candidates)} not found on PATH "
                                          f"(no {lang.name} compiler; ${lang.env_var} unset)")
    path = which(command[0], env)
    if path is None:
        return Probe(command, None, False, "", f"${lang.env_var} names {command[0]}, which is not on PATH")
    version = probe_tool(command[0], env)
    with tempfile.TemporaryDirectory(prefix="rvforge-probe-") as tmp:
        source = Path(tmp) / f"probe{lang.suffix}"
        source.write_text(lang.program)
        exe = Path(tmp) / "probe"
        try:
            build = _run([*command, str(source), "-o", str(exe)], env, cwd=Path(tmp))
            if build.returncode != 0:
                return Probe(command, path, False, version.version,
                             f"cannot compile and link a {lang.name} program: "
                             f"{last_lines(build.stderr + build.stdout, 3)}")
            ran = _run([str(exe)], env, cwd=Path(tmp), timeout=30)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return Probe(command, path, False, version.version, f"{lang.name} probe did not run: {exc}")
        if ran.returncode != 0 or ran.stdout.strip() != "ok":
            return Probe(command, path, False, version.version,
                         f"a linked {lang.name} program does not run: {last_lines(ran.stderr, 3)}")
    return Probe(command, path, True, version.version, "")
