"""``invoke build-helper``: turn this machine into a compile helper for a target profile.

It checks for (or with ``--install`` installs) distcc and a gcc of the target's major version,
writes the wrappers that pin the target's ``-march``/``-mabi``, and runs ``distccd`` on the
address and for the network given, in the foreground or as a systemd user unit. Where this
distro has no gcc of the target's major but the tool's cross root does, distccd runs in that root.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

from rvforge.build.distcc_hosts import DEFAULT_PORT
from rvforge.config import parse_value
from rvforge.cross import helper_root
from rvforge.errors import CheckFailed
from rvforge.host import helper_daemon, helper_toolchain
from rvforge.host.facts import detect
from rvforge.host.profiles import select
from rvforge.log import info

#: The laptop the helper compiles for unless ``--profile`` names another target.
DEFAULT_PROFILE = "openeuler-riscv64"


def _ensure_tools(compiler: helper_toolchain.HelperCompiler, profile: str, install: bool,
                  helper_dir: Path) -> helper_daemon.Confinement | None:
    """Every tool present, or installed with ``--install``, or the exact command to install them;
    the cross root to run in (None: this machine) when this distro has no such gcc."""
    missing = helper_toolchain.missing_tools(compiler)
    if not missing:
        return None
    try:
        command = helper_toolchain.install_command(compiler)
    except CheckFailed as err:
        if not helper_root.has_root(profile):
            raise
        confinement, root = helper_root.confinement(profile, helper_dir, install, err)
        absent = helper_toolchain.missing_tools(compiler, root)
        if absent:
            raise CheckFailed(f"the cross root {root} lacks {', '.join(absent)}",
                              hint=f"remove it (rm -rf {root}) and add --install to create it again") from None
        info(f"    {compiler.driver('gcc')} from the cross root {root.name}")
        return confinement
    if not install:
        raise CheckFailed(f"missing {', '.join(missing)}", hint=command)
    info(f"$ {command}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if subprocess.run(shlex.split(command), env=env, check=False).returncode != 0:
        raise CheckFailed(f"installing {', '.join(missing)} failed", hint=f"run it by hand: {command}")
    still = helper_toolchain.missing_tools(compiler)
    if still:
        raise CheckFailed(f"still missing after the install: {', '.join(still)}", hint=command)
    return None


def _unit_dir() -> Path:
    """Where systemd looks for this user's units."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "systemd" / "user"


def main(profile: str | None = None, listen: str = "127.0.0.1", allow: str | None = None,
         port: str | None = None, jobs: str | None = None, install: bool = False,
         systemd: bool = False, stop: bool = False, status: bool = False) -> int:
    """Stop or report the helper, or check every flag, make the tools and wrappers ready and run
    distccd (or write its unit); flags are checked before anything is installed or written."""
    files = helper_daemon.default_files()
    if stop:
        info("helper stopped" if helper_daemon.stop(files) else "no helper was running")
        return 0
    if status:
        running, lines = helper_daemon.status_lines(files)
        for line in lines:
            info(line)
        return 0 if running else 1
    networks = helper_daemon.allowed_networks(listen, allow)
    port_number = int(parse_value(int, port or str(DEFAULT_PORT), "--port", {"min": 1, "max": 65535}))
    if not systemd:
        helper_daemon.check_port_free(listen, port_number)
    host = detect()
    slots = int(parse_value(int, jobs or str(host.cpus), "--jobs", {"min": 1}))
    target = select(host, profile or DEFAULT_PROFILE)
    compiler = helper_toolchain.for_profile(target)
    confinement = _ensure_tools(compiler, target.name, install, files.root)
    user = helper_daemon.daemon_user(confinement.passwd if confinement else None)
    files.root.mkdir(parents=True, exist_ok=True)
    helper_toolchain.write_wrappers(compiler, files.root, confinement.inside if confinement else None)
    helper_daemon.prepare(files, user, confined=confinement is not None)
    settings = helper_daemon.HelperSettings(
        listen=listen, port=port_number, allow=networks, jobs=slots, profile=target.name,
        compiler=compiler.driver("gcc"), flags=" ".join(compiler.flags))
    if systemd:
        unit = helper_daemon.write_unit(settings, files, _unit_dir(), user, confinement)
        info(f"wrote {unit}; start it (and at every login) with:")
        info(f"  systemctl --user daemon-reload && systemctl --user enable --now {unit.name}")
        info("  loginctl enable-linger \"$USER\"    # keep it running while you are logged out")
        return 0
    return helper_daemon.run_foreground(settings, files, user, confinement)
