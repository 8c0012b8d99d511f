"""Day-long builds, proven on a real ninja build (the meson-python fixture of ``mesonfixture``):
a build SIGKILLed past half of its steps resumes and compiles only the rest, a changed input or
an unfinished unpack starts from a clean tree, and a compiler killed like the OOM killer does is
retried once with half the jobs in the same tree."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import mesonfixture as fx
import pytest
from conftest import REPO, invoke

from rvforge.build.diagnose import compiler_killed
from rvforge.common import sha256_file

#: Every fixture compile, the extension's module.c and the link.
STEPS = fx.FILES + 2


@dataclass
class Case:
    root: Path
    source: Path
    recipes: Path
    ctl: Path
    home: Path
    house: Path

    @property
    def log(self) -> Path:
        return self.home / "logs" / f"{fx.NAME}-1.0.log"

    @property
    def work(self) -> Path:
        return self.home / "work" / f"{fx.NAME}-1.0"

    @property
    def build_dir(self) -> Path:
        return self.work / "src" / "src" / ".rvforge-build"

    def args(self, jobs: int) -> list[str]:
        return ["build-wheels", "--recipes", str(self.recipes), "--wheelhouse", str(self.house),
                "--profile", "debian-x86_64", "--jobs", str(jobs)]

    def env(self) -> dict[str, str]:
        return {"RVFORGE_HOME": str(self.home)}

    def build(self, jobs: int = 2) -> subprocess.CompletedProcess[str]:
        self.log.unlink(missing_ok=True)
        return invoke(*self.args(jobs), env=self.env(), timeout=600)

    def build_and_kill_past_half(self, jobs: int = 2) -> str:
        """Start a build, SIGKILL its whole process group once ninja reports more than half of its
        steps done; returns what the tool printed until then."""
        self.log.unlink(missing_ok=True)
        proc = subprocess.Popen([sys.executable, "-m", "invoke", *self.args(jobs)], cwd=REPO,
                                env={**os.environ, **self.env()}, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, start_new_session=True)
        deadline = time.monotonic() + 300
        try:
            while time.monotonic() < deadline and proc.poll() is None:
                counts = fx.compiled_in_log(self.log.read_text() if self.log.exists() else "")
                if counts and counts[-1][0] > counts[-1][1] // 2:
                    break
                time.sleep(0.05)
        finally:
            os.killpg(proc.pid, signal.SIGKILL)
        out = proc.communicate()[0]
        assert proc.returncode == -signal.SIGKILL, f"the build ended before half-way:\n{out}"
        return out

    def recorded_by_ninja(self) -> set[str]:
        """Fixture objects that ninja's own log records as built."""
        lines = (self.build_dir / ".ninja_log").read_text().splitlines()
        return {m.group(1) for line in lines if (m := re.search(r"/(f\d+\.c)\.o\t", line))}


