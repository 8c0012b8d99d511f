"""A deploy killed at each step, a release that crashes on start, a full disk: the running release
keeps serving, ``invoke deploy --status`` tells the truth and the next deploy succeeds.

Real deploys (venv, offline pip install, staged check, switch) of a small stdlib app
(fake_app.py), killed with SIGKILL at the moment a step is observed to have happened.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from fake_app import Site, wheelhouse

from rvforge.common import free_port

pytestmark = pytest.mark.slow  # a real venv per deploy: 20-45 s a test on a shared 2-core machine


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def wait_for(condition: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def kill_deploy_when(site: Site, house: Path, condition: Callable[[], bool], what: str) -> None:
    """Start a deploy, SIGKILL it (only it, not its children) the moment ``condition`` holds."""
    proc = subprocess.Popen(site.deploy_command(house), env=site.env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        wait_for(lambda: condition() or proc.poll() is not None, 120, what)
        assert proc.poll() is None, f"the deploy ended before {what}:\n{proc.communicate()[0]}"
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
        proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL


def assert_serves_and_recovers(site: Site, good: str, next_house: Path, next_version: str) -> None:
    """``good`` answers, status says so, and the next deploy replaces it."""
    assert site.serving() == good
    status = site.status()
    assert f"* {site.current()}" in status and "running, healthy" in status, status
    proc = site.deploy(next_house)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert site.serving() == next_version
    assert all((site.prefix / "releases" / name / "release.json").is_file() for name in site.release_dirs())


@pytest.fixture(scope="module")
def houses(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("houses")
    for version in "123456789":
        wheelhouse(root, version)
    return root


@pytest.fixture
def site(tmp_path, houses):
    """A prefix with release 1 serving."""
    site = Site(tmp_path, free_port())
    proc = site.deploy(houses / "wheelhouse-1")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert site.serving() == "1"
    yield site
    site.stop()


def test_killed_after_the_venv_is_made(site, houses):
    first = site.current()
    kill_deploy_when(site, houses / "wheelhouse-2",
                     lambda: any(p.exists() for p in site.prefix.glob("releases/*/venv/bin/pip")
                                 if first not in str(p)), "a new venv")
    assert site.current() == first and site.serving() == "1"
    assert len(site.release_dirs()) == 2  # the half-made one, not a release: status names it
    status = site.status()
    assert "incomplete: left by an interrupted deploy" in status and "in progress" not in status, status
    assert_serves_and_recovers(site, "1", houses / "wheelhouse-3", "3")
    assert len(site.release_dirs()) == 2  # the debris was removed by that deploy


def test_killed_during_the_health_check_takes_the_staged_server_with_it(site, tmp_path):
    slow = wheelhouse(tmp_path, "2", mode="slow")
    staged = lambda: [p for p in site.data.glob("started-2-*.pid")]  # noqa: E731
    kill_deploy_when(site, slow, lambda: bool(staged()), "the staged server")
    pid = int(staged()[0].read_text())
    wait_for(lambda: not alive(pid), 5, "the staged server to die with its deploy")
    assert site.serving() == "1"
    assert_serves_and_recovers(site, "1", wheelhouse(tmp_path, "3"), "3")


@pytest.mark.parametrize("new_mode, serving_after", [("ok", "2"), ("crash-as-service", "1")])
def test_killed_between_stop_and_switch(site, tmp_path, new_mode, serving_after):
    """The switch runs on by itself: it brings up the new release, or switches back to the old one."""
    mode = new_mode if new_mode == "ok" else f"crash-as-service:{site.port}"
    old_pid = site.service_pid()
    kill_deploy_when(site, wheelhouse(tmp_path, "2", mode), lambda: not alive(old_pid), "the old service to stop")
    wait_for(lambda: "in progress" not in site.status(), 60, "the switch to finish")
    assert site.serving() == serving_after
    assert_serves_and_recovers(site, serving_after, wheelhouse(tmp_path, "3"), "3")


def test_a_release_that_crashes_on_start_never_replaces_the_running_one(site, tmp_path):
    before = (site.current(), site.service_pid())
    proc = site.deploy(wheelhouse(tmp_path, "2", "crash"))
    assert proc.returncode == 6 and "failed its health check" in proc.stderr, proc.stdout + proc.stderr
    assert "release 2 cannot start" in proc.stderr  # the staged server's own words
    assert (site.current(), site.service_pid()) == before and len(site.release_dirs()) == 1
    assert_serves_and_recovers(site, "1", wheelhouse(tmp_path, "3"), "3")


def test_a_release_that_crashes_only_as_the_service_is_switched_back(site, tmp_path):
    first = site.current()
    proc = site.deploy(wheelhouse(tmp_path, "2", f"crash-as-service:{site.port}"))
    assert proc.returncode == 6, proc.stdout + proc.stderr
    assert "did not come up as the service" in proc.stderr and f"switched back to {first}" in proc.stderr
    assert site.current() == first and len(site.release_dirs()) == 1
    assert_serves_and_recovers(site, "1", wheelhouse(tmp_path, "3"), "3")


def test_a_second_deploy_at_once_is_refused_naming_the_first(site, tmp_path):
    first = subprocess.Popen(site.deploy_command(wheelhouse(tmp_path, "2", "slow")), env=site.env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: list(site.data.glob("started-2-*.pid")), 60, "the first deploy's staged server")
        second = site.deploy(wheelhouse(tmp_path, "3"))
        assert second.returncode == 9, second.stdout + second.stderr
        assert f"is in use by pid {first.pid} (deploy)" in second.stderr
        assert "a deploy or switch is in progress" in site.status()
    finally:
        first.kill()
        first.wait()
    assert site.serving() == "1"


# 40 MiB: room for one release venv (about 26 MiB), not two.
@pytest.mark.disk_size("40m")
def test_a_full_disk_fails_cleanly_and_the_next_deploy_succeeds(tmp_path, houses, small_disk):
    site = Site(tmp_path, free_port(), prefix=small_disk / "prefix")
    try:
        assert site.deploy(houses / "wheelhouse-1").returncode == 0 and site.serving() == "1"
        proc = site.deploy(houses / "wheelhouse-2")
        assert proc.returncode == 6, proc.stdout + proc.stderr
        assert "MiB free on the disk holding" in proc.stderr and "free space on the disk" in proc.stderr
        assert "Traceback" not in proc.stderr
        assert len(site.release_dirs()) == 1 and site.serving() == "1"
        status = site.status()
        assert "running, healthy" in status and "incomplete" not in status, status
        subprocess.run(["mount", "-o", "remount,size=80m", str(small_disk)], check=True)
        assert_serves_and_recovers(site, "1", houses / "wheelhouse-3", "3")
    finally:
        site.stop()
