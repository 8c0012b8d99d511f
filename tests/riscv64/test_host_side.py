"""Host-side pieces of the riscv64 check: the checklist tally, the checkout copy, the golden compare."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from rvforge.emulation import userland
from rvforge.emulation.steps import StepRun
from rvforge.errors import BuildFailed, EmulationError, GuestLingered


def test_checklist_keeps_going_and_skips_dependents(capsys):
    checks = StepRun()
    assert checks.run("first", lambda: None)
    assert not checks.run("build", lambda: (_ for _ in ()).throw(BuildFailed("compiler crashed")))
    assert not checks.run("deploy", lambda: pytest.fail("must not run"), needs=["build"])
    assert checks.run("independent", lambda: None, needs=["first"])
    out = capsys.readouterr().out
    assert "<!! build failed" in out and "compiler crashed" in out
    assert "deploy not run: needs 'build'" in out
    assert checks.summary() == "2 passed, 2 failed"
    assert [line.split()[0] for line in checks.table().splitlines()] == ["ok", "FAIL", "FAIL", "ok"]


def test_checklist_counts_a_failed_command():
    checks = StepRun()
    checks.run("false", lambda: subprocess.run(["false"], check=True))
    assert checks.summary() == "0 passed, 1 failed"


def test_checkout_copy_excludes_host_state_and_keeps_guest_builds(tmp_path, repo_root):
    src = userland.copy_checkout(tmp_path)
    assert src == tmp_path / "src"
    assert (src / "rvforge" / "tasks" / "riscv64_check.py").is_file() and (src / "tasks.py").is_file()
    assert not (src / ".venv").exists() and not (src / ".git").exists()
    guest_made = src / "rvforge.egg-info" / "PKG-INFO"
    guest_made.parent.mkdir()
    guest_made.write_text("guest build metadata")
    stale = src / "stale-file-gone-from-checkout"
    stale.write_text("x")
    userland.copy_checkout(tmp_path)
    assert guest_made.is_file() and not stale.exists()


def test_guest_command_goes_through_run_script(tmp_path):
    argv = userland.guest_argv(tmp_path, ["python3", "-V"], cwd="/src")
    assert argv[1].endswith("ci/riscv64/run.sh")
    assert argv[2:] == ["--rootfs", str(tmp_path), "--cwd", "/src", "--", "python3", "-V"]


@pytest.fixture
def compare(repo_root):
    def run(result, reference):
        return subprocess.run([sys.executable, str(repo_root / "ci" / "riscv64" / "golden_compare.py"),
                               str(result), str(reference)], capture_output=True, text=True)
    return run


def test_a_session_held_open_by_a_leftover_process_is_ended_and_named(tmp_path, monkeypatch):
    """proot waits for every guest process: a session whose command finished but left one behind
    must end LINGER seconds later, naming what was left, instead of at the overall timeout."""
    monkeypatch.setattr(userland, "LINGER", 1.0)
    monkeypatch.setattr(userland, "POLL", 0.2)
    done = tmp_path / "summary.json"
    script = f"sleep 300 & echo '{{}}' > {done}; wait"
    with pytest.raises(GuestLingered, match="sleep 300") as raised:
        userland.run_session(["sh", "-c", script], timeout=120, done_file=done)
    leftover = int(str(raised.value).split("killed: ")[1].split(":")[0])
    assert not userland.session_processes(leftover)


def test_a_session_that_ends_with_its_command_returns_its_code(tmp_path):
    done = tmp_path / "summary.json"
    assert userland.run_session(["sh", "-c", f"echo '{{}}' > {done}; exit 3"], timeout=60, done_file=done) == 3


def test_a_stuck_session_is_killed_at_its_timeout(monkeypatch):
    monkeypatch.setattr(userland, "POLL", 0.2)
    with pytest.raises(subprocess.TimeoutExpired):
        userland.run_session(["sleep", "300"], timeout=1)


@pytest.mark.parametrize("outcome, session_ok, detail", [
    (None, True, ""),
    (EmulationError("guest command failed with exit code 1"), True, ""),  # a failed step; the summary says which
    (GuestLingered("killed: 12: sleep 300"), False, "killed: 12: sleep 300"),
    (subprocess.TimeoutExpired(["proot"], 2400), False, "within 2400 s"),
])
def test_how_the_guest_session_ended_is_a_step_of_its_own(tmp_path, monkeypatch, outcome, session_ok, detail):
    """The host side reads the guest's summary and adds whether the session itself ended: a
    session killed at the bound, or held open by a leftover process, fails that step."""
    from rvforge.tasks import riscv64_check

    def guest(root, argv, timeout, done_file):
        assert timeout == riscv64_check.guest_timeout(False, True)
        done_file.parent.mkdir(parents=True, exist_ok=True)
        done_file.write_text(json.dumps([{"name": "invoke doctor", "passed": True, "seconds": 1.0, "detail": ""}]))
        if outcome is not None:
            raise outcome

    monkeypatch.setattr(userland, "run_in_guest", guest)
    outcomes = riscv64_check._guest_outcomes(tmp_path, native_build=False, skip_bench=True, distcc=None)
    assert [o.name for o in outcomes] == ["invoke doctor", riscv64_check.STEP_SESSION_END]
    assert outcomes[-1].passed is session_ok
    assert detail in outcomes[-1].detail


def test_golden_compare_accepts_the_reference_result(compare, lama_reference):
    proc = compare(lama_reference / "result.png", lama_reference)
    assert proc.returncode == 0, proc.stderr


def test_golden_compare_rejects_changes_outside_the_mask(compare, lama_reference, tmp_path):
    pixels = np.asarray(Image.open(lama_reference / "result.png").convert("RGB")).copy()
    hole = np.asarray(Image.open(lama_reference / "mask.png").convert("L")) > 0
    y, x = np.argwhere(~hole)[0]
    pixels[y, x] = 255 - pixels[y, x]
    Image.fromarray(pixels).save(tmp_path / "tampered.png")
    proc = compare(tmp_path / "tampered.png", lama_reference)
    assert proc.returncode == 1
    assert "pixels outside the mask changed" in proc.stderr


def test_golden_compare_allows_one_level_but_not_two(compare, lama_reference, tmp_path):
    pixels = np.asarray(Image.open(lama_reference / "result.png").convert("RGB")).astype(np.int16)
    y, x = np.argwhere(np.asarray(Image.open(lama_reference / "mask.png").convert("L")) > 0)[0]
    for delta, expected in ((1, 0), (2, 1)):
        shifted = pixels.copy()
        shifted[y, x, 0] += delta if shifted[y, x, 0] < 250 else -delta
        Image.fromarray(shifted.astype(np.uint8)).save(tmp_path / "shifted.png")
        assert compare(tmp_path / "shifted.png", lama_reference).returncode == expected


def test_golden_compare_rejects_an_unerased_image(compare, lama_reference):
    proc = compare(lama_reference / "image.png", lama_reference)
    assert proc.returncode == 1 and "nothing was erased" in proc.stderr


def test_copy_needs_rsync_message(monkeypatch, tmp_path):
    monkeypatch.setattr(userland.shutil, "which", lambda name: None)
    with pytest.raises(userland.EmulationError, match="rsync is missing"):
        userland.copy_checkout(tmp_path)
