"""Fetch, verify and unpack recipe sources into the tool's cache.

Nothing is trusted unverified: index files must match the recipe's sha256 and a git tag must
point at the pinned commit. Verified sources stay in the cache, so a second run, or a laptop
with no network, needs nothing from outside.
"""

from __future__ import annotations

import functools
import hashlib
import html
import os
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path
from urllib.parse import urljoin

import requests

from rvforge import download, environment
from rvforge.build import archives
from rvforge.build.recipes import Recipe, Source
from rvforge.common import sha256_file
from rvforge.errors import SourceError

_SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"
_GIT_SAFE = ("-c", "protocol.file.allow=always", "-c", "advice.detachedHead=false")
#: A stalled or unreachable git host fails instead of hanging: no prompts, no endless stalls.
_GIT_ENV = {"GIT_TERMINAL_PROMPT": "0", "GIT_HTTP_LOW_SPEED_LIMIT": "1000",
            "GIT_HTTP_LOW_SPEED_TIME": "30", "GIT_SSH_COMMAND": "ssh -o ConnectTimeout=15 -o BatchMode=yes"}


def index_url() -> str:
    """The package index (PEP 503/691 simple API): ``RVFORGE_INDEX_URL``, else the index pip
    is configured with, so the tool fetches from wherever this machine's pip does."""
    url = environment.get("RVFORGE_INDEX_URL") or os.environ.get("PIP_INDEX_URL") or _pip_index()
    return url if url.endswith("/") else url + "/"


@functools.lru_cache(maxsize=1)
def _pip_index() -> str:
    """pip's configured ``index-url`` (user, site or global config), else pip's built-in default."""
    for key in ("install.index-url", "global.index-url"):
        proc = subprocess.run([sys.executable, "-m", "pip", "config", "get", key], capture_output=True, text=True)
        if proc.returncode == 0 and proc.stdout.strip():
            return proc.stdout.strip()
    proc = subprocess.run([sys.executable, "-c", "from pip._internal.models.index import PyPI; print(PyPI.simple_url)"],
                          capture_output=True, text=True)
    if proc.returncode != 0 or not proc.stdout.strip():
        raise SourceError("no package index is configured and pip cannot name its default",
                          hint="set RVFORGE_INDEX_URL to the simple index URL to fetch from")
    return proc.stdout.strip()


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def sources_dir(cache: Path) -> Path:
    return cache / "sources"


def git_dir(cache: Path, source: Source) -> Path:
    tag = hashlib.sha256(source.url.encode()).hexdigest()[:12]
    return cache / "git" / f"{Path(source.url.rstrip('/')).stem}-{tag}"


def cached_file(recipe: Recipe, cache: Path) -> Path:
    return sources_dir(cache) / recipe.source.filename


def is_cached(recipe: Recipe, cache: Path) -> bool:
    return source_cached(recipe.source, cache)


def source_cached(source: Source, cache: Path) -> bool:
    """True when fetching needs no network (checked cheaply: existence, not the full hash)."""
    if source.kind in ("sdist", "wheel"):
        return (sources_dir(cache) / source.filename).is_file()
    if source.kind == "git":
        return _has_commit(git_dir(cache, source), source.commit)
    if source.kind == "archives":
        return archives.is_cached(source.files, cache)
    return source.path is not None and source.path.is_dir()


def index_file_url(filename: str, cache: Path, project: str = "") -> str:
    """The URL of a file on the package index (its project is read from the file name)."""
    project = project or re.split(r"-\d", filename, maxsplit=1)[0]
    url = _index_links(project, cache).get(filename)
    if url is None:
        raise SourceError(f"{filename} is not on the index {index_url()}",
                          hint="check the file name in the recipe")
    return url


