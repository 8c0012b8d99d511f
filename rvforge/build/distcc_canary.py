"""The canary run before the first distributed compile: a small C file and a small C++ file,
each compiled here and on every helper with the build's own compiler and flags, must give the
same objects. Otherwise the build stops with the reason; it never mixes objects.

Both compiles use ``-g0`` and the same file name in the same directory, so nothing
machine-specific (paths, DWARF producer strings) enters the objects; ``elf_compare`` then
compares every section but ``.comment``. Remote compiles run with fallback off (a local
fallback would compare the local compiler with itself) and in a fresh ``DISTCC_DIR``, so an old
backoff cannot skip the helper; the default backoff stays, never 0 with fallback off.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Mapping

from rvforge.build import elf_compare
from rvforge.build.distcc_hosts import DistccSetup, Helper, reachable
from rvforge.common import last_lines
from rvforge.errors import BuildFailed, CheckFailed
from rvforge.log import info, step

C_SOURCE = """\
#include <string.h>
struct point { double x, y; long double w; };
static int scale(int v, int k) { return v * k + (v >> 3); }
double canary_dot(const struct point *p, int n) {
    double sum = 0;
    for (int i = 0; i < n; i++) sum += p[i].x * p[i].y + (double)p[i].w;
    return sum;
}
int canary_pick(int which, const char *text) {
    switch (which) { case 0: return scale((int)strlen(text), 3); case 1: return text[0];
                     case 2: return scale(which, 7); default: return -1; }
}
"""
CXX_SOURCE = """\
#include <vector>
#include <memory>
struct Shape { virtual ~Shape() = default; virtual double area() const = 0; };
struct Square : Shape { double s; explicit Square(double v) : s(v) {} double area() const override { return s * s; } };
template <typename T> T total(const std::vector<T> &values) { T sum{}; for (const T &v : values) sum += v; return sum; }
double canary_area(int n) {
    std::vector<std::unique_ptr<Shape>> shapes;
    for (int i = 0; i < n; i++) shapes.push_back(std::make_unique<Square>(i));
    std::vector<double> areas;
    for (const auto &shape : shapes) areas.push_back(shape->area());
    return total(areas);
}
"""
#: The extra flags of the canary compiles (the build's own flags come first).
_FLAGS = ("-O2", "-g0", "-fPIC")
_TIMEOUT = 300


def _compile(command: list[str], cwd: Path, env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    """One compile; no answer within ``_TIMEOUT`` is a failure (exit 124, as ``timeout`` says it)."""
    try:
        return subprocess.run(command, cwd=cwd, env=dict(env), capture_output=True, text=True,
                              timeout=_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(command, 124, "", f"no answer within {_TIMEOUT} s")


def check_helper(helper: Helper, setup: DistccSetup, env: Mapping[str, str], work: Path) -> str | None:
    """None when the helper gives this machine's objects for both languages, else the reason."""
    if not reachable(helper):
        return f"helper {helper.name} unreachable (nothing accepts connections there)"
    remote_env = {key: value for key, value in env.items() if not key.startswith(("DISTCC_", "CCACHE_"))}
    for language, compiler, source in (("C", setup.cc, C_SOURCE), ("C++", setup.cxx, CXX_SOURCE)):
        name = "canary.c" if language == "C" else "canary.cpp"
        (work / name).write_text(source)
        path = shutil.which(compiler, path=env.get("PATH")) or compiler
        args = [*setup.flags, *_FLAGS, "-c", name, "-o"]
        local = _compile([path, *args, "local.o"], work, remote_env)
        if local.returncode != 0:
            raise BuildFailed(f"the local {language} compiler {compiler} cannot compile the canary: "
                              f"{last_lines(local.stderr)}")
        with tempfile.TemporaryDirectory(prefix="distcc-canary-") as state:
            remote = _compile(["distcc", path, *args, "remote.o"], work, {
                **remote_env, "DISTCC_HOSTS": helper.spec(), "DISTCC_DIR": state,
                "DISTCC_FALLBACK": "0", "DISTCC_SKIP_LOCAL_RETRY": "1", "DISTCC_IO_TIMEOUT": "120"})
        if remote.returncode != 0:
            return (f"helper {helper.name} refused the {language} compiler {compiler} "
                    f"(distcc exit {remote.returncode}: {last_lines(remote.stderr)}; the helper's log says more)")
        try:
            reason = elf_compare.difference(elf_compare.read_object(work / "local.o"),
                                            elf_compare.read_object(work / "remote.o"))
        except ValueError as err:
            reason = str(err)
        if reason:
            return f"helper {helper.name}, {language}: {reason}"
    return None


def run(setup: DistccSetup, env: Mapping[str, str], cache: Path) -> None:
    """Check every helper; the first mismatch stops the run before any build starts."""
    setup.directory.mkdir(parents=True, exist_ok=True)
    work = cache / "distcc" / "canary"
    with step(f"distcc canary: {setup.cc} / {setup.cxx} {' '.join(setup.flags)}".rstrip()):
        for helper in setup.helpers:
            shutil.rmtree(work, ignore_errors=True)
            work.mkdir(parents=True)
            reason = check_helper(helper, setup, env, work)
            if reason:
                raise CheckFailed(f"distcc canary: {reason}",
                                  hint="fix or leave out that helper (`invoke build-helper --status` on it); "
                                       "nothing was built")
            info(f"    {helper.name}: identical C and C++ objects")
