"""The recipe file format (recipes/*.yaml) as config dataclasses.

The loader validates every recipe against them, and the JSON schema shipped beside the recipes
(recipes/recipe.schema.json, named by each recipe's ``yaml-language-server`` comment) is
generated from them, so an editor flags a bad recipe with the tool's own rules.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet

from rvforge import REPO_ROOT
from rvforge.common import write_atomic
from rvforge.config import Invalid, from_mapping, json_schema, load_yaml
from rvforge.errors import ConfigError

SchemaVersion = Literal[1]
#: The ``schema:`` values this tool reads; a recipe for another one is refused before its fields.
SCHEMA_VERSIONS: tuple[int, ...] = get_args(SchemaVersion)
SCHEMA_FILE = REPO_ROOT / "recipes" / "recipe.schema.json"
#: Logical system requirements; they are the keys of a profile's ``packages`` map.
SYSTEM_REQUIREMENTS = frozenset({
    "c-compiler", "cxx-compiler", "gfortran", "openblas", "pkg-config", "python-headers",
    "cmake", "ninja", "make", "patch", "git", "jpeg", "zlib", "protobuf",
})
_PINNED = "exact pins (name==version): the build is only as repeatable as they are"


def _check_pinned(requirements: tuple[str, ...] | None, name: str) -> None:
    for index, text in enumerate(requirements or ()):
        try:
            req = Requirement(text)
        except InvalidRequirement:
            raise Invalid(f"'{text}' is not a requirement", field=f"{name}[{index}]",
                          hint="write it as name==version") from None
        specs = list(req.specifier)
        if len(specs) != 1 or specs[0].operator != "==":
            raise Invalid(f"'{text}' must be pinned with == (e.g. {req.name}==1.2.3)",
                          field=f"{name}[{index}]", hint=f"list {_PINNED}")


def _check_specifier(text: str) -> None:
    try:
        SpecifierSet(text)
    except InvalidSpecifier:
        raise Invalid(f"'{text}' is not a version specifier like '>=3.10,<3.13'",
                      field="python") from None


_ALT_NAME = {"pattern": "[a-z0-9][a-z0-9._-]*",
             "doc": "short name of an alternative in `sources:` (patches' `when: {source: NAME}`)"}


@dataclass(frozen=True)
class FileSource:
    """A file on the package index: an ``sdist`` to build or a ``wheel`` taken as published."""

    kind: Literal["sdist", "wheel"]
    filename: str = field(metadata={"doc": "file name on the package index"})
    sha256: str = field(metadata={"pattern": "[0-9a-fA-F]{64}", "doc": "the file's sha256"})
    name: str = field(default="", metadata=_ALT_NAME)


@dataclass(frozen=True)
class GitSource:
    """A git checkout, pinned by commit; the tag must point at it."""

    kind: Literal["git"]
    url: str = field(metadata={"doc": "$VARIABLES are expanded"})
    tag: str
    commit: str = field(metadata={"pattern": "[0-9a-fA-F]{40}",
                                  "doc": "the full 40-hex-digit commit id, quoted"})
    submodules: bool = True
    name: str = field(default="", metadata=_ALT_NAME)


@dataclass(frozen=True)
class LocalSource:
    """A source directory on this machine."""

    kind: Literal["local"]
    path: str = field(metadata={"doc": "relative to the recipe file; $VARIABLES are expanded"})
    name: str = field(default="", metadata=_ALT_NAME)


@dataclass(frozen=True)
class ArchiveFile:
    """One pinned archive of an ``archives`` source, unpacked into ``dest`` of the tree."""

    origin: Literal["debian", "index"] = field(metadata={
        "doc": "debian: a pool path on the Debian mirror; index: a file name on the package index"})
    path: str = field(metadata={"doc": "pool/main/... path (debian) or file name (index)"})
    sha256: str = field(metadata={"pattern": "[0-9a-fA-F]{64}", "doc": "the file's sha256"})
    dest: str = field(default="", metadata={
        "pattern": "|[A-Za-z0-9_.+-]+(/[A-Za-z0-9_.+-]+)*",
        "doc": "directory of the tree it goes to, '' for the root"})
    member: str = field(default="", metadata={"doc": "only this directory inside the archive"})
    strip: int | None = field(default=None, metadata={
        "min": 0, "doc": "leading path components dropped; default 1, or the member's own depth"})

    def __post_init__(self) -> None:
        if ".." in self.dest.split("/") or ".." in self.member.split("/"):
            raise Invalid("'..' is not allowed in dest or member", field="dest")


@dataclass(frozen=True)
class ArchivesSource:
    """Pinned archives unpacked into one tree: a release tarball plus its third-party parts."""

    kind: Literal["archives"]
    files: tuple[ArchiveFile, ...] = field(metadata={"doc": "the root archive (dest '') first"})
    name: str = field(default="", metadata=_ALT_NAME)

    def __post_init__(self) -> None:
        dests = [f.dest.strip("/") for f in self.files]
        if not dests or dests[0] != "":
            raise Invalid("the first file must be the root archive (dest: '')", field="files")
        twice = sorted({d for d in dests if dests.count(d) > 1})
        if twice:
            raise Invalid(f"dest {twice[0]!r} is given twice", field="files",
                          hint="give each archive its own directory")


SourceFile = FileSource | GitSource | LocalSource | ArchivesSource
Values = str | tuple[str, ...]


@dataclass(frozen=True)
class When:
    """Conditions of a patch; each one given must hold (a value or a list of allowed values)."""

    machine: Values | None = field(default=None, metadata={"doc": "e.g. riscv64"})
    profile: Values | None = field(default=None, metadata={"doc": "a profile name"})
    python: Values | None = field(default=None, metadata={"doc": "X.Y, quoted"})
    source: Values | None = field(default=None, metadata={"doc": "name of the alternative used"})


@dataclass(frozen=True)
class PatchFile:
    file: str = field(metadata={"doc": "in patches/<name>/ beside the recipe or in the tool's"})
    when: When = field(default_factory=When)
    reason: str = ""


@dataclass(frozen=True)
class SmokeTestFile:
    script: str = field(metadata={"doc": "Python run with the new wheel installed"})
    requires: tuple[str, ...] = field(default=(), metadata={"doc": f"extra packages, {_PINNED}"})

    def __post_init__(self) -> None:
        _check_pinned(self.requires, "requires")


@dataclass(frozen=True)
class VariantFile:
    """Overrides for the Pythons in ``python``; the first variant that covers the target wins."""

    python: str = field(default="", metadata={"doc": "version specifier, e.g. '>=3.12,<3.15'"})
    version: str | None = None
    source: SourceFile | None = None
    build_requires: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        _check_specifier(self.python)
        _check_pinned(self.build_requires, "build_requires")


@dataclass(frozen=True)
class CompilerCheck:
    """What the C compiler must accept to build a flavour. A compiler too old for its kernels
    (GCC 12 has neither RVV 1.0 intrinsics nor XTheadVector) skips the flavour with a warning
    instead of failing the whole build; the CPU then runs the fallback."""

    flags: str = field(metadata={"doc": "compiler flags, e.g. -march=rv64gcv"})
    source: str = field(default="int main(void) { return 0; }\n", metadata={
        "doc": "a C file that must compile with them, e.g. one including the kernels' intrinsics header"})


@dataclass(frozen=True)
class FlavourFile:
    """One build of a native library for one kind of CPU (e.g. OpenBLAS's vector kernels)."""

    name: str = field(metadata={"pattern": "[a-z0-9][a-z0-9_]*", "doc": "directory name in the wheel"})
    machine: Values = field(metadata={"doc": "machines it is built for, e.g. riscv64"})
    needs: str = field(default="", metadata={
        "doc": "CPU extension it needs to run (e.g. v, xtheadvector, avx2); empty: any CPU of "
               "the machine. The first flavour needing nothing is the fallback"})
    env: dict[str, str] = field(default_factory=dict, metadata={"doc": "variables for the script"})
    compiler: CompilerCheck | None = field(default=None, metadata={
        "doc": "what the C compiler must accept to build it; otherwise it is skipped (never the fallback)"})

    def __post_init__(self) -> None:
        if self.compiler is not None and not self.needs:
            raise Invalid(f"flavour {self.name!r} needs no CPU extension, so it may be the fallback, which "
                          "must build with any compiler", field="compiler",
                          hint="drop 'compiler' here, or give the flavour the 'needs' it runs with")


@dataclass(frozen=True)
class LibraryFile:
    """A C library with no Python packaging, built once per flavour and shipped as a wheel
    whose package loads the flavour chosen for the machine before anything links against it."""

    package: str = field(metadata={"pattern": "[a-z_][a-z0-9_]*", "doc": "import name of the wheel's package"})
    script: str = field(metadata={
        "doc": "shell run in a fresh copy of the tree per flavour; it installs into $PREFIX "
               "(lib/, include/, lib/pkgconfig/); $FLAVOUR names the flavour; {jobs} is the job count"})
    flavours: tuple[FlavourFile, ...]

    def __post_init__(self) -> None:
        pairs = [(f.name, machine) for f in self.flavours
                 for machine in ((f.machine,) if isinstance(f.machine, str) else f.machine)]
        twice = sorted({pair for pair in pairs if pairs.count(pair) > 1})
        if twice:
            raise Invalid(f"flavour {twice[0][0]!r} is given twice for {twice[0][1]}", field="flavours",
                          hint="give each flavour of a machine its own name")


@dataclass(frozen=True)
class Estimate:
    """What a cold build costs, for the plan when this machine has not built the recipe yet."""

    cpu_hours: float = field(metadata={"doc": "CPU time on one x86_64 core of ~3 GHz"})
    disk_gb: float = field(default=0.0, metadata={"doc": "peak size of the work dir"})
    ram_gb_per_job: float = field(default=0.0, metadata={"doc": "peak RSS of the largest compile job"})


@dataclass(frozen=True, kw_only=True)
class RecipeFile:
    """One recipe file. ``version`` and ``source`` may come from the variants instead."""

    schema: SchemaVersion = field(metadata={"doc": "the recipe format this file is written in"})
    name: str = field(metadata={"pattern": "[a-z0-9][a-z0-9._-]*",
                                "doc": "the package name, lowercase; equals the file name"})
    python: str = field(default="", metadata={"doc": "Pythons the recipe supports, e.g. '>=3.10'"})
    version: str | None = field(default=None, metadata={"doc": "the version built, quoted"})
    source: SourceFile | None = None
    sources: tuple[SourceFile, ...] = field(default=(), metadata={
        "doc": "alternatives instead of `source`: the first cached or reachable one is used"})
    variants: tuple[VariantFile, ...] = ()
    depends: tuple[str, ...] = field(default=(), metadata={"doc": "recipes built first"})
    build_requires: tuple[str, ...] = field(default=(), metadata={"doc": f"build venv: {_PINNED}"})
    system: tuple[str, ...] = field(default=(), metadata={
        "choices": tuple(sorted(SYSTEM_REQUIREMENTS)), "doc": "keys of a profile's packages map"})
    env: dict[str, str] = field(default_factory=dict, metadata={
        "doc": "extra build environment; {jobs} becomes the job count"})
    config_settings: dict[str, Values] = field(default_factory=dict, metadata={
        "doc": "PEP 517 config settings; {jobs} becomes the job count"})
    patches: tuple[PatchFile, ...] = ()
    library: LibraryFile | None = field(default=None, metadata={
        "doc": "build a C library per flavour with a script instead of a Python build backend"})
    test: SmokeTestFile
    notes: str = ""
    estimate: Estimate | None = field(default=None, metadata={"doc": "cost of a cold build"})
    cross_blocked: str = field(default="", metadata={
        "doc": "why the recipe cannot be cross-built yet (--cross-target); empty when it can"})

    def __post_init__(self) -> None:
        _check_specifier(self.python)
        _check_pinned(self.build_requires, "build_requires")
        if self.sources and self.source is not None:
            raise Invalid("give either source or sources, not both", field="sources")
        names = [alt.name for alt in self.sources]
        if "" in names or len(set(names)) != len(names):
            raise Invalid("every alternative in sources needs its own name", field="sources",
                          hint="add e.g. 'name: upstream' and 'name: debian'")


def read_recipe_file(path: Path) -> RecipeFile:
    """Parse and validate one recipe; its ``schema`` is checked first, since a recipe written
    for another format would otherwise fail on fields this tool does not know."""
    data = load_yaml(path)
    version = data.get("schema")
    if type(version) is not int or version not in SCHEMA_VERSIONS:
        readable = ", ".join(str(v) for v in SCHEMA_VERSIONS)
        problem = "missing" if "schema" not in data else f"{version!r} is not a schema this tool reads"
        raise ConfigError(f"{path}: schema: {problem} (it reads recipe schema {readable})",
                          hint=f"start the recipe with 'schema: {SCHEMA_VERSIONS[-1]}' and write it "
                               f"in that format (see recipes/README.md), or update rvforge")
    return from_mapping(RecipeFile, data, str(path))


def recipe_schema_text() -> str:
    """The JSON schema of a recipe file, as shipped in recipes/recipe.schema.json."""
    schema: dict[str, Any] = json_schema(RecipeFile)
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def write_recipe_schema(path: Path = SCHEMA_FILE) -> bool:
    """Write the recipe schema; True when the file changed."""
    text = recipe_schema_text()
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return False
    write_atomic(path, text)
    return True
