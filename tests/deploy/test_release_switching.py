"""Release switching, rollback and pre-flight checks with real processes, scripts and pid files.

The releases here run a small stdlib HTTP server instead of the eraser, so the switch logic
is exercised in seconds; test_deploy_local.py does the same with the real app.
"""

from __future__ import annotations

import json
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import pytest
from deploy_support import invoke, offline_env

from rvforge.common import process_stat
from rvforge.errors import DeployError
from rvforge.ontarget import actions, release, service
from rvforge.ontarget.settings import Settings

HEALTH_SERVER = textwrap.dedent("""
    import http.server, json, sys
    name, port = sys.argv[1], int(sys.argv[sys.argv.index("--port") + 1])
    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = json.dumps({"status": "ok", "release": name}).encode()
            self.send_response(200); self.end_headers(); self.wfile.write(body)
        def log_message(self, *a): pass
    http.server.HTTPServer(("127.0.0.1", port), H).serve_forever()
""")


def fake_release(layout: release.Layout, name: str, port: int, healthy: bool = True) -> Path:
    """A complete release whose run-service answers /api/v1/health with its own name (or dies)."""
    rel = layout.releases / name
    (rel / "bin").mkdir(parents=True)
    server = rel / "health_server.py"
    server.write_text(HEALTH_SERVER)
    body = f'exec {sys.executable} {server} {name} --port {port} "$@"' if healthy else "exit 1"
    (rel / "bin" / "run-service").write_text(f"#!/bin/sh\n{body}\n")
    (rel / "bin" / "run-service").chmod(0o755)
    release.write_info(rel, {"service": {"host": "127.0.0.1", "port": port}})
    return rel


def serving(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=5) as resp:
        return json.loads(resp.read())["release"]


@pytest.fixture
def settings(tmp_path, free_port):
    s = Settings(prefix=str(tmp_path / "prefix"), manager="pidfile", health_timeout=20,
                          service=service.ServiceConfig(port=free_port))
    yield s
    service.PidFileManager(s.layout, s.service).stop()


def test_switch_rollback_and_a_failing_release_keeps_the_old_one(settings):
    layout, port = settings.layout, settings.service.port
    first = fake_release(layout, "20260101-000000", port)
    second = fake_release(layout, "20260102-000000", port)
    broken = fake_release(layout, "20260103-000000", port, healthy=False)

    actions.activate(settings, first)
    assert serving(port) == first.name
    actions.activate(settings, second)
    assert serving(port) == second.name and release.current_release(layout) == second
    pid = layout.pid_file.read_text().strip()
    assert Path(f"/proc/{pid}").exists()

    with pytest.raises(DeployError, match="did not come up as the service.*switched back to 20260102-000000"):
        actions.activate(settings, broken)
    assert serving(port) == second.name and release.current_release(layout) == second

    actions.rollback(settings)
    assert serving(port) == first.name and release.current_release(layout) == first
    assert (layout.prefix / "current").is_symlink()
    assert "--- start" in layout.log_file.read_text()


def test_staged_check_reports_the_log_of_a_release_that_dies(settings):
    layout = settings.layout
    broken = fake_release(layout, "20260103-000000", settings.service.port, healthy=False)
    (broken / "bin" / "run-service").write_text("#!/bin/sh\necho 'model config is broken' >&2\nexit 3\n")
    with pytest.raises(DeployError) as err:
        actions.staged_check(layout, broken, timeout=10)
    assert "exited during start-up" in str(err.value) and "model config is broken" in str(err.value)
    assert release.current_release(layout) is None


def test_prune_keeps_the_newest_and_the_current(tmp_path):
    layout = release.Layout(tmp_path)
    names = [f"2026010{i}-000000" for i in range(1, 6)]
    for name in names:
        release.write_info(release.new_release(layout).rename(layout.releases / name), {})
    release.switch_current(layout, layout.releases / names[0])
    removed = release.prune(layout, keep=2)
    assert sorted(p.name for p in removed) == names[1:3]
    assert [p.name for p in release.releases(layout)] == [names[0], *names[3:]]


def test_systemd_unit_runs_the_current_release_with_restart_and_memory_cap(tmp_path):
    unit = service.unit_file(release.Layout(tmp_path), service.ServiceConfig(memory_max="6G"))
    assert f"ExecStart={tmp_path}/current/bin/run-service\n" in unit
    assert "Restart=on-failure\n" in unit and "MemoryMax=6G\n" in unit
    assert "[Install]\nWantedBy=default.target" in unit


