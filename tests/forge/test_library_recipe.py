"""A library recipe end to end through `invoke build-wheels`: a real C library built with gcc in
two flavours, packed as one wheel, installed in a venv, linked by another library through its
pkg-config file, and loaded under its soname in the flavour chosen - plus the resume of a run
that failed in its second flavour."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest
from conftest import invoke

from rvforge.build import library
from rvforge.build.recipes import load_all
from rvforge.errors import BuildFailed

pytestmark = pytest.mark.slow

SOURCE = textwrap.dedent("""\
    const char *shout_flavour(void) { return FLAVOUR; }
    """)
CONSUMER = textwrap.dedent("""\
    const char *shout_flavour(void);
    const char *consumer_says(void) { return shout_flavour(); }
    """)
# The soname link, a development link and a static archive, like `make install` of OpenBLAS.
SCRIPT = """\
echo "$FLAVOUR" >> {builds}
if [ "$FLAVOUR" = fancy ] && [ -e {fail} ]; then echo "fancy failed on purpose"; exit 3; fi
mkdir -p "$PREFIX/lib/pkgconfig" "$PREFIX/include"
gcc -shared -fPIC -O1 "-DFLAVOUR=\\"$FLAVOUR\\"" -Wl,-soname,libshout.so.1 -o "$PREFIX/lib/libshout.so.1.0.0" shout.c
ln -s libshout.so.1.0.0 "$PREFIX/lib/libshout.so.1"
ln -s libshout.so.1.0.0 "$PREFIX/lib/libshout.so"
gcc -c -fPIC "-DFLAVOUR=\\"$FLAVOUR\\"" -o shout.o shout.c && ar rcs "$PREFIX/lib/libshout.a" shout.o
pc="prefix=$PREFIX\\nlibdir=\\${{prefix}}/lib\\nName: shout\\nDescription: t\\nVersion: 1.0"
printf "$pc\\nLibs: -L\\${{libdir}} -lshout\\n" > "$PREFIX/lib/pkgconfig/shout.pc"
"""
AVX2_CHECK = "#include <immintrin.h>\n__m256 twice(__m256 a) { return _mm256_add_ps(a, a); }\n"
TEST = ("import ctypes, shout_libs; f = ctypes.CDLL('libshout.so.1').shout_flavour; "
        "f.restype = ctypes.c_char_p; assert f() == b'plain', f(); print('shout ok')")


@pytest.fixture
def library_recipe(tmp_path: Path) -> dict[str, Path]:
    source, recipes = tmp_path / "shout-src", tmp_path / "recipes"
    source.mkdir()
    recipes.mkdir()
    (source / "shout.c").write_text(SOURCE)
    builds, fail = tmp_path / "builds.txt", tmp_path / "fail-fancy"
    recipe = {
        "schema": 1, "name": "shout", "version": "1.0",
        "source": {"kind": "local", "path": str(source)},
        "system": ["c-compiler"],
        "library": {"package": "shout_libs", "script": SCRIPT.format(builds=builds, fail=fail),
                    "flavours": [{"name": "fancy", "machine": "x86_64", "needs": "avx2", "compiler": {
                                      "flags": "-mavx2", "source": AVX2_CHECK}},
                                 {"name": "exotic", "machine": "x86_64", "needs": "avx512f",
                                  "compiler": {"flags": "-march=no-such-cpu"}},
                                 {"name": "plain", "machine": ["x86_64", "riscv64"]}]},
        "test": {"script": TEST},
    }
    (recipes / "shout.yaml").write_text(json.dumps(recipe))
    return {"recipes": recipes, "builds": builds, "fail": fail, "house": tmp_path / "house",
            "home": tmp_path / "home"}


def _build(paths: dict[str, Path]) -> subprocess.CompletedProcess[str]:
    return invoke("build-wheels", "--recipes", str(paths["recipes"]), "--wheelhouse", str(paths["house"]),
                  "--profile", "debian-x86_64", env={"RVFORGE_HOME": str(paths["home"])}, timeout=600)


def _venv_with(wheel: Path, where: Path) -> Path:
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(where)], check=True)
    subprocess.run([sys.executable, "-m", "pip", "--python", str(where / "bin" / "python"), "install", "-q",
                    "--no-index", "--no-deps", str(wheel)], check=True,
                   env={**os.environ, "PIP_CONFIG_FILE": os.devnull})
    return where / "bin" / "python"


@pytest.mark.skipif(os.uname().machine != "x86_64", reason="the fixture's flavours are for x86_64")
def test_flavours_packed_linked_and_chosen(library_recipe, tmp_path):
    proc = _build(library_recipe)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    entry = json.loads((library_recipe["house"] / "manifest.json").read_text())["wheels"]["shout"]
    wheel = library_recipe["house"] / entry["filename"]
    assert wheel.name == "shout-1.0-py3-none-linux_x86_64.whl"
    names = zipfile.ZipFile(wheel).namelist()
    assert "shout_libs.pth" in names and "shout_libs/flavours.json" in names
    assert {"shout_libs/plain/lib/libshout.so.1", "shout_libs/fancy/lib/libshout.so.1"} <= set(names)
    # A compiler that rejects a flavour's check leaves it out, says so, and the build goes on.
    assert not [n for n in names if n.startswith("shout_libs/exotic/")]
    assert "shout [exotic] not built: this C compiler rejects '-march=no-such-cpu'" in proc.stdout + proc.stderr
    listing = json.loads(zipfile.ZipFile(wheel).read("shout_libs/flavours.json"))
    assert [f["name"] for f in listing["flavours"]] == ["plain", "fancy"]
    assert listing["sonames"] == ["libshout.so.1"]  # what consumers must link, read without unpacking
    assert not [n for n in names if n.endswith((".a", ".so.1.0.0"))], names  # no archive, no second copy
    python = _venv_with(wheel, tmp_path / "venv")
    site = Path(subprocess.run([str(python), "-c", "import shout_libs; print(shout_libs.HERE.parent)"],
                               capture_output=True, text=True, check=True).stdout.strip())
    plain = site / "shout_libs" / "plain" / "lib"
    assert (plain / "libshout.so").read_text() == "INPUT(libshout.so.1)\n"
    # Another library links it through its relocated .pc file, with no rpath to it.
    libs = subprocess.run(["pkg-config", "--libs", "shout"], capture_output=True, text=True, check=True,
                          env={**os.environ, "PKG_CONFIG_PATH": str(plain / "pkgconfig")}).stdout.split()
    assert [os.path.normpath(a[2:]) for a in libs if a.startswith("-L")] == [str(plain)], libs
    (tmp_path / "consumer.c").write_text(CONSUMER)
    consumer = tmp_path / "libconsumer.so"
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(consumer), str(tmp_path / "consumer.c"), *libs], check=True)
    says = (f"import ctypes; f = ctypes.CDLL({str(consumer)!r}).consumer_says; f.restype = ctypes.c_char_p; "
            "print(f().decode())")

    def consumer_says(**env: str) -> str:
        return subprocess.run([str(python), "-c", says], capture_output=True, text=True, check=True,
                              env={**os.environ, **env}).stdout.strip()

    assert consumer_says() == "plain"  # the fallback until a flavour is selected
    assert consumer_says(SHOUT_LIBS_FLAVOUR="fancy") == "fancy"
    subprocess.run([str(python), "-m", "shout_libs", "--select", "fancy", "self-test passed"], check=True)
    assert consumer_says() == "fancy"
    status = json.loads(subprocess.run([str(python), "-m", "shout_libs"], capture_output=True, text=True,
                                       check=True).stdout)
    assert status["loaded"] == "fancy" and status["problem"] is None
    wrong = subprocess.run([str(python), "-m", "shout_libs"], capture_output=True, text=True, check=True,
                           env={**os.environ, "SHOUT_LIBS_FLAVOUR": "turbo"}).stdout
    assert "turbo names no flavour" in json.loads(wrong)["problem"]


@pytest.mark.skipif(os.uname().machine != "x86_64", reason="the fixture's flavours are for x86_64")
def test_finished_flavours_are_kept_after_a_failure(library_recipe):
    library_recipe["fail"].write_text("")
    proc = _build(library_recipe)
    assert proc.returncode != 0 and "building shout (fancy) failed" in proc.stdout + proc.stderr
    assert library_recipe["builds"].read_text().split() == ["plain", "fancy"]
    library_recipe["fail"].unlink()
    proc = _build(library_recipe)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "shout [plain]: kept from an earlier run" in proc.stdout
    assert library_recipe["builds"].read_text().split() == ["plain", "fancy", "fancy"]


# A Python extension that links the library through pkg-config, and (like CMake's try_run probes)
# runs a program linked against it while it builds. Like torch's FindOpenBLAS, CMake looks the
# library up by its plain name, and a program links the development file it found by full path.
SETUP = textwrap.dedent("""\
    import subprocess
    from setuptools import Extension, setup
    libs = subprocess.run(["pkg-config", "--libs", "shout"], capture_output=True, text=True, check=True).stdout.split()
    subprocess.run(["gcc", "-o", "probe", "probe.c", *libs], check=True)
    assert subprocess.run(["./probe"], capture_output=True, text=True, check=True).stdout == "plain"
    subprocess.run(["cmake", "-S", "find", "-B", "find/build"], check=True)
    found = open("find/build/found.txt").read()
    assert found.endswith("/site-packages/shout_libs/plain/lib/libshout.so"), found
    subprocess.run(["gcc", "-o", "probe-cmake", "probe.c", found], check=True)
    assert subprocess.run(["./probe-cmake"], capture_output=True, text=True, check=True).stdout == "plain"
    setup(name="loud", version="1.0", ext_modules=[Extension("loud", ["loud.c"], extra_link_args=libs)])
    """)
FIND = textwrap.dedent("""\
    cmake_minimum_required(VERSION 3.18)
    project(find C)
    find_library(SHOUT_LIB NAMES shout)
    file(WRITE ${CMAKE_BINARY_DIR}/found.txt "${SHOUT_LIB}")
    """)
PROBE = textwrap.dedent("""\
    #include <stdio.h>
    const char *shout_flavour(void);
    int main(void) { fputs(shout_flavour(), stdout); return 0; }
    """)
LOUD = textwrap.dedent("""\
    #include <Python.h>
    const char *shout_flavour(void);
    static PyObject *says(PyObject *self, PyObject *args) { return PyUnicode_FromString(shout_flavour()); }
    static PyMethodDef methods[] = {{"says", says, METH_NOARGS, ""}, {0}};
    static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "loud", 0, -1, methods};
    PyMODINIT_FUNC PyInit_loud(void) { return PyModule_Create(&module); }
    """)


@pytest.mark.skipif(os.uname().machine != "x86_64", reason="the fixture's flavours are for x86_64")
def test_a_recipe_depending_on_the_library_builds_against_its_wheel(library_recipe, tmp_path):
    """The build venv holds the library's wheel: pkg-config and CMake find its fallback flavour,
    programs run during the build load it, and the extension runs whichever flavour the loader
    picks."""
    source = tmp_path / "loud-src"
    (source / "find").mkdir(parents=True)
    for name, text in (("setup.py", SETUP), ("probe.c", PROBE), ("loud.c", LOUD), ("find/CMakeLists.txt", FIND)):
        (source / name).write_text(text)
    recipe = {"schema": 1, "name": "loud", "version": "1.0", "source": {"kind": "local", "path": str(source)},
              "system": ["c-compiler", "python-headers", "pkg-config", "cmake"], "depends": ["shout"],
              "build_requires": ["setuptools==80.9.0"],
              "test": {"script": "import loud; assert loud.says() == 'plain', loud.says(); print('loud ok')"}}
    (library_recipe["recipes"] / "loud.yaml").write_text(json.dumps(recipe))
    proc = _build(library_recipe)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "loud ok" in (library_recipe["home"] / "logs" / "loud-1.0.log").read_text()
    manifest = json.loads((library_recipe["house"] / "manifest.json").read_text())["wheels"]
    python = _venv_with(library_recipe["house"] / manifest["shout"]["filename"], tmp_path / "venv")
    _venv_with(library_recipe["house"] / manifest["loud"]["filename"], tmp_path / "venv")
    says = [str(python), "-c", "import loud; print(loud.says())"]
    fancy = subprocess.run(says, capture_output=True, text=True, check=True,
                           env={**os.environ, "SHOUT_LIBS_FLAVOUR": "fancy"}).stdout.strip()
    assert fancy == "fancy"


@pytest.mark.skipif(shutil.which("riscv64-linux-gnu-gcc-12") is None,
                    reason="needs Debian's riscv64 gcc 12 (apt-get install gcc-12-riscv64-linux-gnu)")
def test_gcc_12_builds_only_the_openblas_fallback_for_riscv64(tmp_path):
    """openEuler 24.03's gcc 12 has neither the RVV 1.0 intrinsics nor XTheadVector: the real
    recipe's compiler checks leave those flavours out instead of failing the build."""
    recipe = load_all(python="3.11")["openblas"]
    tree = tmp_path / "tree"
    tree.mkdir()
    built: list[str] = []

    compiler = {"riscv64": "riscv64-linux-gnu-gcc-12 -march=rv64gc -mabi=lp64d", "x86_64": "gcc"}

    def check(flavour, copy, prefix, command):
        env = {**os.environ, "CC": compiler[flavour.machine if isinstance(flavour.machine, str) else "riscv64"]}
        if subprocess.run(command, cwd=copy, env=env, capture_output=True).returncode:
            raise BuildFailed(f"the compiler check of {flavour.name} failed")

    def build(flavour, copy, prefix):  # the script itself is not what is tested here
        built.append(flavour.name)
        (prefix / "lib").mkdir()
        (prefix / "lib" / "libopenblas.so.0").write_bytes(b"\x7fELF")

    wheel = library.build_all(recipe, tree, "riscv64", tmp_path / "root", 315532800,
                              library.FlavourRunner(build, check))
    assert built == ["generic"]
    listed = json.loads(zipfile.ZipFile(wheel).read("rvforge_openblas/flavours.json"))["flavours"]
    assert [f["name"] for f in listed] == ["generic"]
    built.clear()  # the same checks pass where the compiler has what the kernels need
    library.build_all(recipe, tree, "x86_64", tmp_path / "x86", 315532800, library.FlavourRunner(build, check))
    assert built == ["generic", "haswell"]
