"""A small meson-python package built for real by `invoke build-wheels`: one extension module of
``FILES`` C files, so ninja has enough separate steps to be killed half-way.

Its compiler is ``gcc -wrapper WRAP``: gcc runs each of its subprograms (cc1, as, collect2)
through the wrapper, which, steered by files in a control directory,
- sleeps before each compile (``slow``), so a test can catch the build in the middle;
- logs each finished compile (``compiled``: ``<file> <jobs>``), to count what a rerun redoes;
- kills its cc1 with SIGKILL from the ``oom``-th compile on while more than one job runs, as
  the OOM killer does: the real gcc driver then reports ``Killed signal terminated program cc1``.
"""

from __future__ import annotations

import re
from pathlib import Path

FILES = 40
NAME = "resumefix"

WRAP = r"""#!/bin/sh
# gcc -wrapper: $1 is the subprogram (cc1, as, collect2), the rest its arguments.
case "$1" in */cc1) ;; *) exec "$@" ;; esac
src=""
for arg in "$@"; do case "$arg" in *.c) [ -n "$src" ] || src=$(basename "$arg") ;; esac; done
case "$src" in f[0-9]*.c) ;; *) exec "$@" ;; esac  # meson's compiler checks pass straight on
ctl=@CTL@
if [ -f "$ctl/oom" ] && [ "$FIXTURE_JOBS" -gt 1 ] && \
   [ "$(wc -l < "$ctl/compiled" 2>/dev/null || echo 0)" -ge "$(cat "$ctl/oom")" ]; then
  kill -KILL $$
fi
[ -f "$ctl/slow" ] && sleep "$(cat "$ctl/slow")"
"$@" || exit $?
echo "$src $FIXTURE_JOBS" >> "$ctl/compiled"
"""


def write_package(root: Path, files: int = FILES) -> Path:
    """The package's source tree: ``total()`` returns the sum of f0() .. f{files-1}()."""
    src = root / NAME
    src.mkdir(parents=True)
    (src / "pyproject.toml").write_text(
        f'[build-system]\nrequires = ["meson-python"]\nbuild-backend = "mesonpy"\n\n'
        f'[project]\nname = "{NAME}"\nversion = "1.0"\n')
    names = [f"f{i}.c" for i in range(files)]
    (src / "meson.build").write_text(
        f"project('{NAME}', 'c', version: '1.0')\npy = import('python').find_installation()\n"
        f"py.extension_module('{NAME}', [{', '.join(repr(n) for n in names)}, 'module.c'], "
        f"install: true)\n")
    for i, name in enumerate(names):
        (src / name).write_text(f"int f{i}(void) {{ return {i}; }}\n")
    decls = "".join(f"int f{i}(void);\n" for i in range(files))
    calls = " + ".join(f"f{i}()" for i in range(files))
    (src / "module.c").write_text(
        "#define PY_SSIZE_T_CLEAN\n#include <Python.h>\n" + decls +
        f"static PyObject *total(PyObject *self, PyObject *args) {{ return PyLong_FromLong({calls}); }}\n"
        "static PyMethodDef methods[] = {{\"total\", total, METH_NOARGS, NULL}, {NULL, NULL, 0, NULL}};\n"
        f"static struct PyModuleDef module = {{PyModuleDef_HEAD_INIT, \"{NAME}\", NULL, -1, methods}};\n"
        f"PyMODINIT_FUNC PyInit_{NAME}(void) {{ return PyModule_Create(&module); }}\n")
    return src


def write_recipe(recipes: Path, source: Path, ctl: Path, files: int = FILES) -> Path:
    """A local recipe for the package whose compiler runs through the control wrapper."""
    ctl.mkdir(parents=True, exist_ok=True)
    wrap = ctl / "wrap.sh"
    wrap.write_text(WRAP.replace("@CTL@", str(ctl)))
    wrap.chmod(0o755)
    recipes.mkdir(parents=True, exist_ok=True)
    (recipes / f"{NAME}.yaml").write_text(f"""\
schema: 1
name: {NAME}
version: "1.0"
source: {{kind: local, path: {source}}}
build_requires: [meson-python==0.17.1, meson==1.7.0, pyproject-metadata==0.9.1, packaging==24.2]
system: [c-compiler, python-headers, ninja]
env:
  CC: gcc -wrapper {wrap}
  FIXTURE_JOBS: "{{jobs}}"
config_settings:
  compile-args: ["-j{{jobs}}"]
test:
  script: |
    import {NAME}
    assert {NAME}.total() == {sum(range(files))}, {NAME}.total()
    print("{NAME} ok")
""")
    return recipes


_COUNT = re.compile(r"^\s*\[(\d+)/(\d+)\] Compiling C object .*?(f\d+\.c)\.o$", re.M)


def compiled_in_log(log: str) -> list[tuple[int, int, str]]:
    """(k, N, file) of each fixture compile step ninja reported in a build log."""
    return [(int(k), int(n), name) for k, n, name in _COUNT.findall(log)]


def compiled(ctl: Path) -> list[tuple[str, int]]:
    """(file, jobs) of each compile that finished, in order, as the wrapper logged them."""
    path = ctl / "compiled"
    lines = path.read_text().split() if path.exists() else []
    return [(lines[i], int(lines[i + 1])) for i in range(0, len(lines), 2)]
