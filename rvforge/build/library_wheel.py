"""Pack the flavours of a C library into one wheel, so the wheelhouse, deploy and the builds that
link the library treat it like any other dependency.

Layout: ``<package>/<flavour>/{lib,include}`` per flavour, the loader
(``rvforge/ontarget/library_loader.py``) as ``<package>/__init__.py`` with ``flavours.json``,
and ``<package>.pth`` so that every interpreter of the venv loads the chosen flavour before
numpy or torch ask for the library's soname.

A wheel holds no symlinks, so each flavour's prefix is tidied first: the soname link gets the
library's bytes, the development link (``libopenblas.so``) becomes a one-line linker script
naming the soname, static archives and CMake files (absolute paths) go, and each ``.pc`` file
finds its prefix from where it lies (``${pcfiledir}``), wherever the wheel is installed.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from rvforge.build.elf_compare import ElfObject, dynamic_names, read_object
from rvforge.build.recipe_schema import FlavourFile
from rvforge.build.recipes import Recipe
from rvforge.build.wheelhouse import normalize_wheel
from rvforge.errors import BuildFailed
from rvforge.ontarget import library_loader

_SONAME_LINK = re.compile(r"\.so\.\d+$")
_PC_PREFIX = re.compile(r"^prefix=.*$", re.M)


def relocate_pc(text: str, flavour: str) -> str:
    """A ``.pc`` file of ``<prefix>/lib/pkgconfig`` that names its prefix relative to itself. The
    prefix may be written as ``prefix=`` or only inside other paths (OpenBLAS writes absolute
    ``libdir=``/``includedir=``), and as the build saw it (a cross build's path inside its root):
    any absolute path ending in the flavour's directory and followed by ``/lib`` or ``/include``
    is that prefix."""
    here = "${pcfiledir}/../.."
    text = _PC_PREFIX.sub(f"prefix={here}", text, count=1)
    return re.sub(rf"/[^\s'\"=]*/{re.escape(flavour)}(?=/(?:lib|include)\b)", here, text)


def tidy_prefix(prefix: Path) -> None:
    """Make one flavour's install prefix fit a wheel (see the module docstring)."""
    lib = prefix / "lib"
    if not lib.is_dir():
        raise BuildFailed(f"the build script installed no lib/ into {prefix}",
                          hint="the script must install into $PREFIX (e.g. make PREFIX=\"$PREFIX\" install)")
    shutil.rmtree(lib / "cmake", ignore_errors=True)
    for archive in lib.glob("*.a"):
        archive.unlink()
    links = sorted(p for p in lib.iterdir() if p.is_symlink())
    targets = {link: link.resolve() for link in links}
    for link in links:
        if _SONAME_LINK.search(link.name):
            real = targets[link]
            link.unlink()
            shutil.copyfile(real, link)
    for link in links:
        if link.is_symlink():  # a development link: the linker follows a script to the soname
            sonames = [other.name for other in links if targets[other] == targets[link]
                       and _SONAME_LINK.search(other.name)]
            link.unlink()
            link.write_text(f"INPUT({sonames[0] if sonames else targets[link].name})\n")
    named = {targets[link] for link in links if _SONAME_LINK.search(link.name)}
    for real in named:
        if real.exists() and not real.is_symlink() and real.parent == lib:
            real.unlink()
    for pc in (lib / "pkgconfig").glob("*.pc"):
        pc.write_text(relocate_pc(pc.read_text(), prefix.name))


def _distribution(recipe: Recipe) -> str:
    """The recipe's name as wheel file and dist-info names spell it (``typing-extensions`` -> ``typing_extensions``)."""
    return re.sub(r"[-_.]+", "_", recipe.name)


def wheel_name(recipe: Recipe, machine: str) -> str:
    return f"{_distribution(recipe)}-{recipe.version}-py3-none-linux_{machine}.whl"


def _metadata(recipe: Recipe, machine: str) -> dict[str, str]:
    assert recipe.library is not None
    package = recipe.library.package
    dist_info = f"{_distribution(recipe)}-{recipe.version}.dist-info"
    return {
        f"{dist_info}/METADATA": f"Metadata-Version: 2.1\nName: {recipe.name}\nVersion: {recipe.version}\n"
                                 f"Summary: {recipe.name} built by rvforge, one build per CPU flavour\n",
        f"{dist_info}/WHEEL": "Wheel-Version: 1.0\nGenerator: rvforge\nRoot-Is-Purelib: false\n"
                              f"Tag: py3-none-linux_{machine}\n",
        f"{dist_info}/RECORD": "",
        f"{package}.pth": f"import {package}; {package}.load()\n",
        f"{package}/__init__.py": Path(library_loader.__file__).read_text(),
        f"{package}/__main__.py": f"from {package} import main\n\nraise SystemExit(main())\n",
    }


def is_library_wheel(wheel: Path) -> bool:
    """Whether ``wheel`` is one this module packed (a ``<package>/flavours.json`` at its top)."""
    try:
        with zipfile.ZipFile(wheel) as archive:
            return any(name.count("/") == 1 and name.endswith(f"/{library_loader.FLAVOURS_FILE.name}")
                       for name in archive.namelist())
    except (OSError, zipfile.BadZipFile):
        return False


def _elf_objects(paths: Iterable[Path]) -> Iterator[ElfObject]:
    for path in paths:
        if ".so" not in path.name or not path.is_file():
            continue
        with path.open("rb") as handle:
            if handle.read(4) != b"\x7fELF":
                continue
        try:
            yield read_object(path)
        except ValueError:
            continue


def _sonames(lib_dir: Path) -> list[str]:
    return sorted({name for obj in _elf_objects(lib_dir.glob("*")) for name in dynamic_names(obj)[1]})


def installed_sonames(site_packages: Path) -> set[str]:
    """The sonames of the library wheels installed in ``site_packages``, as recorded when each was
    packed (read from the fallback flavour's files for a wheel packed before that record)."""
    found: set[str] = set()
    for prefix in installed_prefixes(site_packages):
        recorded = json.loads((prefix.parent / library_loader.FLAVOURS_FILE.name).read_text()).get("sonames")
        found.update(recorded if isinstance(recorded, list) else _sonames(prefix / "lib"))
    return found


def require_linked(wheel: Path, sonames: set[str]) -> None:
    """A wheel built with library wheels in its build (their ``sonames``) must link one of those
    libraries; else it found another copy (a distro's) and would never run the chosen flavour."""
    if not sonames:
        return
    with tempfile.TemporaryDirectory() as tmp, zipfile.ZipFile(wheel) as archive:
        members = [Path(archive.extract(name, tmp)) for name in archive.namelist()
                   if ".so" in name.rsplit("/", 1)[-1]]
        needed = {name for obj in _elf_objects(members) for name in dynamic_names(obj)[0]}
    if not sonames & needed:
        raise BuildFailed(f"{wheel.name} links none of {', '.join(sorted(sonames))} from its library wheel "
                          f"(it needs {', '.join(sorted(needed))}): the build found another copy of the library",
                          hint="see the build log for the linker's -L/-l flags; the library wheel's .pc file "
                               "must come first on the pkg-config path")


def installed_prefixes(site_packages: Path) -> list[Path]:
    """The fallback flavour's prefix of each library wheel installed in ``site_packages``: builds
    compile and link against it, and which flavour runs is decided at load time by the loader (a
    consumer names the soname only)."""
    prefixes = []
    for flavours_file in sorted(site_packages.glob(f"*/{library_loader.FLAVOURS_FILE.name}")):
        try:
            names = [f["name"] for f in json.loads(flavours_file.read_text())["flavours"]]
        except (OSError, ValueError, KeyError, TypeError):
            raise BuildFailed(f"{flavours_file} is not a library wheel's flavour list",
                              hint="rebuild the library's wheel (invoke build-wheels --force --only NAME)") from None
        if names:
            prefixes.append(flavours_file.parent / names[0])
    return prefixes


def pack(recipe: Recipe, stage: Path, machine: str, epoch: int, dest_dir: Path,
         built: Sequence[FlavourFile]) -> Path:
    """The wheel of the ``built`` flavours (fallback first), each installed under ``stage/<flavour>``,
    written into ``dest_dir``."""
    assert recipe.library is not None
    package = recipe.library.package
    flavours = [{"name": f.name, "needs": f.needs} for f in built]
    listing = {"flavours": flavours, "sonames": _sonames(stage / built[0].name / "lib")}
    files = {**_metadata(recipe, machine), f"{package}/flavours.json": json.dumps(listing, indent=2) + "\n"}
    raw = dest_dir / f"raw-{wheel_name(recipe, machine)}"
    dest_dir.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(raw, "w") as wheel:
        for name, text in files.items():
            wheel.writestr(name, text)
        for flavour in flavours:
            root = stage / flavour["name"]
            for path in sorted(p for p in root.rglob("*") if p.is_file()):
                wheel.write(path, f"{package}/{flavour['name']}/{path.relative_to(root)}")
    dest = dest_dir / wheel_name(recipe, machine)
    normalize_wheel(raw, dest, epoch)
    raw.unlink()
    return dest
