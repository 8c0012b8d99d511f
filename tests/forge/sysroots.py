"""Builders for fake distro trees that reproduce a profile's library/header layout.

The OpenBLAS in them is a REAL shared library compiled here (it exports ``cblas_ddot`` and
``openblas_get_config``, the latter naming the fixture so a test can prove which library a
program really linked); headers and os-release are minimal but real files.

- ``build_openeuler``: openEuler 24.03 riscv64 - /usr/lib64/libopenblas.so, headers under
  /usr/include/openblas, Python 3.11 headers, no openblas.pc (optionally a wrong one).
- ``build_debian_riscv64``: Debian riscv64 multiarch - openblas-pthread subdirs and a correct
  openblas.pc. Its .pc holds absolute paths inside the tree, as a distro installed at that path
  would have.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

FAKE_OPENBLAS_C = r"""
#include <stddef.h>
double cblas_ddot(const int n, const double *x, const int incx, const double *y, const int incy) {
    double sum = 0.0;
    for (int i = 0; i < n; i++) sum += x[(size_t)i * incx] * y[(size_t)i * incy];
    return sum;
}
char *openblas_get_config(void) { return (char *)"rvforge-fixture OpenBLAS @VERSION@"; }
"""

CBLAS_H = """#ifndef CBLAS_H
#define CBLAS_H
double cblas_ddot(const int n, const double *x, const int incx, const double *y, const int incy);
char *openblas_get_config(void);
#endif
"""

OPENEULER_RELEASE = 'NAME="openEuler"\nVERSION="24.03 (LTS)"\nID="openEuler"\nVERSION_ID="24.03"\n'
DEBIAN_RELEASE = 'PRETTY_NAME="Debian GNU/Linux trixie/sid"\nNAME="Debian GNU/Linux"\nID=debian\n'


def running_python() -> str:
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def compile_fake_openblas(lib_dir: Path, version: str) -> Path:
    """Build ``libopenblas.so.0`` with the real C compiler and link ``libopenblas.so`` to it
    (relative link: an absolute one would point out of the tree)."""
    lib_dir.mkdir(parents=True, exist_ok=True)
    source = lib_dir / ".fake-openblas.c"
    source.write_text(FAKE_OPENBLAS_C.replace("@VERSION@", version))
    real = lib_dir / "libopenblas.so.0"
    compiler = shlex.split(os.environ.get("CC") or "cc")
    subprocess.run([*compiler, "-shared", "-fPIC", "-O1", "-Wl,-soname,libopenblas.so.0", str(source),
                    "-o", str(real)], check=True, capture_output=True, text=True)
    source.unlink()
    (lib_dir / "libopenblas.so").symlink_to(real.name)
    return lib_dir / "libopenblas.so"


def write_openblas_headers(include_dir: Path, version: str | None) -> None:
    _write(include_dir / "cblas.h", CBLAS_H)
    define = f'#define OPENBLAS_VERSION " OpenBLAS {version} "\n' if version else ""
    _write(include_dir / "openblas_config.h",
           f"#ifndef OPENBLAS_CONFIG_H\n#define OPENBLAS_CONFIG_H\n{define}#endif\n")


def write_dev_headers(include_dir: Path, python: str) -> None:
    """Python.h for ``python``, jpeglib.h and zlib.h: presence is what the checks look at."""
    _write(include_dir / f"python{python}" / "Python.h", "/* fixture */\n")
    _write(include_dir / "jpeglib.h", "/* fixture */\n")
    _write(include_dir / "zlib.h", "/* fixture */\n")


def pc_text(libdir: Path, includedir: Path, version: str) -> str:
    return (f"libdir={libdir}\nincludedir={includedir}\nversion={version}\n"
            "Name: openblas\nDescription: OpenBLAS\nVersion: ${version}\n"
            "Libs: -L${libdir} -lopenblas\nCflags: -I${includedir}\n")


def build_openeuler(root: Path, *, python: str = "3.11", openblas_version: str = "0.3.26",
                    openblas: bool = True, broken_pc: bool = False) -> Path:
    """openEuler 24.03 layout. ``broken_pc`` adds the classic ``make install`` mistake: an
    openblas.pc whose libdir says lib instead of lib64."""
    _write(root / "etc/os-release", OPENEULER_RELEASE)
    usr = root / "usr"
    write_dev_headers(usr / "include", python)
    for pc_dir in ("lib64/pkgconfig", "share/pkgconfig"):
        (usr / pc_dir).mkdir(parents=True, exist_ok=True)
    if openblas:
        compile_fake_openblas(usr / "lib64", openblas_version)
        write_openblas_headers(usr / "include/openblas", openblas_version)
    if broken_pc:
        _write(usr / "lib64/pkgconfig/openblas.pc", pc_text(usr / "lib", usr / "include/openblas",
                                                            openblas_version))
    return root


def build_debian_riscv64(root: Path, *, python: str | None = None,
                         openblas_version: str = "0.3.28") -> Path:
    """Debian riscv64 multiarch layout with libopenblas-dev's own (correct) openblas.pc."""
    _write(root / "etc/os-release", DEBIAN_RELEASE)
    usr = root / "usr"
    triplet = "riscv64-linux-gnu"
    write_dev_headers(usr / "include", python or running_python())
    lib_dir = usr / "lib" / triplet / "openblas-pthread"
    include_dir = usr / "include" / triplet / "openblas-pthread"
    compile_fake_openblas(lib_dir, openblas_version)
    (usr / "lib" / triplet / "libopenblas.so").symlink_to("openblas-pthread/libopenblas.so")
    write_openblas_headers(include_dir, openblas_version)
    _write(usr / "lib" / triplet / "pkgconfig/openblas.pc", pc_text(lib_dir, include_dir, openblas_version))
    (usr / "share/pkgconfig").mkdir(parents=True, exist_ok=True)
    return root
