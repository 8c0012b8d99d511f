"""Source fetching through the real command: git tag/commit pinning, submodules, conditional
patches, sha256 pinning of index files, and the no-network error."""

from __future__ import annotations

import functools
import http.server
import json
import socket
import threading
from pathlib import Path

import pytest
from conftest import invoke
from gitfixture import make_upstream, write_recipes


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("RVFORGE_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.fixture(scope="module")
def upstream(tmp_path_factory):
    return make_upstream(tmp_path_factory.mktemp("upstream"))


def build(recipes: Path, wheelhouse: Path, *extra: str):
    return invoke("build-wheels", "--recipes", str(recipes), "--wheelhouse", str(wheelhouse),
                  "--profile", "debian-x86_64", *extra, timeout=600)


@pytest.mark.slow
def test_git_source_pinned_with_submodules_and_patches(tmp_path, home, upstream):
    recipes = write_recipes(tmp_path / "recipes", upstream, upstream["tagged"])
    proc = build(recipes, tmp_path / "wh")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "applied value.patch" in proc.stdout and "foreign.patch" not in proc.stdout
    entry = json.loads((tmp_path / "wh" / "manifest.json").read_text())["wheels"]["fakevision"]
    assert entry["source"] == upstream["tagged"]
    assert entry["source_date_epoch"] == 1704164645  # the commit time, not the build time
    assert (tmp_path / "wh" / entry["filename"]).is_file()
    again = build(recipes, tmp_path / "wh")
    assert again.returncode == 0 and "nothing to do" in again.stdout


def test_moved_tag_stops_the_build(tmp_path, home, upstream):
    recipes = write_recipes(tmp_path / "recipes", upstream, upstream["later"])
    proc = build(recipes, tmp_path / "wh")
    assert proc.returncode == 4, proc.stdout + proc.stderr
    assert f"tag v1.0 points at {upstream['tagged']}, but the recipe pins {upstream['later']}" in proc.stderr
    assert not list((tmp_path / "wh").glob("*.whl"))


@pytest.fixture
def index(tmp_path):
    """A PEP 503 simple index on 127.0.0.1 serving one small sdist."""
    root = tmp_path / "index"
    (root / "simple" / "demo").mkdir(parents=True)
    (root / "files").mkdir()
    (root / "files" / "demo-1.0.tar.gz").write_bytes(b"not the pinned bytes")
    (root / "simple" / "demo" / "index.html").write_text(
        '<html><body><a href="../../files/demo-1.0.tar.gz">demo-1.0.tar.gz</a></body></html>')
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/simple/"
    server.shutdown()


def demo_recipe(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "demo.yaml").write_text(
        "schema: 1\nname: demo\nversion: '1.0'\n"
        f"source: {{kind: sdist, filename: demo-1.0.tar.gz, sha256: {'ab' * 32}}}\n"
        "test: {script: 'import demo'}\n")
    return directory


def test_sha256_mismatch_stops_with_clear_error(tmp_path, home, index, monkeypatch):
    monkeypatch.setenv("RVFORGE_INDEX_URL", index)
    proc = build(demo_recipe(tmp_path / "recipes"), tmp_path / "wh")
    assert proc.returncode == 4, proc.stdout + proc.stderr
    assert "sha256 mismatch for demo-1.0.tar.gz" in proc.stderr
    assert f"expected {'ab' * 32}" in proc.stderr
    assert not (home / "sources" / "demo-1.0.tar.gz").exists()


def test_no_network_and_not_cached(tmp_path, home, monkeypatch):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("RVFORGE_INDEX_URL", f"http://127.0.0.1:{port}/simple/")
    proc = build(demo_recipe(tmp_path / "recipes"), tmp_path / "wh")
    assert proc.returncode == 4
    assert "no network: cannot fetch" in proc.stderr and "--download-only" in proc.stderr


@pytest.mark.slow
def test_download_only_then_offline_build(tmp_path, home, upstream, monkeypatch):
    """--download-only fills the cache; the build then succeeds with the git remote gone and the
    package index unreachable."""
    recipes = write_recipes(tmp_path / "recipes", upstream, upstream["tagged"])
    proc = build(recipes, tmp_path / "wh", "--download-only")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "fakevision 1.0: cached" in proc.stdout and not (tmp_path / "wh" / "manifest.json").exists()
    assert list((home / "pip").glob("setuptools-80.9.0-*.whl"))
    remote = Path(upstream["url"].removeprefix("file://"))
    hidden = remote.with_name("gone")
    remote.rename(hidden)
    try:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            monkeypatch.setenv("RVFORGE_INDEX_URL", f"http://127.0.0.1:{sock.getsockname()[1]}/simple/")
        offline = build(recipes, tmp_path / "wh")
    finally:
        hidden.rename(remote)
    assert offline.returncode == 0, offline.stdout + offline.stderr
    assert "fakevision" in json.loads((tmp_path / "wh" / "manifest.json").read_text())["wheels"]