def identity(recipe: Recipe) -> str:
    """What the cache key records about the source: its pin, or a content hash for a local tree."""
    if recipe.source.kind != "local":
        return recipe.source.pin
    digest = hashlib.sha256()
    root = recipe.source.path
    assert root is not None
    for path in sorted(p for p in root.rglob("*") if p.is_file() and ".git" not in p.parts):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _no_network(what: str, exc: Exception, cache: Path) -> SourceError:
    return SourceError(
        f"no network: cannot fetch {what} ({exc.__class__.__name__}) and it is not in the cache "
        f"{cache}",
        hint="connect and run `invoke build-wheels --download-only` once, then build offline",
    )


def _index_links(project: str, cache: Path) -> dict[str, str]:
    """filename -> URL from the simple API (JSON when the index offers it, HTML otherwise)."""
    url = urljoin(index_url(), _normalize(project) + "/")
    try:
        resp = requests.get(url, headers={"Accept": f"{_SIMPLE_JSON}, text/html;q=0.1"}, timeout=60)
    except requests.RequestException as exc:
        raise _no_network(f"the index page {url}", exc, cache) from exc
    if resp.status_code != 200:
        raise SourceError(f"the package index answered {resp.status_code} for {url}",
                          hint="check RVFORGE_INDEX_URL and the recipe's package name")
    if resp.headers.get("content-type", "").startswith(_SIMPLE_JSON):
        return {f["filename"]: urljoin(url, f["url"]) for f in resp.json()["files"]}
    links = {}
    for href in re.findall(r'href="([^"]+)"', resp.text):
        href = html.unescape(href)
        links[Path(href.split("#")[0]).name] = urljoin(url, href)
    return links


def _verify(path: Path, expected: str, origin: str) -> None:
    actual = sha256_file(path)
    if actual != expected:
        path.unlink()
        raise SourceError(
            f"sha256 mismatch for {origin}: expected {expected}, got {actual}",
            hint="the file is not the one the recipe pins: check the index/mirror, or update the "
                 "recipe's sha256 only if you trust the new file")


def fetch_file(recipe: Recipe, cache: Path) -> Path:
    """The verified sdist/wheel in the source cache, downloaded from the index when missing."""
    target = cached_file(recipe, cache)
    if target.is_file():
        if sha256_file(target) == recipe.source.sha256:
            return target
        target.unlink()  # damaged cache entry: fetch it again
    url = index_file_url(recipe.source.filename, cache, recipe.name)
    try:
        part = download.fetch(url, sources_dir(cache) / "partial")
    except SourceError as exc:
        if download.disk_failure(exc):
            raise  # the cache's disk, not the network: its message says so
        raise _no_network(url, exc, cache) from exc
    _verify(part, recipe.source.sha256, f"{recipe.source.filename} from {url}")
    os.replace(part, target)
    return target


def _git(*args: str, cwd: Path | None = None) -> str:
    proc = subprocess.run(["git", *_GIT_SAFE, *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, **_GIT_ENV})
    if proc.returncode != 0:
        raise subprocess.CalledProcessError(proc.returncode, args, proc.stdout, proc.stderr)
    return proc.stdout.strip()


def _has_commit(repo: Path, commit: str) -> bool:
    if not (repo / ".git").exists():
        return False
    try:
        _git("cat-file", "-e", f"{commit}^{{commit}}", cwd=repo)
    except subprocess.CalledProcessError:
        return False
    return True


