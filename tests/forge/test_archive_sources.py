"""Archive-set sources and alternative sources: tarballs made here, served by a real HTTP server
on 127.0.0.1 standing in for the Debian mirror (``RVFORGE_DEBIAN_MIRROR``) and the package index;
the upstream git host is a closed port on 127.0.0.1."""

from __future__ import annotations

import functools
import hashlib
import http.server
import io
import json
import socket
import tarfile
import threading
import time
from pathlib import Path

import pytest
import requests
from conftest import REPO, invoke

from rvforge.build import archives, sources
from rvforge.build.plan import BuildTarget, cache_keys
from rvforge.build.recipes import load_recipe_file
from rvforge.errors import SourceError
from rvforge.host.debian_mirror import debian_mirror, host_mirror


def make_tar(path: Path, files: dict[str, str], mode: str = "w:gz") -> str:
    """A tarball of ``files`` (name -> text); returns its sha256."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, mode) as archive:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(data), 1700000000
            archive.addfile(info, io.BytesIO(data))
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def served(tmp_path, monkeypatch):
    """The mirror (pool/...) and a simple index (simple/<project>/) on one 127.0.0.1 server."""
    root = tmp_path / "served"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setenv("RVFORGE_DEBIAN_MIRROR", base + "/debian")
    monkeypatch.setenv("RVFORGE_INDEX_URL", base + "/simple/")
    monkeypatch.setenv("RVFORGE_HOME", str(tmp_path / "home"))
    yield root
    server.shutdown()


PACKAGE = {
    "proj-1.0/pyproject.toml": '[build-system]\nrequires = ["setuptools"]\nbuild-backend = '
                               '"setuptools.build_meta"\n\n[project]\nname = "proj"\nversion = "1.0"\n\n'
                               '[tool.setuptools]\npackages = ["proj"]\n\n'
                               '[tool.setuptools.package-data]\nproj = ["third/*/*.h", "third/*/*/*.h"]\n',
    "proj-1.0/proj/__init__.py": 'from pathlib import Path\nVALUE = "archive"\n'
                                 'HEADERS = sorted(p.name for p in Path(__file__).parent.rglob("*.h"))\n',
}


def source_set(root: Path) -> dict[str, str]:
    """Pool files and an index sdist; returns their sha256 by short name."""
    pool = root / "debian" / "pool" / "main"
    shas = {
        "main": make_tar(pool / "p/proj/proj_1.0.orig.tar.xz", PACKAGE, "w:xz"),
        "lib": make_tar(pool / "l/lib/lib_2.0.orig.tar.gz", {"lib-2.0/include/lib.h": "int lib;\n"}),
        "deb": make_tar(pool / "p/proj/proj_1.0-1.debian.tar.xz",
                        {"debian/fft-abc/fft.h": "int fft;\n", "debian/rules": "not taken\n"}, "w:xz"),
        "sdist": make_tar(root / "files" / "bind-3.0.tar.gz",
                          {"bind-3.0/bind/include/bind.h": "int bind;\n", "bind-3.0/setup.py": ""}),
    }
    (root / "simple" / "bind").mkdir(parents=True)
    (root / "simple" / "bind" / "index.html").write_text(
        '<a href="../../files/bind-3.0.tar.gz">bind-3.0.tar.gz</a>')
    return shas


def archives_yaml(shas: dict[str, str], *, name: str = "", lib_path: str = "pool/main/l/lib/lib_2.0.orig.tar.gz",
                  lib_dest: str = "proj/third/lib") -> str:
    named = f"\n    name: {name}" if name else ""
    return f"""
    kind: archives{named}
    files:
      - {{origin: debian, path: pool/main/p/proj/proj_1.0.orig.tar.xz, sha256: {shas['main']}}}
      - {{origin: debian, path: {lib_path}, dest: {lib_dest}, sha256: {shas['lib']}}}
      - {{origin: debian, path: pool/main/p/proj/proj_1.0-1.debian.tar.xz, dest: proj/third/fft,
         member: debian/fft-abc, sha256: {shas['deb']}}}
      - {{origin: index, path: bind-3.0.tar.gz, dest: proj/third/bind, member: bind-3.0/bind,
         sha256: {shas['sdist']}}}"""


def write_recipe(directory: Path, source_block: str, extra: str = "") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "proj.yaml"
    path.write_text(f"schema: 1\nname: proj\nversion: '1.0'\n{source_block}\n"
                    f"build_requires: [setuptools==80.9.0]\nsystem: [patch]\n{extra}"
                    "test: {script: 'import proj; print(proj.VALUE, proj.HEADERS)'}\n")
    return directory


def single(shas: dict[str, str], **kw: str) -> str:
    return "source:" + archives_yaml(shas, **kw).replace("\n    ", "\n  ")


def test_archive_set_unpacks_into_subdirs_with_member_and_strip(tmp_path, served):
    shas = source_set(served)
    recipe = load_recipe_file(write_recipe(tmp_path / "recipes", single(shas)) / "proj.yaml")
    cache = tmp_path / "home"
    fetched = sources.fetch(recipe, cache)
    assert sorted(p.name for p in fetched.glob("*.tar.*")) == [
        "bind-3.0.tar.gz", "lib_2.0.orig.tar.gz", "proj_1.0-1.debian.tar.xz", "proj_1.0.orig.tar.xz"]
    tree = sources.unpack(recipe, fetched, tmp_path / "work")
    assert (tree / "pyproject.toml").is_file()  # the root archive, its top dir stripped
    assert (tree / "proj/third/lib/include/lib.h").read_text() == "int lib;\n"
    assert sorted(p.name for p in (tree / "proj/third/fft").iterdir()) == ["fft.h"]  # only the member
    assert (tree / "proj/third/bind/include/bind.h").is_file()  # index sdist, member bind-3.0/bind
    assert not (tree / "proj/third/bind/setup.py").exists()
    assert sources.source_date_epoch(recipe, fetched) == 1700000000


def test_strip_zero_keeps_the_top_directory(tmp_path, served):
    shas = source_set(served)
    text = single(shas).replace("dest: proj/third/lib,", "dest: proj/third/lib, strip: 0,")
    recipe = load_recipe_file(write_recipe(tmp_path / "recipes", text) / "proj.yaml")
    tree = sources.unpack(recipe, sources.fetch(recipe, tmp_path / "home"), tmp_path / "work")
    assert (tree / "proj/third/lib/lib-2.0/include/lib.h").is_file()


def test_two_archives_filling_one_directory_are_refused(tmp_path, served):
    shas = source_set(served)
    text = single(shas, lib_dest="proj")  # the root archive already fills proj/
    recipe = load_recipe_file(write_recipe(tmp_path / "recipes", text) / "proj.yaml")
    with pytest.raises(SourceError, match="would unpack into proj, which another archive already fills"):
        sources.unpack(recipe, sources.fetch(recipe, tmp_path / "home"), tmp_path / "work")


def test_sha256_mismatch_is_one_line_and_nothing_is_cached(tmp_path, served):
    shas = source_set(served)
    wrong = {**shas, "lib": "cd" * 32}
    recipes = write_recipe(tmp_path / "recipes", single(wrong))
    proc = invoke("build-wheels", "--recipes", str(recipes), "--wheelhouse", str(tmp_path / "wh"),
                  "--profile", "debian-x86_64", "--download-only", timeout=300)
    assert proc.returncode == 4, proc.stdout + proc.stderr
    error = [line for line in proc.stderr.splitlines() if line.startswith("error")]
    assert len(error) == 1 and "sha256 mismatch for lib_2.0.orig.tar.gz" in error[0], proc.stderr
    assert f"expected {'cd' * 32}, got {shas['lib']}" in error[0]
    assert "RVFORGE_DEBIAN_MIRROR" in proc.stderr and "Traceback" not in proc.stderr
    cached = tmp_path / "home" / "sources"
    assert not (cached / "lib_2.0.orig.tar.gz").exists()
    assert not [p for p in (cached / "partial").iterdir() if "lib_2.0" in p.name]


def test_missing_archive_names_it_and_the_fix(tmp_path, served):
    shas = source_set(served)
    text = single(shas, lib_path="pool/main/l/lib/lib_9.9.orig.tar.gz")
    recipe = load_recipe_file(write_recipe(tmp_path / "recipes", text) / "proj.yaml")
    with pytest.raises(SourceError) as caught:
        sources.fetch(recipe, tmp_path / "home")
    assert caught.value.message.startswith("archive lib_9.9.orig.tar.gz is missing on http://127.0.0.1")
    assert "--download-only" in caught.value.hint and "RVFORGE_DEBIAN_MIRROR" in caught.value.hint


def test_cache_key_changes_with_one_member_sha(tmp_path, served):
    shas = source_set(served)
    target = BuildTarget("debian-x86_64", "3.11", "x86_64")

    def key(sha_of_deb: str) -> str:
        recipe = load_recipe_file(write_recipe(tmp_path / sha_of_deb[:4], single({**shas, "deb": sha_of_deb}))
                                  / "proj.yaml")
        return cache_keys([recipe], {"proj": recipe}, target)["proj"]

    assert key(shas["deb"]) != key("ef" * 32)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def alternatives_recipe(tmp_path: Path, shas: dict[str, str]) -> Path:
    upstream = (f"  - name: upstream\n    kind: git\n    url: http://127.0.0.1:{closed_port()}/proj.git\n"
                f"    tag: v1.0\n    commit: \"{'1' * 40}\"\n")
    block = "sources:\n" + upstream + "  -" + archives_yaml(shas, name="debian").replace(
        "\n    kind", " kind", 1)
    patches = tmp_path / "recipes" / "patches" / "proj"
    patches.mkdir(parents=True)
    diff = ('--- a/proj/__init__.py\n+++ b/proj/__init__.py\n@@ -1,2 +1,2 @@\n from pathlib import Path\n'
            '-VALUE = "{old}"\n+VALUE = "{new}"\n')
    (patches / "debian-fix.patch").write_text(diff.format(old="archive", new="fixed for debian"))
    (patches / "upstream-only.patch").write_text(diff.format(old="missing", new="wrong"))
    extra = ("patches:\n  - {file: debian-fix.patch, when: {source: debian}}\n"
             "  - {file: upstream-only.patch, when: {source: upstream}}\n")
    return write_recipe(tmp_path / "recipes", block, extra)


def test_unreachable_git_alternative_is_skipped_fast(tmp_path, served):
    recipes = alternatives_recipe(tmp_path, source_set(served))
    start = time.monotonic()
    proc = invoke("build-wheels", "--recipes", str(recipes), "--wheelhouse", str(tmp_path / "wh"),
                  "--profile", "debian-x86_64", "--dry-run", timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert time.monotonic() - start < 60
    skipped = [line for line in proc.stdout.splitlines() if "skipped source" in line]
    assert len(skipped) == 1 and "proj: skipped source 'upstream' (git)" in skipped[0], proc.stdout
    assert "[archives 'debian': proj_1.0.orig.tar.xz + 3 more]" in proc.stdout


@pytest.mark.slow
def test_second_alternative_builds_with_its_patch_and_is_recorded(tmp_path, served):
    recipes = alternatives_recipe(tmp_path, source_set(served))
    debian = load_recipe_file(recipes / "proj.yaml").alternatives[1]
    for entry in debian.files:  # cached from the stand-in mirror and index first ...
        archives.fetch_one(entry, tmp_path / "home", lambda name: sources.index_file_url(name, tmp_path))
    # ... so the build needs nothing from them: its requirements come from this machine's index.
    proc = invoke("build-wheels", "--recipes", str(recipes), "--wheelhouse", str(tmp_path / "wh"),
                  "--profile", "debian-x86_64", env={"RVFORGE_INDEX_URL": ""}, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "applied debian-fix.patch" in proc.stdout and "upstream-only.patch" not in proc.stdout
    assert "fixed for debian ['bind.h', 'fft.h', 'lib.h']" in (tmp_path / "home" / "logs" / "proj-1.0.log").read_text()
    entry = json.loads((tmp_path / "wh" / "manifest.json").read_text())["wheels"]["proj"]
    assert entry["source_alternative"] == "debian"
    assert entry["source"] == debian.pin


def _mirror_reachable() -> bool:
    try:
        return requests.head(debian_mirror() + "/", timeout=10).status_code < 500
    except requests.RequestException:
        return False


@pytest.mark.slow
def test_real_torch_source_set_matches_its_pins(tmp_path, monkeypatch):
    """Fetches every archive of recipes/torch.yaml's Debian alternative (~60 MB) and checks each
    sha256 (fetch_one verifies, then the file is hashed again here)."""
    if not _mirror_reachable():
        pytest.skip("the Debian mirror is not reachable from here")
    monkeypatch.setenv("RVFORGE_HOME", str(tmp_path / "home"))
    recipe = load_recipe_file(REPO / "recipes" / "torch.yaml")
    debian = next(s for s in recipe.alternatives if s.name == "debian")
    for entry in debian.files:
        path = archives.fetch_one(entry, tmp_path / "home", lambda name: sources.index_file_url(name, tmp_path))
        assert hashlib.sha256(path.read_bytes()).hexdigest() == entry.sha256, entry.path


def test_debian_mirror_follows_apt_sources_then_debootstrap(tmp_path, monkeypatch):
    apt, parts = tmp_path / "apt", tmp_path / "apt" / "sources.list.d"
    parts.mkdir(parents=True)
    debootstrap = tmp_path / "debootstrap"
    debootstrap.write_text('DEF_MIRROR="http://127.0.0.1:9/default/debian"\n')
    assert host_mirror(apt, debootstrap) == "http://127.0.0.1:9/default/debian"
    (apt / "sources.list").write_text("deb [arch=amd64] http://127.0.0.1:9/list/debian/ bookworm main\n")
    assert host_mirror(apt, debootstrap) == "http://127.0.0.1:9/list/debian"
    (parts / "x.sources").write_text("Types: deb\nURIs: http://127.0.0.1:9/debian-security\n\n"
                                     "Types: deb\nURIs: http://127.0.0.1:9/deb822/debian\n")
    assert host_mirror(apt, debootstrap) == "http://127.0.0.1:9/deb822/debian"
    monkeypatch.setenv("RVFORGE_DEBIAN_MIRROR", "http://127.0.0.1:9/env/debian/")
    assert debian_mirror() == "http://127.0.0.1:9/env/debian"
