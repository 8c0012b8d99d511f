"""``invoke fetch-model``: install verified LaMa weights into the per-user data dir.

Layout under ``user_data_dir()/models`` (what the eraser looks for):

    big-lama/config.yaml, big-lama/models/best.ckpt   official release (a link to .versions/...)
    big-lama.pt                                        IOPaint's TorchScript export
    manifest.json                                      checksums and source of what is installed

A candidate is unpacked beside the installed model, verified (checksum, config, every generator
key and shape) and only then swapped in with one rename, so a bad file never replaces a good one.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rvforge import download
from rvforge.common import exclusive_lock, file_digests, write_atomic
from rvforge.deploy import model_check
from rvforge.errors import ModelError
from rvforge.log import info, step
from rvforge.paths import cache_dir, models_dir


@dataclass(frozen=True)
class ModelKind:
    name: str
    url: str
    installed_name: str  # entry under models/
    md5: str | None = None  # published checksum, when there is one


KINDS = {
    "big-lama": ModelKind("big-lama", "https://huggingface.co/smartywu/big-lama/resolve/main/big-lama.zip",
                          "big-lama"),
    "big-lama-jit": ModelKind("big-lama-jit",
                              "https://github.com/Sanster/models/releases/download/add_big_lama/big-lama.pt",
                              "big-lama.pt", md5="e3aa4aaa15225a33ec84f9f4bc47e500"),
}
MANIFEST = "manifest.json"
LOCK_NAME = ".fetch-model.lock"
VERSIONS = ".versions"


def hash_file(path: Path) -> dict[str, str]:
    return file_digests(path, ("sha256", "md5"))


def installed_files(live: Path) -> dict[str, str] | None:
    """sha256 of every file of an installed model (None when it is missing or unreadable): what the
    manifest records, so a damaged copy is reinstalled rather than reported as installed."""
    try:
        files = sorted(p for p in live.rglob("*") if p.is_file()) if live.is_dir() else [live]
        return {p.relative_to(live).as_posix() if live.is_dir() else p.name: hash_file(p)["sha256"] for p in files}
    except OSError:
        return None


def parse_checksum(text: str) -> tuple[str, str]:
    """``md5:HEX``, ``sha256:HEX`` or bare hex (the length tells which)."""
    algo, _, digest = text.strip().lower().rpartition(":")
    algo = algo or {32: "md5", 64: "sha256"}.get(len(digest), "")
    if algo not in ("md5", "sha256") or not all(c in "0123456789abcdef" for c in digest):
        raise ModelError(f"cannot read checksum '{text}'", hint="give md5:HEX or sha256:HEX")
    return algo, digest


def check_checksum(label: str, digests: dict[str, str], expected: str | None) -> None:
    if not expected:
        return
    algo, digest = parse_checksum(expected)
    if digests[algo] != digest:
        raise ModelError(f"{label}: checksum mismatch: {algo} is {digests[algo]}, expected {digest}",
                         hint="the file is damaged or a different release; download or copy it again")


def read_manifest(directory: Path) -> dict[str, Any]:
    try:
        data = json.loads((directory / MANIFEST).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_manifest(directory: Path, manifest: dict[str, Any]) -> None:
    write_atomic(directory / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True) + "\n")


def guess_kind(source: str | None) -> str:
    return "big-lama-jit" if source and source.split("?")[0].endswith(".pt") else "big-lama"


def acquire(source: str | None, kind: ModelKind) -> tuple[Path, str]:
    """A local path for the candidate file (downloading URLs into the cache) and its label."""
    source = source or kind.url
    if source.startswith(("http://", "https://")):
        with step(f"download {source}"):
            return download.fetch(source, cache_dir() / "downloads"), source
    path = Path(source.removeprefix("file://")).expanduser()
    if not path.is_file():
        raise ModelError(f"{path}: no such file", hint="give the path of big-lama.zip / big-lama.pt or a URL")
    return path, str(path)


def _unpack_official(archive_path: Path, label: str, into: Path) -> None:
    """Extract exactly ``<top>/config.yaml`` and ``<top>/models/best.ckpt`` (nothing else, no paths
    from the archive are trusted)."""
    with model_check.open_zip(archive_path, label) as archive:
        names = archive.namelist()
        wanted = {}
        for rel in ("config.yaml", "models/best.ckpt"):
            hits = [n for n in names if n == rel or n.endswith("/" + rel) and n.count("/") == rel.count("/") + 1]
            if len(hits) != 1:
                raise ModelError(f"{label}: expected one big-lama/{rel} in the zip, found {len(hits)}",
                                 hint="use the official big-lama.zip (big-lama/config.yaml + "
                                      "big-lama/models/best.ckpt)")
            wanted[rel] = hits[0]
        for rel, member in wanted.items():
            target = into / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(member) as src, open(target, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)


def _swap_link(directory: Path, name: str, version: Path) -> Path | None:
    """Point ``directory/name`` at ``version`` with one rename; returns what it replaced."""
    live = directory / name
    old: Path | None = None
    if live.is_symlink():
        old = live.resolve()
    elif live.exists():  # a directory placed by hand: keep it as a version, then link
        old = directory / VERSIONS / f"{name}-manual-{int(time.time())}"
        os.replace(live, old)
    tmp = directory / f".{name}.link"
    if tmp.is_symlink():
        tmp.unlink()
    os.symlink(os.path.relpath(version, directory), tmp)
    os.replace(tmp, live)
    return old


def install_official(candidate: Path, label: str, directory: Path, digests: dict[str, str]) -> Path:
    versions = directory / VERSIONS
    versions.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".incoming-", dir=versions))
    staging.chmod(0o755)
    try:
        with step("unpack and verify config.yaml + best.ckpt"):
            _unpack_official(candidate, label, staging)
            entries = model_check.verify_lama_dir(staging, label)
            info(f"    {entries} generator tensors match config.yaml")
        version = versions / f"big-lama-{digests['sha256'][:12]}"
        if version.exists():
            shutil.rmtree(version)
        os.replace(staging, version)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    old = _swap_link(directory, "big-lama", version)
    if old and old != version and old.parent == versions:
        shutil.rmtree(old, ignore_errors=True)
    return directory / "big-lama"


def install_torchscript(candidate: Path, label: str, directory: Path) -> Path:
    with step("verify the TorchScript archive"):
        model_check.verify_torchscript(candidate, label)
    fd, tmp_name = tempfile.mkstemp(prefix=".incoming-", suffix=".pt", dir=directory)
    os.close(fd)
    try:
        shutil.copyfile(candidate, tmp_name)
        os.chmod(tmp_name, 0o644)
        os.replace(tmp_name, directory / "big-lama.pt")
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return directory / "big-lama.pt"


def clear_debris(directory: Path) -> None:
    """What a killed run left (a half-unpacked candidate, a half-copied .pt, a link not yet renamed);
    called under the lock, so no other run is writing it."""
    for leftover in [*directory.glob(".incoming-*"), *directory.glob(f"{VERSIONS}/.incoming-*"),
                     *directory.glob(".*.link")]:
        if leftover.is_dir() and not leftover.is_symlink():
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            leftover.unlink(missing_ok=True)


def main(source: str | None = None, kind: str | None = None, dest: str | None = None,
         checksum: str | None = None) -> Path:
    kind_name = kind or guess_kind(source)
    if kind_name not in KINDS:
        raise ModelError(f"unknown model kind '{kind_name}'", hint=f"use one of: {', '.join(KINDS)}")
    model = KINDS[kind_name]
    directory = Path(dest).expanduser() if dest else models_dir()
    directory.mkdir(parents=True, exist_ok=True)
    with exclusive_lock(directory / LOCK_NAME, "fetch-model", str(directory),
                        hint="wait for that fetch-model to finish, then run the command again"):
        clear_debris(directory)
        try:
            return _fetch(source, model, directory, checksum)
        except OSError as exc:
            raise ModelError(f"installing {model.name} into {directory} failed: {exc}; the installed model "
                             "was left as it was", hint=disk_hint(directory, exc)) from None


def disk_hint(directory: Path, exc: OSError) -> str | None:
    if exc.errno != errno.ENOSPC:
        return None
    return (f"the disk holding {directory} is full: free space there (a LaMa install needs about twice the "
            "model's size while the new copy is checked), then run the command again")


def _fetch(source: str | None, model: ModelKind, directory: Path, checksum: str | None) -> Path:
    candidate, label = acquire(source, model)
    downloaded = candidate.name.endswith(".part")
    try:
        installed, digests = _verify_and_install(candidate, label, model, directory, checksum)
    except ModelError:
        if downloaded:
            candidate.unlink(missing_ok=True)  # complete but wrong: a re-run must fetch it afresh
        raise
    if downloaded:
        candidate.unlink(missing_ok=True)  # the download is installed; the cache copy is dead weight
    return installed


def _verify_and_install(candidate: Path, label: str, model: ModelKind, directory: Path,
                        checksum: str | None) -> tuple[Path, dict[str, str]]:
    with step(f"checksum {candidate.name}"):
        digests = hash_file(candidate)
        check_checksum(label, digests, checksum or model.md5 and f"md5:{model.md5}")
        info(f"    sha256 {digests['sha256']}")
    manifest = read_manifest(directory)
    live = directory / model.installed_name
    if manifest.get(model.name, {}).get("sha256") == digests["sha256"]:
        if installed_files(live) == manifest[model.name].get("files"):
            info(f"{model.name} is already installed at {live} (same sha256)")
            return live, digests
        info(f"the installed {model.name} differs from what was installed (damaged or edited): reinstalling")
    if model.name == "big-lama":
        installed = install_official(candidate, label, directory, digests)
    else:
        installed = install_torchscript(candidate, label, directory)
    manifest[model.name] = {**digests, "source": label, "path": model.installed_name,
                           "files": installed_files(installed),
                           "installed": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    write_manifest(directory, manifest)
    info(f"installed {model.name} at {installed}")
    return installed, digests
