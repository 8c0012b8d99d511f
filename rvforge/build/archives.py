"""The ``archives`` source kind: pinned archives unpacked into one tree at named directories.

A release tarball that lacks its bundled third-party code (a distribution's orig tarball) is
made whole again from other pinned tarballs, each unpacked into its directory of the tree, the
way conda-forge lists several sources with target directories. Every file is verified against
its sha256 before it enters the cache, and unpacking refuses unsafe members and directories
that two archives would both fill.
"""

from __future__ import annotations

import tarfile
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath

import requests

from rvforge import download
from rvforge.build.recipe_schema import ArchiveFile
from rvforge.common import sha256_file
from rvforge.errors import SourceError
from rvforge.host.debian_mirror import debian_mirror

#: Seconds a reachability probe may take before the alternative counts as unreachable.
PROBE_TIMEOUT = 15
IndexUrl = Callable[[str], str]  # file name on the package index -> its URL


def file_name(entry: ArchiveFile) -> str:
    return PurePosixPath(entry.path).name


def cached(entry: ArchiveFile, cache: Path) -> Path:
    """Where the verified file lives in the cache (its own name, as published)."""
    return cache / "sources" / file_name(entry)


def is_cached(files: tuple[ArchiveFile, ...], cache: Path) -> bool:
    return all(cached(entry, cache).is_file() for entry in files)


def url(entry: ArchiveFile, index_url: IndexUrl) -> str:
    if entry.origin == "debian":
        return f"{debian_mirror()}/{entry.path.lstrip('/')}"
    return index_url(entry.path)


def _missing(entry: ArchiveFile, where: str) -> SourceError:
    return SourceError(
        f"archive {file_name(entry)} is missing on {where}",
        hint="point RVFORGE_DEBIAN_MIRROR at a mirror that has it, or run `invoke build-wheels "
             "--download-only` on a connected machine and copy its cache's sources/ here")


def fetch_one(entry: ArchiveFile, cache: Path, index_url: IndexUrl) -> Path:
    """The verified file in the cache; downloaded (into ``partial/``) only when missing."""
    target = cached(entry, cache)
    if target.is_file() and sha256_file(target) == entry.sha256:
        return target
    target.unlink(missing_ok=True)  # damaged cache entry: fetch it again
    where = url(entry, index_url)
    try:
        part = download.fetch(where, target.parent / "partial")
    except SourceError as exc:
        if "HTTP 404" in exc.message:
            raise _missing(entry, where) from exc
        raise SourceError(f"cannot fetch {file_name(entry)} from {where}: {exc.message}",
                          hint="connect, or run `invoke build-wheels --download-only` on a connected "
                               "machine and copy its cache's sources/ here") from exc
    actual = sha256_file(part)
    if actual != entry.sha256:
        part.unlink()
        raise SourceError(
            f"sha256 mismatch for {file_name(entry)} from {where}: expected {entry.sha256}, got {actual}",
            hint="the mirror serves another file than the recipe pins: use another mirror "
                 "(RVFORGE_DEBIAN_MIRROR), or update the sha256 only if you trust the new file")
    part.replace(target)
    return target


def unreachable(files: tuple[ArchiveFile, ...], cache: Path, index_url: IndexUrl) -> str | None:
    """Why the uncached files cannot be fetched now (None when every one answers)."""
    for entry in files:
        if cached(entry, cache).is_file():
            continue
        try:
            where = url(entry, index_url)
            resp = requests.head(where, timeout=PROBE_TIMEOUT, allow_redirects=True)
        except (requests.RequestException, SourceError) as exc:
            return f"{file_name(entry)}: {exc.__class__.__name__}"
        if resp.status_code != 200:
            return f"{file_name(entry)}: HTTP {resp.status_code} from {where}"
    return None


def _relocated(archive: tarfile.TarFile, entry: ArchiveFile) -> Iterator[tarfile.TarInfo]:
    """The archive's members under ``entry.member``, renamed with ``strip`` components dropped."""
    prefix = PurePosixPath(entry.member).parts if entry.member else ()
    strip = entry.strip if entry.strip is not None else (len(prefix) or 1)

    def moved(name: str) -> str | None:
        parts = [p for p in PurePosixPath(name).parts if p != "."]
        if tuple(parts[:len(prefix)]) != prefix or len(parts) <= strip:
            return None
        return "/".join(parts[strip:])

    for member in archive:
        name = moved(member.name)
        if name is None:
            continue
        if member.islnk():
            link = moved(member.linkname)
            if link is None:
                raise SourceError(f"{file_name(entry)}: {member.name} links outside {entry.member or 'it'}",
                                  hint="take a member that contains the link target")
            yield member.replace(name=name, linkname=link, deep=False)
        else:
            yield member.replace(name=name, deep=False)


def unpack_all(files: tuple[ArchiveFile, ...], cache: Path, dest: Path) -> Path:
    """Unpack the set into ``dest/tree`` (root archive first); returns the tree."""
    tree = dest / "tree"
    for entry in sorted(files, key=lambda f: len(PurePosixPath(f.dest).parts)):
        target = tree / entry.dest if entry.dest else tree
        if entry.dest and target.exists() and (not target.is_dir() or any(target.iterdir())):
            raise SourceError(
                f"{file_name(entry)} would unpack into {entry.dest}, which another archive already fills",
                hint="give it a dest of its own, or a member that does not overlap")
        target.mkdir(parents=True, exist_ok=True)
        with tarfile.open(cached(entry, cache)) as archive:
            archive.extractall(target, members=_relocated(archive, entry), filter="data")
    return tree


def newest_mtime(entry: ArchiveFile, cache: Path) -> int:
    """The newest member's time in the root archive: a timestamp fixed by the source itself."""
    with tarfile.open(cached(entry, cache)) as archive:
        return max((int(m.mtime) for m in archive), default=0)