def fetch_git(recipe: Recipe, cache: Path) -> Path:
    """A checkout of the pinned commit (with submodules) in the cache; network only when the
    commit is not there yet."""
    source = recipe.source
    repo = git_dir(cache, source)
    try:
        if not (repo / ".git").exists():
            shutil.rmtree(repo, ignore_errors=True)
            repo.parent.mkdir(parents=True, exist_ok=True)
            _git("clone", "--no-checkout", source.url, str(repo))
        elif not _has_commit(repo, source.commit):
            _git("fetch", "--tags", "--force", "origin", cwd=repo)
    except subprocess.CalledProcessError as exc:
        raise _no_network(f"{source.url}: {exc.stderr.strip()[-300:]}", exc, cache) from exc
    try:
        tagged = _git("rev-parse", f"refs/tags/{source.tag}^{{commit}}", cwd=repo)
    except subprocess.CalledProcessError as exc:
        raise SourceError(f"tag {source.tag} not found in {source.url}",
                          hint=f"check source.tag in {recipe.path.name}") from exc
    if tagged != source.commit:
        raise SourceError(
            f"{source.url}: tag {source.tag} points at {tagged}, but the recipe pins {source.commit}",
            hint="a moved tag means different code: check upstream, then update source.commit")
    try:
        _git("checkout", "--force", source.commit, cwd=repo)
        _git("clean", "-ffdx", cwd=repo)
        if source.submodules:
            _git("submodule", "sync", "--recursive", cwd=repo)
            _git("submodule", "update", "--init", "--recursive", "--force", cwd=repo)
    except subprocess.CalledProcessError as exc:
        raise _no_network(f"submodules of {source.url}: {exc.stderr.strip()[-300:]}", exc, cache) from exc
    return repo


def git_unreachable(source: Source) -> str | None:
    """Why the git host cannot serve the pinned tag now (None when it can), within a bounded
    time: an unreachable host must not stall the choice between alternatives."""
    try:
        probe = subprocess.run(
            ["git", *_GIT_SAFE, "ls-remote", "--exit-code", source.url, f"refs/tags/{source.tag}"],
            capture_output=True, text=True, timeout=archives.PROBE_TIMEOUT, env={**os.environ, **_GIT_ENV})
    except subprocess.TimeoutExpired:
        return f"no answer within {archives.PROBE_TIMEOUT} s"
    if probe.returncode != 0:
        lines = (probe.stderr.strip() or f"no tag {source.tag}").splitlines()
        return lines[-1][:200]
    return None


def fetch_archives(recipe: Recipe, cache: Path) -> Path:
    """Every archive of the set, verified, in the cache; returns the cache's sources dir."""
    for entry in recipe.source.files:
        archives.fetch_one(entry, cache, lambda name: index_file_url(name, cache))
    return sources_dir(cache)


def fetch(recipe: Recipe, cache: Path) -> Path:
    """The verified source: a file (sdist/wheel) or a directory (git checkout, local tree, the
    cache's sources dir for an archive set)."""
    if recipe.source.kind in ("sdist", "wheel"):
        return fetch_file(recipe, cache)
    if recipe.source.kind == "git":
        return fetch_git(recipe, cache)
    if recipe.source.kind == "archives":
        return fetch_archives(recipe, cache)
    assert recipe.source.path is not None
    return recipe.source.path


def unpack(recipe: Recipe, fetched: Path, dest: Path) -> Path:
    """A fresh, writable copy of the source tree under ``dest``; returns its root."""
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    if recipe.source.kind == "archives":
        return archives.unpack_all(recipe.source.files, fetched.parent, dest)
    if fetched.is_dir():
        root = dest / "src"
        shutil.copytree(fetched, root, symlinks=True, ignore=shutil.ignore_patterns(".git"))
        return root
    with tarfile.open(fetched) as archive:
        archive.extractall(dest, filter="data")
    entries = [p for p in dest.iterdir()]
    return entries[0] if len(entries) == 1 and entries[0].is_dir() else dest


def source_date_epoch(recipe: Recipe, fetched: Path) -> int:
    """A timestamp fixed by the source itself: the commit time, or the newest sdist member."""
    if recipe.source.kind == "git":
        return int(_git("log", "-1", "--format=%ct", recipe.source.commit, cwd=fetched))
    if recipe.source.kind == "archives":
        return archives.newest_mtime(recipe.source.files[0], fetched.parent)
    if fetched.is_file() and recipe.source.kind == "sdist":
        with tarfile.open(fetched) as archive:
            return max(int(member.mtime) for member in archive.getmembers())
    files = [p for p in fetched.rglob("*") if p.is_file()] if fetched.is_dir() else [fetched]
    return max((int(p.stat().st_mtime) for p in files), default=0)
