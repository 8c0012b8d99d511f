"""The tree's rules, checked: no import cycles, one-way stage dependencies, small modules, and an
on-target tool that runs on a bare Python with nothing but its own files."""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from rvforge.deploy import bundle

REPO = Path(__file__).resolve().parent.parent
PACKAGES = {"rvforge": REPO / "rvforge", "magiceraser": REPO / "app" / "magiceraser"}
MAX_LINES = 400
#: rvforge's stages, lowest first: a module may import its own stage and the ones below it only.
STAGES = ("shared", "config", "ontarget", "host", "build", "deploy", "emulation", "cross", "tasks")
SHARED = {"rvforge", "rvforge.errors", "rvforge.log", "rvforge.common", "rvforge.paths", "rvforge.download",
          "rvforge.environment"}


def module_files(package: str) -> dict[str, Path]:
    root = PACKAGES[package]
    found = {}
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def imported_modules(name: str, path: Path, known: set[str]) -> set[str]:
    """Modules of the same package imported anywhere in the file (functions included)."""
    is_package = path.name == "__init__.py"
    edges = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".")
                anchor = anchor if is_package else anchor[:-1]
                anchor = anchor[:len(anchor) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                edges.add(target)
    return edges


def import_graph(package: str) -> dict[str, set[str]]:
    files = module_files(package)
    return {name: imported_modules(name, path, set(files)) for name, path in files.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        state[node] = 2
        stack.pop()
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


def stage_of(module: str) -> str:
    if module in SHARED:
        return "shared"
    return module.split(".")[1]


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_no_import_cycle(package):
    assert find_cycle(import_graph(package)) is None


def test_the_cycle_finder_finds_cycles():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_stages_depend_one_way():
    wrong = [f"{module} ({stage_of(module)}) imports {target} ({stage_of(target)})"
             for module, targets in import_graph("rvforge").items() for target in sorted(targets)
             if STAGES.index(stage_of(target)) > STAGES.index(stage_of(module))]
    assert not wrong, "\n".join(wrong)


def test_every_rvforge_module_belongs_to_a_stage():
    assert {stage_of(module) for module in module_files("rvforge")} <= set(STAGES)


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_modules_stay_small(package):
    big = {name: n for name, path in module_files(package).items()
           if (n := len(path.read_text().splitlines())) > MAX_LINES}
    assert not big, f"over {MAX_LINES} lines: {big}"


def test_ontarget_imports_only_the_standard_library_and_its_bundle():
    allowed = {".".join(("rvforge", *p.with_suffix("").parts)).removesuffix(".__init__")
               for p in bundle.ontarget_files()}
    for relative in bundle.ontarget_files():
        path = bundle.PACKAGE / relative
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])
            assert not (isinstance(node, ast.ImportFrom) and node.level), f"{relative}: use absolute imports"
            for name in names:
                top = name.split(".")[0]
                ok = top in sys.stdlib_module_names or top == "__future__" or name in allowed or (
                    name == "rvforge" and all(f"rvforge.{a.name}" in allowed for a in node.names))
                assert ok, f"rvforge/{relative} imports {name}: the target has only the standard library"


def test_ontarget_runs_from_its_files_alone_on_a_bare_python(tmp_path):
    """The files a remote deploy copies, and nothing else, run ``status`` under ``-I -S``."""
    bundle.stage(tmp_path / "tool")
    assert not (tmp_path / "tool" / "rvforge" / "build").exists()
    python = shutil.which("python3", path="/usr/bin:/bin") or sys.executable
    settings = json.dumps({"prefix": str(tmp_path / "prefix")})
    runner = ("import runpy, sys; sys.path.insert(0, sys.argv.pop(1)); sys.argv[0] = 'rvforge.ontarget'; "
              "runpy.run_module('rvforge.ontarget', run_name='__main__', alter_sys=True)")
    proc = subprocess.run([python, "-I", "-S", "-c", runner, str(tmp_path / "tool"), "status",
                           "--settings", settings], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "stopped" in proc.stdout


def test_a_non_stdlib_import_in_the_bundle_fails_on_a_bare_python(tmp_path):
    """The same run fails once an on-target module imports a third-party package."""
    root = bundle.stage(tmp_path / "tool")
    release = root / "ontarget" / "release.py"
    release.write_text(release.read_text() + "\nimport yaml  # noqa\n")
    python = shutil.which("python3", path="/usr/bin:/bin") or sys.executable
    proc = subprocess.run([python, "-I", "-S", "-c", "import sys; sys.path.insert(0, sys.argv[1]); "
                           "import rvforge.ontarget.actions", str(tmp_path / "tool")],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0 and "yaml" in proc.stderr
