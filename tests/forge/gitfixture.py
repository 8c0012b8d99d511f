"""A local stand-in for an upstream git project (GitHub is out of reach in tests): a package
repo with a submodule, a release tag and a later commit, plus recipes pointing at it."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path

GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.org", "GIT_AUTHOR_DATE": "2024-01-02T03:04:05Z",
           "GIT_COMMITTER_DATE": "2024-01-02T03:04:05Z"}


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", "-c", "protocol.file.allow=always", *args], cwd=cwd, check=True,
                          capture_output=True, text=True, env={**os.environ, **GIT_ENV}).stdout.strip()


def make_upstream(root: Path) -> dict[str, str]:
    """Returns the repo URL, the tagged commit and a later (untagged) commit."""
    sub = root / "sub"
    sub.mkdir(parents=True)
    git("init", "-q", "-b", "main", cwd=sub)
    (sub / "data.txt").write_text("from submodule\n")
    git("add", ".", cwd=sub)
    git("commit", "-q", "-m", "data", cwd=sub)
    repo = root / "fakevision"
    (repo / "fakevision").mkdir(parents=True)
    git("init", "-q", "-b", "main", cwd=repo)
    (repo / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n\n'
        '[project]\nname = "fakevision"\nversion = "1.0"\n\n'
        '[tool.setuptools]\npackages = ["fakevision"]\n\n'
        '[tool.setuptools.package-data]\nfakevision = ["sub/*.txt"]\n')
    (repo / "fakevision" / "__init__.py").write_text('VALUE = "upstream"\n')
    git("submodule", "add", "-q", sub.as_uri(), "fakevision/sub", cwd=repo)
    git("add", ".", cwd=repo)
    git("commit", "-q", "-m", "release", cwd=repo)
    git("tag", "v1.0", cwd=repo)
    tagged = git("rev-parse", "HEAD", cwd=repo)
    (repo / "fakevision" / "__init__.py").write_text('VALUE = "later"\n')
    git("commit", "-q", "-am", "later work", cwd=repo)
    return {"url": repo.as_uri(), "tagged": tagged, "later": git("rev-parse", "HEAD", cwd=repo)}


def value_patch(old: str, new: str) -> str:
    return (f'--- a/fakevision/__init__.py\n+++ b/fakevision/__init__.py\n@@ -1 +1 @@\n'
            f'-VALUE = "{old}"\n+VALUE = "{new}"\n')


PATCH = value_patch("upstream", "patched")
#: Only for another machine: would not apply here, so it must be skipped by its condition.
FOREIGN_PATCH = value_patch("does not exist", "wrong")


def write_recipes(directory: Path, upstream: dict[str, str], commit: str) -> Path:
    here = platform.machine()
    patches = directory / "patches" / "fakevision"
    patches.mkdir(parents=True, exist_ok=True)
    (patches / "value.patch").write_text(PATCH)
    (patches / "foreign.patch").write_text(FOREIGN_PATCH)
    (directory / "fakevision.yaml").write_text(f"""\
schema: 1
name: fakevision
version: "1.0"
source:
  kind: git
  url: {upstream['url']}
  tag: v1.0
  commit: "{commit}"
  submodules: true
build_requires: [setuptools==80.9.0]
system: [git, patch]
patches:
  - file: value.patch
    when: {{machine: [{here}]}}
  - file: foreign.patch
    when: {{machine: [not-{here}]}}
test:
  script: |
    import importlib.resources, fakevision
    assert fakevision.VALUE == "patched", fakevision.VALUE
    data = importlib.resources.files("fakevision").joinpath("sub/data.txt").read_text()
    assert data == "from submodule\\n", data
    print("fakevision ok")
""")
    return directory