@pytest.fixture(scope="module")
def pip_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One download of meson-python and friends for every test here."""
    return tmp_path_factory.mktemp("pip")


@pytest.fixture
def case(tmp_path: Path, pip_cache: Path) -> Case:
    source = fx.write_package(tmp_path / "pkg")
    ctl = tmp_path / "ctl"
    recipes = fx.write_recipe(tmp_path / "recipes", source, ctl)
    home = tmp_path / "home"
    home.mkdir()
    (home / "pip").symlink_to(pip_cache)
    (ctl / "slow").write_text("0.15")  # a slow compiler, so the kill lands in the middle
    return Case(tmp_path, source, recipes, ctl, home, tmp_path / "wheelhouse")


def all_files() -> set[str]:
    return {f"f{i}.c" for i in range(fx.FILES)}


def published(case: Case) -> dict[str, object]:
    entry: dict[str, object] = json.loads((case.house / "manifest.json").read_text())["wheels"][fx.NAME]
    assert sha256_file(case.house / str(entry["filename"])) == entry["sha256"]
    return entry


def test_killed_build_resumes_with_only_the_remaining_steps(case: Case) -> None:
    case.build_and_kill_past_half()
    done = case.recorded_by_ninja()
    assert fx.FILES // 2 - 2 <= len(done) < fx.FILES, done
    assert not (case.house / "manifest.json").exists()

    rerun = case.build()
    assert rerun.returncode == 0, rerun.stdout[-3000:] + rerun.stderr[-3000:]
    assert "build, resuming its kept tree" in rerun.stdout  # the plan says so up front
    assert "kept the unpacked, patched tree and build venv" in rerun.stdout
    assert "==> unpack" not in rerun.stdout and "==> build venv" not in rerun.stdout
    steps = fx.compiled_in_log(case.log.read_text())
    assert {name for _, _, name in steps} == all_files() - done
    assert {total for _, total, _ in steps} == {STEPS - len(done)}
    assert rerun.stdout.index("==> test resumefix") < rerun.stdout.index("-> ")
    published(case)
    assert not case.work.exists()


@pytest.mark.slow
def test_untrusted_or_changed_tree_starts_clean(case: Case) -> None:
    """A tree whose stamp is missing (as after a kill during unpack) and a tree built from other
    inputs are both discarded: the next build runs every step."""
    case.build_and_kill_past_half()
    (case.work / ".rvforge-stamps" / "tree.json").unlink()
    case.build_and_kill_past_half()
    log = case.log.read_text()
    assert {total for _, total, _ in fx.compiled_in_log(log)} == {STEPS}
    assert "meson setup --reconfigure" not in log

    (case.source / "f7.c").write_text("int f7(void) { return 7 + 0; }\n")
    rerun = case.build()
    assert rerun.returncode == 0, rerun.stdout[-3000:] + rerun.stderr[-3000:]
    assert "it was made for other inputs" in rerun.stdout
    assert "==> unpack" in rerun.stdout and "==> build venv" in rerun.stdout
    steps = fx.compiled_in_log(case.log.read_text())
    assert {name for _, _, name in steps} == all_files()
    assert {total for _, total, _ in steps} == {STEPS}
    published(case)


@pytest.mark.parametrize("line, killed", [
    ("  g++: fatal error: Killed signal terminated program cc1plus", True),
    ("c++: internal compiler error: Killed (program cc1plus)", True),
    ("make[2]: *** [caffe2/CMakeFiles/torch_cpu.dir/build.make:1234: x.cpp.o] Error 137", True),
    ("collect2: fatal error: ld terminated with signal 9 [Killed]", True),
    ("  [812/1504] Building CXX object aten/src/ATen/native/Killed.cpp.o", False),
    ("make[2]: *** [x.o] Error 1", False),
])
def test_killed_compiler_lines(line: str, killed: bool) -> None:
    assert compiler_killed(line) is killed


def test_killed_compiler_is_retried_once_with_fewer_jobs(case: Case) -> None:
    (case.ctl / "slow").unlink()
    (case.ctl / "oom").write_text("10")  # from the 10th compile on, cc1 dies while jobs > 1
    proc = case.build(jobs=2)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    retries = [line for line in proc.stdout.splitlines() if "a compiler was killed" in line]
    assert len(retries) == 1, proc.stdout
    assert "fatal error: Killed signal terminated program" in retries[0]
    assert "with 1 job instead of 2, in the same build tree" in retries[0]
    assert "==> compile resumefix 1.0 (1 job)" in proc.stdout
    runs = fx.compiled(case.ctl)
    first = [name for name, jobs in runs if jobs == 2]
    second = [name for name, jobs in runs if jobs == 1]
    assert len(first) >= 10 and second, runs
    assert set(first).isdisjoint(second) and set(first) | set(second) == all_files()
    published(case)


def test_a_second_kill_fails_without_a_wheel(case: Case) -> None:
    (case.ctl / "slow").unlink()
    (case.ctl / "oom").write_text("3")
    proc = case.build(jobs=4)
    assert proc.returncode != 0
    assert sum("a compiler was killed" in line for line in proc.stdout.splitlines()) == 1
    assert "with 2 jobs instead of 4" in proc.stdout
    assert "==> compile resumefix 1.0 (2 jobs)" in proc.stdout
    assert "out of memory" in proc.stderr + proc.stdout
    assert not (case.house / "manifest.json").exists()
