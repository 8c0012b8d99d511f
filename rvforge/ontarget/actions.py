"""The deploy steps that run on the target machine (in-process for ``local``, over ssh otherwise).

Order of a deploy: check everything (wheels fit the interpreter, torch provider usable) ->
new release dir + venv, offline install -> start it on a spare port and wait for the health
check -> only then stop the old service, switch ``current`` and start it -> prune old releases.
Any failure before the switch leaves the running release untouched; a failure after it
switches back. One deploy per prefix at a time, and the switch runs in a process of its own
(``switching``), so a deploy killed at any step never leaves the service stopped.
Standard library only.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from rvforge.common import free_port
from rvforge.errors import DeployError
from rvforge.log import info, step
from rvforge.ontarget import release as rel
from rvforge.ontarget import service as svc
from rvforge.ontarget import switching, wheeltags
from rvforge.ontarget.settings import TORCH_PROVIDERS, Settings


def _torch_wheel_file(provider: str) -> Path | None:
    if not provider.startswith("wheel:"):
        return None
    path = Path(os.path.expanduser(provider.split(":", 1)[1].strip()))
    if not path.is_file() or not path.name.startswith("torch-") or path.suffix != ".whl":
        raise DeployError(f"torch provider '{provider}': {path} is not a torch wheel file",
                          hint="give the path of a torch-*.whl built for this machine")
    return path


def _check_system_torch(python: str) -> None:
    proc = subprocess.run([python, "-c", "import torch; print(torch.__version__)"],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise DeployError(f"torch provider 'system': {python} cannot import torch",
                          hint="install the distro's torch (e.g. python3-torch) or deploy with "
                               "--torch wheelhouse / --torch wheel:PATH")


def plan_install(s: Settings, interp: wheeltags.Interpreter) -> Path | None:
    """Check the wheelhouse and torch provider; return the torch wheel to unpack (None: the
    system's torch). Changes nothing."""
    wheelhouse = Path(os.path.expanduser(s.wheelhouse))
    wheels = sorted(wheelhouse.glob("*.whl")) if wheelhouse.is_dir() else []
    if not any(w.name.startswith("magiceraser-") for w in wheels):
        raise DeployError(f"no magiceraser wheel in the wheelhouse {wheelhouse}",
                          hint="run invoke deploy from the checkout (it builds the app wheel) "
                               "after invoke build-wheels")
    torch_file = _torch_wheel_file(s.torch)
    if s.torch == "wheelhouse":
        torches = [w for w in wheels if w.name.startswith("torch-")]
        if not torches:
            raise DeployError(f"torch provider 'wheelhouse': no torch wheel in {wheelhouse}",
                              hint="run invoke build-wheels --only torch, or deploy with "
                                   "--torch system / --torch wheel:PATH")
        fitting = [w for w in torches
                   if (name := wheeltags.parse_wheel_name(w)) is not None and wheeltags.compatible(name, interp)]
        torch_file = fitting[-1] if fitting else torches[-1]
    elif s.torch == "system":
        _check_system_torch(s.python)
    elif torch_file is None:
        raise DeployError(f"unknown torch provider '{s.torch}'", hint=f"use one of {', '.join(TORCH_PROVIDERS)}")
    others = [w for w in wheels if not w.name.startswith("torch-")]
    wheeltags.check_wheels(others + ([torch_file] if torch_file else []), interp)
    return torch_file


def staged_check(layout: rel.Layout, release: Path, timeout: float) -> None:
    """Start the new release on a spare loopback port and wait for its health check."""
    port = free_port()
    layout.log_dir.mkdir(parents=True, exist_ok=True)
    log_path = layout.log_dir / f"stage-{release.name}.log"
    with open(log_path, "ab") as log:
        proc = subprocess.Popen([str(release / "bin" / "run-service"), "--host", "127.0.0.1",
                                 "--port", str(port)], stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True,
                                preexec_fn=switching.die_with_parent)
    try:
        why = svc.wait_healthy(svc.health_url("127.0.0.1", port), timeout, alive=lambda: proc.poll() is None)
    finally:
        _stop_process_group(proc)
    if why:
        raise DeployError(f"the new release {release.name} failed its health check: {why}\n"
                          f"--- {log_path} (last lines):\n{svc.tail(log_path, 20)}",
                          hint="the running release was left untouched; fix the cause and deploy again")


def _stop_process_group(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def _release_failed(layout: rel.Layout, release: Path, exc: OSError | DeployError) -> DeployError:
    """Remove the unfinished release; name a full disk as the cause when it is one."""
    low = rel.low_space(layout.prefix)  # measured before the removal frees the space again
    shutil.rmtree(release, ignore_errors=True)
    if low is None and isinstance(exc, DeployError):
        return exc
    message = exc.message if isinstance(exc, DeployError) else f"creating release {release.name} failed: {exc}"
    if low is None:
        return DeployError(f"{message}; the running release was left untouched")
    return DeployError(f"{message}\n{low}; the running release was left untouched",
                       hint=f"free space on the disk holding {layout.prefix} (or deploy with another --prefix), "
                            "then deploy again")


def release_service(release: Path, fallback: svc.ServiceConfig) -> svc.ServiceConfig:
    data = rel.read_info(release).get("service")
    return svc.ServiceConfig(**data) if data else fallback


def activate(s: Settings, release: Path, lock_fd: int | None = None) -> None:
    """``switch`` in a process of its own that holds the deploy lock (``lock_fd``, else taken here):
    once the old service is stopped, the switch completes or switches back even if this one dies."""
    if lock_fd is None:
        with switching.exclusive(s.layout, f"switch to {release.name}") as fd:
            switching.detached_switch(s.layout, s.to_json(), release, fd)
    else:
        switching.detached_switch(s.layout, s.to_json(), release, lock_fd)


def switch(s: Settings, release: Path) -> None:
    """Stop the running release, switch ``current``, start, health-check; on failure switch back."""
    layout = s.layout
    cfg = release_service(release, s.service)
    previous = rel.current_release(layout)
    mgr = svc.manager(layout, cfg, s.manager)
    mgr.install()
    with step(f"switch to release {release.name} ({mgr.kind})"):
        mgr.stop()
        rel.switch_current(layout, release)
        mgr.start()
        why = svc.wait_healthy(svc.health_url(cfg.host, cfg.port), s.health_timeout, alive=mgr.running)
    if why is None:
        return
    mgr.stop()
    log = mgr.logs(20)
    if previous is not None and previous != release:
        rel.switch_current(layout, previous)
        mgr.start()
        old_cfg = release_service(previous, cfg)
        back = svc.wait_healthy(svc.health_url(old_cfg.host, old_cfg.port), s.health_timeout, alive=mgr.running)
        kept = f"switched back to {previous.name}" + (f", which is not healthy either: {back}" if back else "")
    else:
        kept = "no earlier release to switch back to"
    raise DeployError(f"release {release.name} did not come up as the service: {why}; {kept}\n{log}")


def deploy(s: Settings) -> Path:
    with step("check the wheelhouse against the target's Python"):
        interp = wheeltags.probe(s.python)
        torch_wheel = plan_install(s, interp)
        info(f"    python {interp.major}.{interp.minor} ({interp.machine}) at {interp.executable}; "
             f"torch from {s.torch}")
    with switching.exclusive(s.layout, "deploy") as lock_fd:
        switching.clear_debris(s.layout)
        return _install_and_switch(s, interp, torch_wheel, lock_fd)


def _install_and_switch(s: Settings, interp: wheeltags.Interpreter, torch_wheel: Path | None, lock_fd: int) -> Path:
    layout = s.layout
    release = rel.new_release(layout)
    try:
        with step(f"create release {release.name} (offline install)"):
            venv_python = rel.create_venv(s.python, release / "venv", s.torch == "system")
            layer = rel.torch_layer(layout, venv_python, torch_wheel) if torch_wheel else None
            if layer:
                rel.attach_layer(venv_python, layer)
            wheelhouse = Path(os.path.expanduser(s.wheelhouse))
            if s.torch == "system":
                rel.install_app_beside_system_torch(venv_python, wheelhouse)
            else:
                rel.install_offline(venv_python, wheelhouse, ["magiceraser"])
            libraries = wheeltags.library_wheels(sorted(wheelhouse.glob("*.whl")))
            if libraries:
                rel.install_offline(venv_python, wheelhouse, ["--no-deps", *libraries])
            svc.write_run_script(release, s.service)
        if libraries:
            with step("choose the BLAS flavour this CPU runs (self-tested here)"):
                info(f"    {rel.choose_blas_flavour(venv_python)}")
        with step("health-check the new release on a spare port"):
            staged_check(layout, release, s.health_timeout)
        rel.write_info(release, {**_release_info(s, interp, venv_python),
                                 "torch_layer": layer.name if layer else None})
    except (OSError, DeployError) as exc:
        raise _release_failed(layout, release, exc) from None
    except BaseException:
        shutil.rmtree(release, ignore_errors=True)
        raise
    try:
        activate(s, release, lock_fd)
    except DeployError:
        if rel.current_release(layout) != release:
            shutil.rmtree(release, ignore_errors=True)  # never became the service: not a rollback target
        raise
    for old in rel.prune(layout, s.keep):
        info(f"    removed old release {old.name}")
    info(f"deployed {release.name}: http://{s.service.host}:{s.service.port}/")
    return release


def _release_info(s: Settings, interp: wheeltags.Interpreter, venv_python: Path) -> dict[str, Any]:
    frozen = subprocess.run([str(venv_python), "-m", "pip", "list", "--format=freeze"],
                            capture_output=True, text=True, env=rel.offline_pip_env()).stdout.split()
    manifest = Path(os.path.expanduser(s.wheelhouse)) / "manifest.json"
    try:
        wheelhouse_manifest = json.loads(manifest.read_text())
    except (OSError, ValueError):
        wheelhouse_manifest = None
    return {
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "python": f"{interp.major}.{interp.minor} {interp.machine}",
        "torch": s.torch,
        "packages": frozen,
        "wheelhouse_manifest": wheelhouse_manifest,
        "service": asdict(s.service),
    }


def rollback(s: Settings) -> Path:
    previous = rel.previous_release(s.layout)
    if previous is None:
        raise DeployError(f"no earlier release under {s.layout.prefix} to roll back to")
    activate(s, previous)
    info(f"rolled back to {previous.name}")
    return previous


def status(s: Settings) -> dict[str, Any]:
    layout = s.layout
    current = rel.current_release(layout)
    cfg = release_service(current, s.service) if current else s.service
    mgr = svc.manager(layout, cfg, s.manager)
    running = mgr.running()
    healthy = running and svc.wait_healthy(svc.health_url(cfg.host, cfg.port), 3) is None
    state: dict[str, Any] = {
        "prefix": str(layout.prefix),
        "current": current.name if current else None,
        "releases": [r.name for r in rel.releases(layout)],
        "manager": mgr.kind,
        "running": running,
        "healthy": healthy,
        "url": f"http://{cfg.host}:{cfg.port}/",
    }
    state["in_progress"] = switching.holder(layout)
    state["incomplete"] = [p.name for p in switching.debris(layout)] if not state["in_progress"] else []
    for name in state["releases"]:
        info(f"  {'*' if name == state['current'] else ' '} {name}")
    for name in state["incomplete"]:
        info(f"  ! {name} (incomplete: left by an interrupted deploy; the next deploy removes it)")
    if state["in_progress"]:
        info(f"a deploy or switch is in progress: {state['in_progress']}")
    info(f"service ({mgr.kind}): {'running' if running else 'stopped'}, "
         f"{'healthy' if healthy else 'not healthy'} at {state['url']}")
    return state


def logs(s: Settings, lines: int = 200) -> str:
    current = rel.current_release(s.layout)
    cfg = release_service(current, s.service) if current else s.service
    text = svc.manager(s.layout, cfg, s.manager).logs(lines)
    info(text)
    return text


ACTIONS = {"deploy": deploy, "rollback": rollback, "status": status, "logs": logs}
