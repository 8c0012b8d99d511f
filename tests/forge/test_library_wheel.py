"""A library wheel's .pc files point at wherever the wheel is installed, however the build wrote
its prefix (checked with the real pkg-config)."""

from __future__ import annotations

import json
import os
import subprocess
import zipfile
from pathlib import Path

import pytest

from rvforge.build import library_wheel
from rvforge.errors import BuildFailed

# As OpenBLAS's `make install` writes it in a cross build: no prefix=, absolute paths of the root.
OPENBLAS_PC = """\
libdir=/work/openblas/stage/generic/lib
libnamesuffix=_rvforge
includedir=/work/openblas/stage/generic/include
version=0.3.34
Name: openblas
Description: t
Version: ${version}
Libs: -L${libdir} -lopenblas${libnamesuffix}
Cflags: -I${includedir}
"""
PREFIX_PC = "prefix=/build/stage/generic\nlibdir=${prefix}/lib\nName: shout\nDescription: t\nVersion: 1\n" \
            "Libs: -L${libdir} -lshout\n"


@pytest.mark.parametrize(("name", "text"), [("openblas", OPENBLAS_PC), ("shout", PREFIX_PC)])
def test_pc_files_find_their_prefix_where_the_wheel_is_installed(tmp_path: Path, name: str, text: str) -> None:
    pc_dir = tmp_path / "site" / "rvforge_openblas" / "generic" / "lib" / "pkgconfig"
    pc_dir.mkdir(parents=True)
    (pc_dir / f"{name}.pc").write_text(library_wheel.relocate_pc(text, "generic"))
    assert "/work/" not in (pc_dir / f"{name}.pc").read_text() and "/build/" not in (pc_dir / f"{name}.pc").read_text()
    env = {**os.environ, "PKG_CONFIG_PATH": str(pc_dir), "PKG_CONFIG_LIBDIR": ""}
    libs = subprocess.run(["pkg-config", "--libs", name], capture_output=True, text=True, check=True, env=env)
    flags = libs.stdout.split()
    assert [os.path.normpath(f[2:]) for f in flags if f.startswith("-L")] == [str(pc_dir.parent)]
    if name == "openblas":
        assert "-lopenblas_rvforge" in flags
        cflags = subprocess.run(["pkg-config", "--cflags", name], capture_output=True, text=True, check=True,
                                env=env).stdout.split()
        assert [os.path.normpath(f[2:]) for f in cflags if f.startswith("-I")] == [
            str(pc_dir.parent.parent / "include")]


def test_paths_of_other_directories_are_left_alone() -> None:
    text = "libdir=/work/openblas/stage/generic/lib\nextra=/usr/lib/riscv64-linux-gnu\n"
    relocated = library_wheel.relocate_pc(text, "generic")
    assert relocated == "libdir=${pcfiledir}/../../lib\nextra=/usr/lib/riscv64-linux-gnu\n"


def _wheel(tmp_path: Path, name: str, members: dict[str, Path]) -> Path:
    wheel = tmp_path / f"{name}-1.0-py3-none-linux_x86_64.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for inside, path in members.items():
            archive.write(path, inside)
    return wheel


def _shared(tmp_path: Path, name: str, *args: str, calls: str = "") -> Path:
    source = tmp_path / f"{name}.c"
    call = f"int {calls}_value(void);\n" if calls else ""
    source.write_text(f"{call}int {name}_value(void) {{ return {f'{calls}_value()' if calls else '1'}; }}\n")
    out = tmp_path / f"lib{name}.so"
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(out), str(source), *args], check=True)
    return out


def _site(tmp_path: Path, library: Path, record: bool) -> Path:
    """An unpacked library wheel: flavours.json with or without the packed soname record."""
    lib_dir = tmp_path / "site" / "shout_libs" / "plain" / "lib"
    lib_dir.mkdir(parents=True)
    (lib_dir / "libshout_rvforge.so.1").write_bytes(library.read_bytes())
    listing = {"flavours": [{"name": "plain", "needs": []}],
               **({"sonames": ["libshout_rvforge.so.1"]} if record else {})}
    (lib_dir.parent.parent / "flavours.json").write_text(json.dumps(listing))
    return tmp_path / "site"


@pytest.mark.parametrize("record", [True, False], ids=["recorded sonames", "sonames read from the files"])
def test_a_consumer_that_links_another_copy_of_the_library_is_refused(tmp_path: Path, record: bool) -> None:
    ours = _shared(tmp_path, "shout", "-Wl,-soname,libshout_rvforge.so.1")
    theirs = _shared(tmp_path, "other", "-Wl,-soname,libshout.so.1")
    sonames = library_wheel.installed_sonames(_site(tmp_path, ours, record))
    assert sonames == {"libshout_rvforge.so.1"}
    good = _wheel(tmp_path, "good", {"good.so": _shared(tmp_path, "good", str(ours), calls="shout")})
    bad = _wheel(tmp_path, "bad", {"bad.so": _shared(tmp_path, "bad", str(theirs), calls="other")})
    library_wheel.require_linked(good, sonames)
    with pytest.raises(BuildFailed) as err:
        library_wheel.require_linked(bad, sonames)
    assert "links none of libshout_rvforge.so.1 from its library wheel" in err.value.message
    assert "libshout.so.1" in err.value.message
    library_wheel.require_linked(bad, set())  # no library wheel in the build: nothing to check