def test_run_script_passes_the_service_config(tmp_path):
    cfg = service.ServiceConfig(host="0.0.0.0", port=8080, model="/m/big-lama", threads=4, mkldnn=False,
                                data_dir="/home/u/.local/share/magiceraser")
    script = service.run_script(tmp_path, cfg)
    assert "export MAGICERASER_HOME=/home/u/.local/share/magiceraser\n" in script
    assert (f"exec {tmp_path}/venv/bin/python -m magiceraser serve --host 0.0.0.0 --port 8080 "
            "--model /m/big-lama --threads 4 --no-mkldnn \"$@\"") in script


def _alive(pid: int) -> bool:
    fields = process_stat(pid)
    return fields is not None and fields[0] != "Z"


def test_stop_ends_what_the_service_started(tmp_path):
    """A child the service left behind (a hung helper process, say) must not outlive ``stop``: it
    would keep the user's session, or a container's, from ending."""
    layout = release.Layout(tmp_path)
    run_service = layout.current / "bin" / "run-service"
    run_service.parent.mkdir(parents=True)
    child_pid = tmp_path / "child.pid"
    run_service.write_text(f"#!/bin/sh\nsh -c 'trap \"\" TERM; echo $$ > {child_pid}; exec sleep 300' &\n"
                           "sleep 300\n")  # no exec: the pid file's process must name the prefix
    run_service.chmod(0o755)
    manager = service.PidFileManager(layout, service.ServiceConfig())
    manager.install()
    manager.start()
    try:
        for _ in range(50):
            if child_pid.is_file() and child_pid.read_text().strip():
                break
            time.sleep(0.1)
        pids = [int(layout.pid_file.read_text()), int(child_pid.read_text())]
        assert all(_alive(pid) for pid in pids)
    finally:
        manager.stop()
    assert not any(_alive(pid) for pid in pids), "the service or its child outlived stop"
    assert not manager.running()


def write_target(path: Path, prefix: Path, **extra) -> Path:
    lines = [f"prefix: {prefix}", "manager: pidfile"] + [f"{k}: {v}" for k, v in extra.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("wheel, why", [
    ("numpy-2.2.0-cp311-cp311-linux_riscv64.whl", "riscv64"),
    ("numpy-2.2.0-cp312-cp312-manylinux_2_28_x86_64.whl", "cp312"),
])
def test_wheels_for_another_python_are_refused_before_anything_changes(tmp_path, homes, wheel, why):
    house = tmp_path / "wheelhouse"
    house.mkdir()
    for name in (wheel, "torch-2.5.0-cp311-cp311-manylinux_2_28_x86_64.whl", "flask-3.1.0-py3-none-any.whl"):
        (house / name).write_bytes(b"")
    prefix = tmp_path / "prefix"
    target = write_target(tmp_path / "t.yaml", prefix, python=sys.executable)
    proc = invoke("deploy", "--target", str(target), "--wheelhouse", str(house), env=offline_env(**homes))
    assert proc.returncode == 6, proc.stdout + proc.stderr
    assert "do not fit the target's Python" in proc.stderr and wheel in proc.stderr
    assert "cp311, x86_64" in proc.stderr and why in wheel
    assert not prefix.exists()


def test_missing_torch_for_the_chosen_provider_is_named(tmp_path, homes):
    house = tmp_path / "wheelhouse"
    house.mkdir()
    prefix = tmp_path / "prefix"
    target = write_target(tmp_path / "t.yaml", prefix, python=sys.executable)
    proc = invoke("deploy", "--target", str(target), "--wheelhouse", str(house), "--torch", "wheelhouse",
                  env=offline_env(**homes))
    assert proc.returncode == 6 and "no torch wheel in" in proc.stderr and "--torch system" in proc.stderr
    proc = invoke("deploy", "--target", str(target), "--wheelhouse", str(house),
                  "--torch", f"wheel:{tmp_path}/nope.whl", env=offline_env(**homes))
    assert proc.returncode == 6 and "is not a torch wheel file" in proc.stderr
    assert not prefix.exists()


def test_target_files_are_validated(tmp_path, homes):
    proc = invoke("deploy", "--target", "no-such-target", env=homes)
    assert proc.returncode == 2 and "unknown deploy target 'no-such-target'" in proc.stderr and "local" in proc.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("prefix: /x\nservice:\n  prot: 1\n")
    proc = invoke("deploy", "--target", str(bad), env=homes)
    assert proc.returncode == 2 and "service.prot: unknown field" in proc.stderr
    assert "did you mean 'port'" in proc.stderr


def test_status_of_an_empty_prefix(tmp_path, homes):
    proc = invoke("deploy", "--status", "--prefix", str(tmp_path / "p"), env=homes)
    assert proc.returncode == 0, proc.stderr
    assert "stopped" in proc.stdout
