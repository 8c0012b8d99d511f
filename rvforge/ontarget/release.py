"""Release directories under a prefix: one self-contained venv each, an atomic ``current`` link.

    PREFIX/releases/<id>/venv          offline-installed app + deps
    PREFIX/releases/<id>/bin/run-service, service.env, release.json
    PREFIX/current -> releases/<id>    switched with rename(2), never half-written
    PREFIX/layers/torch-<sha>/          torch unpacked once per wheel, shared by releases via a .pth
    PREFIX/run/, PREFIX/log/            pid file and service log (outside every release)

Standard library only: this module runs on the target.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rvforge.common import sha256_file, write_atomic
from rvforge.errors import DeployError
from rvforge.ontarget.wheeltags import project_name


@dataclass(frozen=True)
class Layout:
    prefix: Path

    @property
    def releases(self) -> Path:
        return self.prefix / "releases"

    @property
    def current(self) -> Path:
        return self.prefix / "current"

    @property
    def layers(self) -> Path:
        return self.prefix / "layers"

    @property
    def bin(self) -> Path:
        return self.prefix / "bin"

    @property
    def run(self) -> Path:
        return self.prefix / "run"

    @property
    def log_dir(self) -> Path:
        return self.prefix / "log"

    @property
    def pid_file(self) -> Path:
        return self.run / "magiceraser.pid"

    @property
    def log_file(self) -> Path:
        return self.log_dir / "magiceraser.log"


def new_release(layout: Layout) -> Path:
    """A fresh, uniquely named release directory (sortable by creation time)."""
    layout.releases.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    for n in range(100):
        path = layout.releases / (stamp if n == 0 else f"{stamp}-{n}")
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue
    raise DeployError(f"cannot create a release directory under {layout.releases}")


def releases(layout: Layout) -> list[Path]:
    """Complete releases, oldest first (a release is complete once release.json exists)."""
    if not layout.releases.is_dir():
        return []
    return sorted(p for p in layout.releases.iterdir() if (p / "release.json").is_file())


def current_release(layout: Layout) -> Path | None:
    if not layout.current.is_symlink():
        return None
    target = layout.current.resolve()
    return target if target.is_dir() else None


def previous_release(layout: Layout) -> Path | None:
    """The newest complete release older than ``current``."""
    current = current_release(layout)
    older = [r for r in releases(layout) if current is None or r.name < current.name]
    return older[-1] if older else None


def switch_current(layout: Layout, release: Path) -> None:
    """Point ``current`` at ``release`` atomically: a new link renamed over the old one."""
    tmp = layout.prefix / f".current.{os.getpid()}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    os.symlink(os.path.relpath(release, layout.prefix), tmp)
    os.replace(tmp, layout.current)


def prune(layout: Layout, keep: int) -> list[Path]:
    """Delete the oldest releases beyond ``keep`` (never the current one), then every torch
    layer no remaining release uses."""
    current = current_release(layout)
    doomed = [r for r in releases(layout)[: -max(keep, 1)] if r != current]
    for release in doomed:
        shutil.rmtree(release, ignore_errors=True)
    used = {read_info(r).get("torch_layer") for r in releases(layout)}
    if layout.layers.is_dir():
        for layer in layout.layers.iterdir():
            if layer.name not in used and not layer.name.endswith(".partial"):
                shutil.rmtree(layer, ignore_errors=True)
    return doomed


def read_info(release: Path) -> dict[str, Any]:
    try:
        data = json.loads((release / "release.json").read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_info(release: Path, info: dict[str, Any]) -> None:
    """Written last: its presence marks the release complete."""
    write_atomic(release / "release.json", json.dumps(info, indent=2, sort_keys=True) + "\n")


def offline_pip_env() -> dict[str, str]:
    """pip sees no index, no config file and no find-links but ours: nothing can leave the host."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
    return env


LOW_SPACE = 64 * 2**20  # less than this free after a failed step: the disk is why (venvs are bigger)


