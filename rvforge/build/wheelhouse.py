"""The wheelhouse: tested wheels plus manifest.json, the record of how each one was made.

Every write is a temp file + ``os.replace`` in the same directory, so a run killed at any moment
leaves either the old state or the new one, never a half-written wheel or manifest. The manifest
holds each wheel's sha256, so a wheel changed on disk is noticed and rebuilt.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import zipfile
from base64 import urlsafe_b64encode
from pathlib import Path
from typing import Any

from rvforge.common import sha256_file, write_atomic
from rvforge.errors import BuildFailed
from rvforge.log import warn

MANIFEST = "manifest.json"
FORMAT = 1
_PARTIAL = ".partial-"
#: Zip timestamps cannot predate 1980; SOURCE_DATE_EPOCH values earlier than this are clamped.
_ZIP_EPOCH = 315532800


def _record_line(name: str, data: bytes) -> str:
    digest = urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def normalize_wheel(src: Path, dest: Path, epoch: int) -> None:
    """Rewrite a wheel so only its content decides its bytes: entries sorted, one timestamp
    (SOURCE_DATE_EPOCH), fixed permissions, RECORD regenerated in sorted order."""
    with zipfile.ZipFile(src) as zin:
        files = {info.filename: (zin.read(info), info.external_attr >> 16) for info in zin.infolist()
                 if not info.is_dir()}
    record = next(name for name in files if name.endswith(".dist-info/RECORD"))
    lines = [_record_line(name, data) for name, (data, _) in sorted(files.items()) if name != record]
    files[record] = ("\n".join([*lines, f"{record},,"]).encode() + b"\n", 0o644)
    stamp = time.gmtime(max(epoch, _ZIP_EPOCH))[:6]
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zout:
        # RECORD goes last, as the wheel spec recommends.
        for name in sorted(files, key=lambda n: (n == record, n)):
            data, mode = files[name]
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.external_attr = ((0o755 if mode & 0o111 else 0o644) | 0o100000) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            zout.writestr(info, data, compresslevel=6)


def _checked_entries(wheels: Any) -> dict[str, dict[str, Any]]:
    """The manifest's ``wheels``, each an object naming a file inside the wheelhouse (a hand edit that
    says otherwise is a damaged manifest, never a path to follow)."""
    entries = dict(wheels)
    for name, entry in entries.items():
        filename = entry.get("filename") if isinstance(entry, dict) else None
        if not isinstance(filename, str) or not filename.endswith(".whl") or "/" in filename \
                or not isinstance(entry.get("sha256"), str):
            raise TypeError(f"wheel entry '{name}' needs a 'filename' (a .whl in the wheelhouse) and a 'sha256'")
    return entries


class Wheelhouse:
    """Directory of tested wheels and its manifest."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.entries: dict[str, dict[str, Any]] = {}

    @property
    def manifest_path(self) -> Path:
        return self.path / MANIFEST

    def load(self) -> "Wheelhouse":
        """Read the manifest; a damaged one is set aside (never deleted) and its wheels rebuilt."""
        self.path.mkdir(parents=True, exist_ok=True)
        for stale in self.path.glob(f"{_PARTIAL}*"):
            stale.unlink()  # left by a run killed while writing; the real file is untouched
        if not self.manifest_path.exists():
            return self
        try:
            data = json.loads(self.manifest_path.read_text())
            self.entries = _checked_entries(data["wheels"])
        except (ValueError, KeyError, TypeError) as exc:
            aside = self.manifest_path.with_name(f"{MANIFEST}.damaged-{int(time.time())}")
            os.replace(self.manifest_path, aside)
            warn(f"{self.manifest_path} could not be read ({exc}); kept as {aside.name}, "
                 "its wheels will be rebuilt")
        return self

    def wheel_path(self, name: str) -> Path | None:
        entry = self.entries.get(name)
        return self.path / entry["filename"] if entry else None

    def status(self, name: str, key: str) -> str:
        """'current', 'missing', 'changed' (inputs differ) or 'corrupt' (sha256 differs)."""
        entry = self.entries.get(name)
        if entry is None:
            return "missing"
        if entry.get("cache_key") != key:
            return "changed"
        wheel = self.path / entry["filename"]
        if not wheel.is_file() or sha256_file(wheel) != entry["sha256"]:
            return "corrupt"
        return "current"

    def add(self, wheel: Path, entry: dict[str, Any], *, epoch: int | None) -> Path:
        """Move a tested wheel in (normalized when ``epoch`` is given) and record it."""
        dest = self.path / wheel.name
        tmp = self.path / f"{_PARTIAL}{wheel.name}"
        try:
            if epoch is None:
                tmp.write_bytes(wheel.read_bytes())
            else:
                normalize_wheel(wheel, tmp, epoch)
            with tmp.open("rb") as handle:
                os.fsync(handle.fileno())
        except OSError as exc:  # a full disk: the wheelhouse keeps what it had, nothing half-written
            tmp.unlink(missing_ok=True)
            raise BuildFailed(f"{entry['name']}: writing {wheel.name} into {self.path} failed: {exc}",
                              hint=f"free space on the disk holding {self.path}, then run the same command "
                                   "again (finished builds are kept in the cache)") from None
        old = self.wheel_path(entry["name"])
        os.replace(tmp, dest)
        self.entries[entry["name"]] = {**entry, "filename": dest.name, "sha256": sha256_file(dest)}
        self.save()
        if old is not None and old != dest and old.exists():
            old.unlink()
        return dest

    def save(self) -> None:
        data = {"format": FORMAT, "wheels": dict(sorted(self.entries.items()))}
        write_atomic(self.manifest_path, json.dumps(data, indent=2, sort_keys=True) + "\n", fsync=True)
