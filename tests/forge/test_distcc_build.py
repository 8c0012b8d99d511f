"""A real recipe (MarkupSafe, a setuptools C extension) built by `invoke build-wheels --distcc`
through a helper on 127.0.0.1 whose mapping is this host's gcc: the helper's log shows the
compile jobs, the wheel passed its smoke test, and the manifest names the helper."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from distccfixture import REPO, have_tools, remove, start_helper

pytestmark = [pytest.mark.slow, pytest.mark.skipif(bool(have_tools()), reason=have_tools() or "")]


def test_markupsafe_compiles_on_the_helper(tmp_path):
    helper = start_helper("debian-x86_64")
    try:
        house, home = tmp_path / "house", tmp_path / "home"
        proc = subprocess.run(
            [sys.executable, "-m", "invoke", "build-wheels", "--profile", "debian-x86_64", "--only",
             "markupsafe", "--wheelhouse", str(house), "--distcc", helper.address], cwd=REPO,
            env={**os.environ, "RVFORGE_HOME": str(home), "RVFORGE_CCACHE": "1"},
            capture_output=True, text=True, timeout=1800)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        assert f"{helper.address}: identical C and C++ objects" in proc.stdout
        assert "==> test markupsafe" in proc.stdout and "warning:" not in proc.stderr
        # 2 canary compiles, then markupsafe's _speedups.c on the helper
        assert helper.compile_ok(expect=3) >= 3
        jobs = [line for line in helper.log.read_text().splitlines() if "COMPILE_OK" in line]
        assert any(line.endswith("_speedups.c") for line in jobs), jobs
        entry = json.loads((house / "manifest.json").read_text())["wheels"]["markupsafe"]
        assert entry["distcc"] == {"helpers": [f"{helper.address}/4"], "local_fallbacks": 0}
        assert (house / entry["filename"]).is_file()
    finally:
        remove(helper)


def test_helper_gone_after_the_canary_falls_back_with_a_warning(tmp_path):
    """The helper stops right after the canary: the build still succeeds, compiled here, and the
    run and the manifest say so."""
    helper = start_helper("debian-x86_64")
    house, home = tmp_path / "house", tmp_path / "home"
    proc = subprocess.Popen(
        [sys.executable, "-m", "invoke", "build-wheels", "--profile", "debian-x86_64", "--only",
         "markupsafe", "--wheelhouse", str(house), "--distcc", helper.address], cwd=REPO,
        env={**os.environ, "RVFORGE_HOME": str(home)}, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True)
    try:
        assert proc.stdout is not None
        out = []
        for line in proc.stdout:
            out.append(line)
            if "identical C and C++ objects" in line:
                remove(helper)  # before markupsafe is even fetched
        assert proc.wait(timeout=1800) == 0, "".join(out)[-3000:]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        remove(helper)
    assert (f"warning: markupsafe: 1 compile job(s) ran on this machine instead of a helper; "
            f"unreachable now: {helper.address}") in "".join(out), "".join(out)[-3000:]
    entry = json.loads((house / "manifest.json").read_text())["wheels"]["markupsafe"]
    assert entry["distcc"]["local_fallbacks"] == 1