def low_space(path: Path) -> str | None:
    """'only N MiB free on the disk holding PATH' when that is too little to finish a release."""
    try:
        free = shutil.disk_usage(path).free
    except OSError:
        return None
    return f"only {free // 2**20} MiB free on the disk holding {path}" if free < LOW_SPACE else None


def _run(cmd: list[str], what: str, env: dict[str, str] | None = None, hint: str | None = None) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
        raise DeployError(f"{what} failed ({' '.join(cmd)}):\n{tail}", hint=hint)


def create_venv(python: str, venv: Path, system_site_packages: bool) -> Path:
    """The release's own venv; returns its python."""
    cmd = [python, "-m", "venv"]
    if system_site_packages:
        cmd.append("--system-site-packages")
    _run([*cmd, str(venv)], "creating the release venv",
         hint="the target's Python needs its venv module (Debian: apt install python3-venv)")
    return venv / "bin" / "python"


def install_offline(venv_python: Path, wheelhouse: Path, requirements: list[str]) -> None:
    """``pip install --no-index --find-links WHEELHOUSE``: the wheelhouse is the only source.
    (No byte-compiling: modules compile on first import, once, into the release.)"""
    _run([str(venv_python), "-m", "pip", "install", "--no-index", "--find-links", str(wheelhouse),
          "--no-cache-dir", "--no-compile", *requirements], "offline install from the wheelhouse",
         env=offline_pip_env(), hint="a wheel the app needs is missing from the wheelhouse: run "
                                     "invoke build-wheels (it also collects the pure-Python dependencies)")


def choose_blas_flavour(venv_python: Path) -> str:
    """Let the eraser self-test the openblas wheel's flavours on this CPU and select the best that
    passes; one line saying which and why. A failure to choose leaves the scalar fallback (slower,
    never wrong), so it is reported, not fatal."""
    proc = subprocess.run([str(venv_python), "-m", "magiceraser.blas", "--choose-flavour"],
                          capture_output=True, text=True, env=offline_pip_env())
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no message"])[-1]
        return f"warning: could not choose the BLAS flavour ({last}); the scalar fallback is used"
    return proc.stdout.strip()


def install_app_beside_system_torch(venv_python: Path, wheelhouse: Path, app: str = "magiceraser") -> None:
    """The app and its own requirements, leaving torch and torch's dependency tree to the distro.

    A distro's torch stack need not satisfy pip's resolver (Debian's sympy pins mpmath<1.4 while
    the distro ships mpmath 1.4), and re-resolving it against the wheelhouse would fail for a
    package the release never uses directly."""
    install_offline(venv_python, wheelhouse, ["--no-deps", app])
    listed = subprocess.run(
        [str(venv_python), "-c", "import importlib.metadata as m, sys; "
         "print('\\n'.join(m.requires(sys.argv[1]) or []))", app],
        capture_output=True, text=True, check=True, env=offline_pip_env()).stdout.split("\n")
    wanted = [req for req in (line.strip() for line in listed) if req and project_name(req) != "torch"]
    if wanted:
        install_offline(venv_python, wheelhouse, wanted)


def torch_layer(layout: Layout, venv_python: Path, wheel: Path) -> Path:
    """torch unpacked once per wheel (by content) under PREFIX/layers: an upgrade that keeps the
    same torch skips writing its ~700 MB again."""
    layer = layout.layers / f"torch-{sha256_file(wheel)[:16]}"
    if (layer / ".complete").is_file():
        return layer
    partial = layer.with_name(layer.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    _run([str(venv_python), "-m", "pip", "install", "--no-index", "--no-deps", "--no-compile",
          "--target", str(partial), str(wheel)], f"unpacking {wheel.name}", env=offline_pip_env())
    (partial / ".complete").touch()
    shutil.rmtree(layer, ignore_errors=True)
    os.replace(partial, layer)
    return layer


def attach_layer(venv_python: Path, layer: Path) -> None:
    """A .pth in the venv puts the layer on sys.path: pip sees torch installed, imports find it."""
    purelib = subprocess.run([str(venv_python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                             capture_output=True, text=True, check=True).stdout.strip()
    (Path(purelib) / "rvforge-torch-layer.pth").write_text(f"{layer}\n")
