"""The compile helper's ``distccd``: who may connect, where it keeps its files, and running,
stopping and reporting it.

distccd compiles whatever it is sent, so the network it accepts is never guessed: a loopback
listener accepts loopback only; any other address needs ``--allow``, and no ``--allow`` may cover
the whole internet. Run by root, distccd drops to Debian's ``distccd`` user; its temp dir and log
are then handed to that user, and every directory above the wrappers must be enterable by it.

Where this machine's distro has no cross gcc of the target's major, distccd runs inside another
root filesystem that has one (a ``Confinement``): the same daemon, command line and files, the
helper's directory seen at a fixed path inside, and the pid, log and settings still read here.
"""

from __future__ import annotations

import ipaddress
import json
import os
import pwd
import shlex
import signal
import stat
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Mapping, Sequence

from rvforge.common import accepts_connections, last_lines, write_atomic
from rvforge.errors import ConfigError, ForgeError
from rvforge.paths import cache_dir

#: The unprivileged user Debian's distcc package creates for the daemon.
DAEMON_USER = "distccd"
UNIT_NAME = "rvforge-distccd.service"
#: Seconds distccd may take to accept connections after it was started.
START_SECONDS = 10


@dataclass(frozen=True)
class HelperSettings:
    """One helper's daemon settings (kept beside its files for ``--status``)."""

    listen: str
    port: int
    allow: tuple[str, ...]
    jobs: int
    profile: str
    compiler: str  # the driver the wrappers run, e.g. riscv64-linux-gnu-gcc-12
    flags: str  # pinned flags, e.g. "-march=rv64gc -mabi=lp64d"


@dataclass(frozen=True)
class HelperFiles:
    """Where a helper keeps its wrappers, temp dir, log and pid file."""

    root: Path

    @property
    def tmp(self) -> Path:
        return self.root / "tmp"

    @property
    def log(self) -> Path:
        return self.root / "distccd.log"

    @property
    def pid(self) -> Path:
        return self.root / "distccd.pid"

    @property
    def settings(self) -> Path:
        return self.root / "helper.json"

    @property
    def cmdlist(self) -> Path:
        return self.root / "cmdlist"


@dataclass(frozen=True)
class Confinement:
    """Run distccd inside another root: ``wrap`` turns (command, env) into the command line run
    here; the helper's directory is seen at ``inside`` there; ``passwd`` is that root's
    /etc/passwd, which holds the daemon's user."""

    wrap: Callable[[Sequence[str], Mapping[str, str]], list[str]]
    inside: Path
    passwd: Path


def launch(settings: HelperSettings, files: HelperFiles, user: pwd.struct_passwd | None,
           confinement: Confinement | None, pid_file: bool = False) -> tuple[list[str], dict[str, str]]:
    """The command line and environment that start distccd here, or inside the confinement."""
    if confinement is None:
        return daemon_command(settings, files, user, pid_file), daemon_env(files)
    seen = HelperFiles(confinement.inside)
    return (confinement.wrap(daemon_command(settings, seen, user, pid_file), daemon_env(seen)),
            {"PATH": "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", "LC_ALL": "C.UTF-8"})


def default_files() -> HelperFiles:
    """The one helper of this machine's tool cache."""
    return HelperFiles(cache_dir() / "distcc-helper")


def allowed_networks(listen: str, allow: str | None) -> tuple[str, ...]:
    """The networks distccd accepts, checked: never the whole internet, never a guess."""
    try:
        address = ipaddress.ip_address(listen)
    except ValueError:
        raise ConfigError(f"--listen {listen}: not an IP address",
                          hint="give this machine's LAN address (e.g. 192.168.1.20) or 127.0.0.1") from None
    if not allow:
        if address.is_loopback:
            return (str(address),)
        raise ConfigError(f"--listen {listen} without --allow: distccd would run compile jobs for "
                          "anyone who can reach it",
                          hint="add --allow with your LAN only, e.g. --allow 192.168.1.0/24")
    networks = []
    for part in allow.split(","):
        try:
            network = ipaddress.ip_network(part.strip(), strict=False)
        except ValueError:
            raise ConfigError(f"--allow {allow}: '{part}' is not an address or CIDR network",
                              hint="give networks as CIDR, e.g. --allow 192.168.1.0/24,10.0.0.5") from None
        if network.prefixlen == 0:
            raise ConfigError(f"--allow {part}: that lets every address on the internet run compilers "
                              "on this machine", hint="allow only your LAN, e.g. --allow 192.168.1.0/24")
        networks.append(str(network))
    return tuple(networks)


