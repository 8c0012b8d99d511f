"""A real compile helper for tests: ``invoke build-helper`` on 127.0.0.1 and a free port, run
from a temp tool cache that the unprivileged ``distccd`` user can enter, stopped by its own
``--stop`` (and killed by pid if that fails)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from rvforge.common import free_port

REPO = Path(__file__).resolve().parents[2]


def have_tools(*names: str) -> str | None:
    """Why the distcc tests cannot run here, or None."""
    missing = [name for name in ("distcc", "distccd", "ccache", *names) if not shutil.which(name)]
    return f"needs {', '.join(missing)} (ci/setup.sh --dev installs them)" if missing else None


@dataclass
class RunningHelper:
    home: Path
    port: int
    proc: subprocess.Popen[str]

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.home / "distcc-helper" / "distccd.log"

    def env(self) -> dict[str, str]:
        return {**os.environ, "RVFORGE_HOME": str(self.home)}

    def invoke(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "invoke", "build-helper", *args], cwd=REPO,
                              env=self.env(), capture_output=True, text=True, timeout=60)

    def compile_ok(self, expect: int = 0, timeout: float = 10.0) -> int:
        """COMPILE_OK lines in the log; waits up to ``timeout`` for ``expect`` of them (the
        daemon logs a job's summary just after the client has its object)."""
        deadline = time.monotonic() + timeout
        while True:
            count = sum("COMPILE_OK" in line for line in self.log.read_text(errors="replace").splitlines())
            if count >= expect or time.monotonic() > deadline:
                return count
            time.sleep(0.1)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.invoke("--stop")
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_helper(profile: str, *extra: str, home: Path | None = None, wait: float = 30) -> RunningHelper:
    """Start a helper in the foreground (as a user would) and wait until it listens."""
    home = home or Path(tempfile.mkdtemp(prefix="rvforge-helper-", dir="/tmp"))
    home.chmod(0o755)  # distccd drops to its own user when started by root
    port = free_port()
    env = {**os.environ, "RVFORGE_HOME": str(home)}
    proc = subprocess.Popen([sys.executable, "-m", "invoke", "build-helper", "--profile", profile,
                             "--port", str(port), "--jobs", "2", *extra], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    helper = RunningHelper(home, port, proc)
    assert proc.stdout is not None
    deadline = time.monotonic() + wait
    line = ""
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if "distccd listening" in line or not line:
            break
    if "distccd listening" not in line:
        helper.stop()
        raise AssertionError(f"build-helper did not start: {line}{proc.stdout.read()}")
    return helper


def remove(helper: RunningHelper) -> None:
    helper.stop()
    shutil.rmtree(helper.home, ignore_errors=True)
