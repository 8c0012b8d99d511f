"""Every binary a cross-built wheel ships must be code for the target: checked from the ELF
header's machine field, never from the file name, before the wheel may be published."""

from __future__ import annotations

import zipfile
from pathlib import Path

from rvforge.build.elf_compare import machine_of
from rvforge.errors import BuildFailed


def require_machine(path: Path, arch: str) -> None:
    """Refuse a file that is not ELF code for ``arch`` (the cross root's probe, for one)."""
    with path.open("rb") as handle:
        found = machine_of(handle.read(64))
    if found != arch:
        raise BuildFailed(f"{path} is {found or 'not an ELF file'}, not {arch} code")


def wheel_tag(wheel: Path) -> str:
    """``python-abi-platform`` of a wheel file name."""
    parts = wheel.name[:-len(".whl")].split("-")
    return "-".join(parts[-3:])


def check_wheel(wheel: Path, arch: str, python: str | None) -> int:
    """Refuse a wheel whose tag or any ELF member is not for ``arch`` and CPython ``python``
    (None: a library wheel, for any Python); returns how many ELF files were checked."""
    cp = "cp" + python.replace(".", "") if python else ""
    expected = f"{cp}-{cp}-linux_{arch}" if cp else f"py3-none-linux_{arch}"
    if wheel_tag(wheel) != expected:
        raise BuildFailed(f"{wheel.name} is tagged {wheel_tag(wheel)}, expected {expected}",
                          hint="the build ran without the cross Python's sysconfig (crossenv)")
    checked = 0
    with zipfile.ZipFile(wheel) as archive:
        for member in archive.infolist():
            with archive.open(member) as handle:
                found = machine_of(handle.read(64))
            if found is None:
                continue
            if found != arch:
                raise BuildFailed(f"{wheel.name}: {member.filename} is {found} code, not {arch}",
                                  hint="a host compiler was used: check CC/LDSHARED of the build")
            checked += 1
    if checked == 0:
        raise BuildFailed(f"{wheel.name} holds no compiled code, yet it is tagged {arch}")
    return checked