def daemon_user(passwd: Path | None = None) -> pwd.struct_passwd | None:
    """The user distccd drops to: Debian's ``distccd`` when run by root, else None (it keeps
    the caller's); looked up in ``passwd`` when distccd runs inside another root."""
    if os.geteuid() != 0:
        return None
    try:
        if passwd is None:
            return pwd.getpwnam(DAEMON_USER)
        for line in passwd.read_text().splitlines():
            fields = line.split(":")
            if fields[0] == DAEMON_USER and len(fields) == 7:
                return pwd.struct_passwd((fields[0], fields[1], int(fields[2]), int(fields[3]),
                                          *fields[4:]))
        raise KeyError(DAEMON_USER)
    except KeyError:
        raise ConfigError(f"run as root, but there is no '{DAEMON_USER}' user for distccd to run as",
                          hint="run build-helper as a normal user, or install Debian's distcc package") from None


def prepare(files: HelperFiles, user: pwd.struct_passwd | None, confined: bool = False) -> None:
    """Temp dir and log writable by the daemon's user, and its way to the wrappers open (a
    confined daemon sees the directory mounted at an open path instead)."""
    files.tmp.mkdir(parents=True, exist_ok=True)
    files.log.touch()
    if user is None:
        return
    for path in (files.tmp, files.log):
        os.chown(path, user.pw_uid, user.pw_gid)
    files.root.chmod(0o755)
    (files.root / "bin").chmod(0o755)
    for parent in () if confined else files.root.resolve().parents:
        if not parent.stat().st_mode & stat.S_IXOTH:
            raise ConfigError(f"distccd runs as user {user.pw_name}, which cannot enter {parent}",
                              hint="run build-helper as a normal user, or set RVFORGE_HOME to a "
                                   "directory others may enter (e.g. /var/cache/rvforge)")


def daemon_command(settings: HelperSettings, files: HelperFiles, user: pwd.struct_passwd | None,
                   pid_file: bool = False) -> list[str]:
    """The distccd command line: in the foreground, bounded jobs, a log in the helper's dir."""
    args = ["distccd", "--daemon", "--no-detach", "--listen", settings.listen,
            "--port", str(settings.port), "--jobs", str(settings.jobs), "--nice", "10",
            "--job-lifetime", "1800", "--log-file", str(files.log), "--log-level", "info"]
    for network in settings.allow:
        args += ["--allow", network]
    if user is not None:
        args += ["--user", user.pw_name]
    if pid_file:
        args += ["--pid-file", str(files.pid)]
    return args


def daemon_env(files: HelperFiles) -> dict[str, str]:
    """Only the wrappers may run (``DISTCC_CMDLIST``, matched on the last path word)."""
    return {"DISTCC_CMDLIST": str(files.cmdlist), "DISTCC_CMDLIST_NUMWORDS": "1",
            "TMPDIR": str(files.tmp), "PATH": "/usr/local/bin:/usr/bin:/bin", "LC_ALL": "C.UTF-8"}


def check_port_free(listen: str, port: int) -> None:
    """Refuse early: distccd would fail to bind only after it started."""
    if accepts_connections(listen, port):
        raise ConfigError(f"--port {port}: {listen}:{port} is already in use",
                          hint="stop what listens there or pick another --port")


