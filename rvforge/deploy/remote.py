"""Reach a deploy target over plain OpenSSH: host keys checked, never accepted blindly.

Every ssh/rsync call uses ``StrictHostKeyChecking=yes`` with the target's known_hosts
file, so an unknown or changed host key stops the deploy before anything is copied.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import tempfile
from pathlib import Path

from rvforge.deploy.targets import SshTarget
from rvforge.errors import DeployError


class Ssh:
    def __init__(self, target: SshTarget) -> None:
        self.target = target
        self.known_hosts = Path(target.known_hosts).expanduser()

    def options(self) -> list[str]:
        opts = ["-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
                "-o", f"UserKnownHostsFile={self.known_hosts}", "-o", "ConnectTimeout=15"]
        if self.target.key:
            opts += ["-i", str(Path(self.target.key).expanduser()), "-o", "IdentitiesOnly=yes"]
        return opts

    def ssh_command(self) -> list[str]:
        return ["ssh", *self.options(), "-p", str(self.target.port)]

    def run(self, command: list[str], capture: bool = True) -> subprocess.CompletedProcess[str]:
        """Run ``command`` (argv, quoted for the remote shell) on the target."""
        return subprocess.run([*self.ssh_command(), self.target.destination, shlex.join(command)],
                              capture_output=capture, text=True)

    def connect(self) -> str:
        """Check reachability and the host key; returns the remote $HOME."""
        if not shutil.which("ssh"):
            raise DeployError("ssh is not installed on this machine",
                              hint="install the OpenSSH client (openssh-client / openssh-clients) and rsync")
        if not self.known_hosts.is_file():
            raise DeployError(f"known_hosts file {self.known_hosts} does not exist",
                              hint=self._trust_hint())
        proc = self.run(["sh", "-c", 'echo "$HOME"'])
        if proc.returncode == 0:
            return proc.stdout.strip()
        err = proc.stderr
        if "IDENTIFICATION HAS CHANGED" in err:
            raise DeployError(f"the host key of {self._where()} has CHANGED since it was recorded in "
                              f"{self.known_hosts}; refusing to connect",
                              hint="if the machine was reinstalled, confirm its new key fingerprint with its "
                                   "owner, then replace the line for it in the known_hosts file")
        if "Host key verification failed" in err or "host key is known" in err:
            raise DeployError(f"the host key of {self._where()} is not in {self.known_hosts}; "
                              "refusing to trust an unknown key", hint=self._trust_hint())
        raise DeployError(f"cannot reach {self._where()} over ssh: {err.strip() or proc.returncode}",
                          hint="check host, port, user and key in the target config")

    def _where(self) -> str:
        return f"{self.target.host}:{self.target.port}"

    def _trust_hint(self) -> str:
        return (f"on the target run `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub`, compare it with "
                f"`ssh-keyscan -p {self.target.port} {self.target.host} | ssh-keygen -lf -`, and only if they "
                f"match append the keyscan line to {self.known_hosts}")

    def has_remote(self, program: str) -> bool:
        return self.run(["sh", "-c", f"command -v {shlex.quote(program)}"]).returncode == 0

    def copy(self, source: Path, remote_dir: str, delete: bool = False, excludes: tuple[str, ...] = ()) -> None:
        """Mirror ``source`` (a dir's contents, or one file) into ``remote_dir``: rsync sends only
        what changed; without rsync on both ends a tar stream over ssh sends everything, with the
        same result (excluded names skipped, and with ``delete`` nothing else left in remote_dir)."""
        if self.run(["mkdir", "-p", remote_dir]).returncode != 0:
            raise DeployError(f"cannot create {remote_dir} on {self._where()}")
        if shutil.which("rsync") and self.has_remote("rsync"):
            src = f"{source}/" if source.is_dir() else str(source)
            cmd = ["rsync", "-a", "--delay-updates", "-e", shlex.join(self.ssh_command())]
            cmd += ["--delete"] if delete else []
            cmd += [f"--exclude={pattern}" for pattern in excludes]
            proc = subprocess.run([*cmd, src, f"{self.target.destination}:{remote_dir}/"],
                                  capture_output=True, text=True)
        else:
            proc = self._copy_by_tar(source, remote_dir, delete, excludes)
        if proc.returncode != 0:
            raise DeployError(f"copying {source} to {self._where()}:{remote_dir} failed: {proc.stderr.strip()}")

    def _copy_by_tar(self, source: Path, remote_dir: str, delete: bool,
                     excludes: tuple[str, ...]) -> subprocess.CompletedProcess[str]:
        base, member = (source, ".") if source.is_dir() else (source.parent, source.name)
        pack = ["tar", "-C", str(base), "-cf", "-", *(f"--exclude={pattern}" for pattern in excludes), member]
        target = shlex.quote(remote_dir)
        clear = f"find {target} -mindepth 1 -delete && " if delete else ""
        unpack = f"{clear}tar -C {target} -xf -"
        with tempfile.TemporaryFile() as pack_err, \
                subprocess.Popen(pack, stdout=subprocess.PIPE, stderr=pack_err) as packer:
            proc = subprocess.run([*self.ssh_command(), self.target.destination, unpack], stdin=packer.stdout,
                                  capture_output=True, text=True)
            assert packer.stdout is not None  # Popen(stdout=PIPE)
            packer.stdout.close()
            packer.wait()
            pack_err.seek(0)
            message = pack_err.read().decode(errors="replace").strip()
        if packer.returncode != 0:
            return subprocess.CompletedProcess(pack, packer.returncode, "", f"tar: {message}")
        return proc