def running_pid(files: HelperFiles) -> int | None:
    """The pid in the pid file when that process is a live distccd."""
    try:
        pid = int(files.pid.read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        return None
    return pid if b"distccd" in cmdline else None


def run_foreground(settings: HelperSettings, files: HelperFiles, user: pwd.struct_passwd | None,
                   confinement: Confinement | None = None) -> int:
    """Start distccd in its own session, record its pid, and wait for it (Ctrl-C or ``--stop``
    ends it). Its own session: on SIGTERM distccd signals its whole process group."""
    running = running_pid(files)
    if running is not None:
        raise ForgeError(f"a helper already runs (pid {running})", hint="invoke build-helper --stop first")
    _record(settings, files)
    command, env = launch(settings, files, user, confinement)
    proc = subprocess.Popen(command, env=env, start_new_session=True, stdin=subprocess.DEVNULL)
    write_atomic(files.pid, f"{proc.pid}\n")
    previous = signal.signal(signal.SIGTERM, lambda *_: _stop_group(proc.pid))
    try:
        deadline = time.monotonic() + START_SECONDS
        while not accepts_connections(settings.listen, settings.port) and proc.poll() is None:
            if time.monotonic() > deadline:
                raise ForgeError(f"distccd does not answer on {settings.listen}:{settings.port} after "
                                 f"{START_SECONDS} s: {_log_tail(files)}", hint=f"see {files.log}")
            time.sleep(0.1)
        if proc.poll() is not None:
            raise ForgeError(f"distccd exited at once (code {proc.returncode}): {_log_tail(files)}",
                             hint=f"see {files.log}; is port {settings.port} already taken?")
        print(f"distccd listening on {settings.listen}:{settings.port} for {', '.join(settings.allow)} "
              f"({settings.jobs} slots): {settings.compiler} {settings.flags}".rstrip(), flush=True)
        print(f"log: {files.log}; stop with Ctrl-C or `invoke build-helper --stop`", flush=True)
        try:
            code = proc.wait()
        except KeyboardInterrupt:
            _stop_group(proc.pid)
            proc.wait()
            return 0
        if code not in (0, -signal.SIGTERM):
            raise ForgeError(f"distccd stopped with code {code}: {_log_tail(files)}", hint=f"see {files.log}")
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)
        if proc.poll() is None:
            _stop_group(proc.pid)
            proc.wait()
        if files.pid.exists() and files.pid.read_text().strip() == str(proc.pid):
            files.pid.unlink()


def _record(settings: HelperSettings, files: HelperFiles) -> None:
    """Keep the settings beside the helper's files: ``--status`` reads them back."""
    write_atomic(files.settings, json.dumps(asdict(settings), indent=2) + "\n")


def _stop_group(pid: int, sig: signal.Signals = signal.SIGTERM) -> None:
    """Signal the daemon's process group (its workers too); a group already gone is fine."""
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass


def compile_jobs(log: Path) -> int:
    """Compile jobs the daemon finished (``COMPILE_OK`` lines of its log; none without a log)."""
    try:
        return sum("COMPILE_OK" in line for line in log.read_text(errors="replace").splitlines())
    except FileNotFoundError:
        return 0


def _log_tail(files: HelperFiles) -> str:
    """The log's last line that says something, for a one-line error."""
    return last_lines(files.log.read_text(errors="replace"), empty="(empty log)")


def stop(files: HelperFiles, timeout: float = 10.0) -> bool:
    """Stop the recorded distccd and its workers; False when none runs."""
    pid = running_pid(files)
    if pid is None:
        return False
    _stop_group(pid)
    deadline = time.monotonic() + timeout
    while _group_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if _group_alive(pid):
        _stop_group(pid, signal.SIGKILL)
    files.pid.unlink(missing_ok=True)
    return True


def _group_alive(pgid: int) -> bool:
    """Whether any process of the daemon's group (its workers too) still exists."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def status_lines(files: HelperFiles) -> tuple[bool, list[str]]:
    """Whether the helper runs, and what to say about it."""
    pid = running_pid(files)
    try:
        settings = json.loads(files.settings.read_text())
    except (OSError, ValueError):
        settings = None
    if pid is None or settings is None:
        return False, [f"no helper runs (nothing recorded in {files.root})"]
    served = compile_jobs(files.log)
    up = accepts_connections(settings["listen"], settings["port"])
    return True, [
        f"distccd pid {pid}, {'listening' if up else 'NOT answering'} on {settings['listen']}:{settings['port']}",
        f"allows {', '.join(settings['allow'])}; {settings['jobs']} slots; profile {settings['profile']}",
        f"compiles with {settings['compiler']} {settings['flags']}".rstrip(),
        f"{served} compile jobs done; log {files.log}",
    ]


def write_unit(settings: HelperSettings, files: HelperFiles, unit_dir: Path,
               user: pwd.struct_passwd | None, confinement: Confinement | None = None) -> Path:
    """A systemd user unit running the same daemon (written, not enabled)."""
    argv, environment = launch(settings, files, user, confinement, pid_file=user is None)
    env = " ".join(f'"{k}={v}"' for k, v in environment.items())  # quoted: a path may hold spaces
    command = shlex.join([argv[0] if argv[0].startswith("/") else f"/usr/bin/{argv[0]}", *argv[1:]])
    command = command.replace("$", "$$")  # systemd would expand the confined shell's "$@"
    unit = unit_dir / UNIT_NAME
    _record(settings, files)
    write_atomic(unit, f"""[Unit]
Description=rvforge compile helper (distccd) for {settings.profile}
After=network-online.target

[Service]
Environment={env}
ExecStart={command}
Restart=on-failure

[Install]
WantedBy=default.target
""")
    return unit
