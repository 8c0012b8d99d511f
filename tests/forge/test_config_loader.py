"""The one config loader: YAML files and CLI strings validated against dataclasses, every bad
field reported as a ConfigError naming file, dotted field and expected type; JSON schema from
the same dataclasses."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Optional

import pytest

from rvforge.config import (
    Invalid,
    cli_overrides,
    describe,
    field_error,
    from_mapping,
    json_schema,
    load_file,
    load_yaml,
    parse_value,
)
from rvforge.errors import ConfigError


@dataclass(frozen=True)
class Build:
    env: dict[str, str] = field(default_factory=dict)
    jobs: int = field(default=1, metadata={"min": 1, "doc": "parallel compile jobs"})
    flags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Source:
    kind: Literal["sdist", "git"]
    sha256: str = field(default="", metadata={"pattern": "[0-9a-f]{64}|"})


@dataclass(frozen=True)
class Pkg:
    name: str
    source: Source
    build: Build = field(default_factory=Build)
    schema: Literal[1] = 1
    ratio: float = 0.5
    fast: bool = False
    port: int = field(default=7777, metadata={"min": 1, "max": 65535})
    threads: Optional[int] = None  # noqa: UP045 - the typing.Optional spelling must work too
    memory: str | None = None
    workdir: Path = Path("work")
    system: list[str] = field(default_factory=list, metadata={"choices": ("gcc", "cmake")})
    settings: dict[str, str | list[str]] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Pinned:
    requires: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for req in self.requires:
            if "==" not in req:
                raise Invalid(f"'{req}' must be pinned with ==", field="requires",
                              hint="pin it, e.g. cython==3.0.12")


GOOD = """\
name: demo
source: {kind: git}
build:
  env: {CFLAGS: "-O2"}
  jobs: 4
  flags: [a, b]
ratio: 2
fast: true
threads: 8
memory: null
workdir: /tmp/w
system: [gcc]
settings: {setup-args: ["-Dblas=openblas"], compile-args: "-j4"}
extra: {anything: [1, {x: 2}]}
"""


def write(tmp_path: Path, text: str, name: str = "demo.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def error(tmp_path: Path, text: str, cls: type = Pkg) -> ConfigError:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_file(cls, path)
    assert info.value.exit_code == 2
    return info.value


def test_every_type_loads_and_defaults_come_from_the_dataclass(tmp_path: Path) -> None:
    pkg = load_file(Pkg, write(tmp_path, GOOD))
    assert pkg.build == Build(env={"CFLAGS": "-O2"}, jobs=4, flags=("a", "b"))
    assert pkg.source == Source(kind="git")
    assert (pkg.ratio, pkg.fast, pkg.threads, pkg.memory) == (2.0, True, 8, None)
    assert isinstance(pkg.ratio, float) and pkg.workdir == Path("/tmp/w")
    assert pkg.settings == {"setup-args": ["-Dblas=openblas"], "compile-args": "-j4"}
    assert pkg.extra == {"anything": [1, {"x": 2}]} and pkg.system == ["gcc"]
    minimal = load_file(Pkg, write(tmp_path, "name: x\nsource: {kind: sdist}\n"))
    assert minimal == Pkg(name="x", source=Source(kind="sdist"))


@pytest.mark.parametrize(("text", "message"), [
    ("build: {env: {CFLAGS: 3}}", "demo.yaml: build.env.CFLAGS: expected a string, got 3 (an integer)"),
    ("build: {jobs: true}", "build.jobs: expected an integer >= 1, got true (a boolean)"),
    ("build: {jobs: 0}", "build.jobs: expected an integer >= 1, got 0 (an integer)"),
    ("build: {flags: a}", "build.flags: expected a list of strings, got 'a'"),
    ("build: {flags: [a, 2.5]}", "build.flags[1]: expected a string, got 2.5 (a number)"),
    ("build: [1]", "build: expected a mapping, got a list"),
    ("port: 70000", "port: expected an integer from 1 to 65535, got 70000 (an integer)"),
    ("port: '80'", "port: expected an integer from 1 to 65535, got '80'"),
    ("ratio: yes", "ratio: expected a number, got true (a boolean)"),
    ("ratio: .nan", "ratio: expected a number, got nan (a number)"),
    ("fast: 1", "fast: expected true or false, got 1 (an integer)"),
    ("threads: x", "threads: expected an integer or null, got 'x'"),
    ("schema: 2", "schema: expected one of: 1, got 2 (an integer)"),
    ("schema: '1'", "schema: expected one of: 1, got '1'"),
    ("workdir: ''", "workdir: expected a path, got ''"),
    ("system: [gcc, clang]", "system[1]: expected one of: gcc, cmake, got 'clang'"),
    ("settings: {x: {a: 1}}", "settings.x: expected a string or a list of strings, got a mapping"),
    ("settings: {x: [a, 1]}", "settings.x[1]: expected a string, got 1 (an integer)"),
    ("settings: {1: a}", "settings.1: key 1 is not a string"),
    ("memory: 6", "memory: expected a string or null, got 6 (an integer)"),
])
def test_wrong_type_names_file_dotted_field_expected_and_got(tmp_path: Path, text: str,
                                                             message: str) -> None:
    err = error(tmp_path, "name: x\nsource: {kind: sdist}\n" + text + "\n")
    assert message in err.message
    assert err.message.startswith(str(tmp_path / "demo.yaml") + ": ")
    assert err.hint


def test_a_number_where_text_is_expected_says_to_quote_it(tmp_path: Path) -> None:
    err = error(tmp_path, "name: 2.10\nsource: {kind: sdist}\n")
    assert "name: expected a string, got 2.1 (a number)" in err.message
    assert "quote it" in err.hint


def test_nested_literal_and_pattern(tmp_path: Path) -> None:
    err = error(tmp_path, "name: x\nsource: {kind: wheel}\n")
    assert "source.kind: expected one of: sdist, git, got 'wheel'" in err.message
    err = error(tmp_path, "name: x\nsource: {kind: sdist, sha256: abc}\n")
    assert "source.sha256: expected a string matching" in err.message


def test_missing_required_field(tmp_path: Path) -> None:
    err = error(tmp_path, "name: x\n")
    assert err.message.endswith("demo.yaml: source: missing required field (a mapping)")
    err = error(tmp_path, "name: x\nsource: {}\n")
    assert "source.kind: missing required field (one of: sdist, git)" in err.message
    assert "add 'kind'" in err.hint and "to source" in err.hint


def test_unknown_field_suggests_the_closest_known_one(tmp_path: Path) -> None:
    err = error(tmp_path, "name: x\nsource: {kind: sdist}\nbuild: {evn: {}}\n")
    assert err.message.endswith("demo.yaml: build.evn: unknown field")
    assert "did you mean 'env'?" in err.hint and "known fields: env, jobs, flags" in err.hint
    err = error(tmp_path, "name: x\nsource: {kind: sdist}\nzzz: 1\n")
    assert "zzz: unknown field" in err.message and err.hint.startswith("remove it")
    assert str(err) == f"{err.message}\n  fix: {err.hint}"


def test_post_init_checks_are_reported_like_type_errors(tmp_path: Path) -> None:
    err = error(tmp_path, "requires: [cython]\n", Pinned)
    assert err.message.endswith("demo.yaml: requires: 'cython' must be pinned with ==")
    assert err.hint == "pin it, e.g. cython==3.0.12"
    assert load_file(Pinned, write(tmp_path, "requires: [cython==3.0.12]\n")).requires == ("cython==3.0.12",)


def test_from_mapping_names_the_given_place() -> None:
    with pytest.raises(ConfigError, match=r"^invoke.yaml: rvforge: port: expected an integer"):
        from_mapping(Pkg, {"name": "x", "source": {"kind": "git"}, "port": "x"}, "invoke.yaml: rvforge")
    with pytest.raises(ConfigError, match=r"^somewhere: expected a mapping, got a list"):
        from_mapping(Pkg, [], "somewhere")


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "name: x\nsource:\n  kind: sdist\n bad: [\n")
    with pytest.raises(ConfigError) as info:
        load_yaml(path)
    assert info.value.message.startswith(f"{path}: line 4, column 2: invalid YAML: ")
    assert "fix the YAML" in info.value.hint


def test_duplicate_keys_are_an_error_not_last_one_wins(tmp_path: Path) -> None:
    path = write(tmp_path, "name: a\nsource: {kind: sdist}\nname: b\n")
    with pytest.raises(ConfigError, match=r"line 3, column 1: invalid YAML: found duplicate key 'name'"):
        load_yaml(path)
    merged = write(tmp_path, "base: &b {x: 1, y: 2}\nother:\n  <<: *b\n  x: 3\n", "merge.yaml")
    assert load_yaml(merged)["other"] == {"x": 3, "y": 2}


def test_load_yaml_top_level_and_unreadable(tmp_path: Path) -> None:
    assert load_yaml(write(tmp_path, "# only a comment\n")) == {}
    with pytest.raises(ConfigError, match="expected a mapping of fields at the top level, got a list"):
        load_yaml(write(tmp_path, "- a\n"))
    with pytest.raises(ConfigError, match=r"missing.yaml: cannot read: No such file"):
        load_yaml(tmp_path / "missing.yaml")


def test_cli_strings_are_validated_and_named_by_flag() -> None:
    assert cli_overrides(Pkg, port="8080", threads="4", fast="yes", ratio="1.5", memory=None) == {
        "port": 8080, "threads": 4, "fast": True, "ratio": 1.5}
    assert cli_overrides(Build, flags="a, b,") == {"flags": ("a", "b")}
    assert cli_overrides(Pkg, schema="1", workdir="/x") == {"schema": 1, "workdir": Path("/x")}
    with pytest.raises(ConfigError) as info:
        cli_overrides(Build, jobs="x")
    assert info.value.message == "--jobs: expected an integer >= 1, got 'x'"
    assert info.value.hint == "give --jobs an integer >= 1"
    for bad in ("0", "1.5", "", "true"):
        with pytest.raises(ConfigError, match="^--jobs: expected an integer >= 1"):
            cli_overrides(Build, jobs=bad)
    with pytest.raises(ConfigError, match="^--port: expected an integer from 1 to 65535, got '65536'"):
        cli_overrides(Pkg, port="65536")
    with pytest.raises(ConfigError, match="^--fast: expected true or false, got 'maybe'"):
        cli_overrides(Pkg, fast="maybe")
    with pytest.raises(TypeError, match="no field 'prot'"):
        cli_overrides(Pkg, prot="1")


def test_parse_value_and_overrides_feed_dataclasses_replace() -> None:
    assert parse_value(int, " 12 ", "--keep", {"min": 1}) == 12
    assert parse_value(Optional[float], "2", "--timeout") == 2.0
    with pytest.raises(ConfigError, match="^--keep-days: expected an integer, got '1e3'"):
        parse_value(int, "1e3", "--keep-days")
    base = Build(jobs=2)
    assert dataclasses.replace(base, **cli_overrides(Build, jobs="8", flags=None)) == Build(jobs=8)


def test_describe_reads_as_words() -> None:
    assert describe(list[str]) == "a list of strings"
    assert describe(dict[str, int], {"min": 0}) == "a mapping of names to integers >= 0"
    assert describe(Optional[Literal["a", "b"]]) == "one of: a, b or null"
    assert describe(tuple[bool, ...]) == "a list of true/false values"


def test_unsupported_types_and_metadata_typos_fail_loudly() -> None:
    @dataclass
    class BadMeta:
        x: int = field(default=1, metadata={"mni": 1})

    @dataclass
    class BadTuple:
        x: tuple[int, str] = (1, "a")

    with pytest.raises(TypeError, match="unknown metadata"):
        from_mapping(BadMeta, {}, "f")
    with pytest.raises(TypeError, match=r"use tuple\[X, \.\.\.\]"):
        from_mapping(BadTuple, {"x": [1, "a"]}, "f")


def test_json_schema_mirrors_the_loader() -> None:
    schema = json_schema(Pkg, schema_id="https://example.invalid/pkg.schema.json")
    json.dumps(schema)  # serializable as-is
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"].endswith("pkg.schema.json") and schema["title"] == "Pkg"
    assert schema["type"] == "object" and schema["additionalProperties"] is False
    assert schema["required"] == ["name", "source"]
    props = schema["properties"]
    assert props["port"] == {"type": "integer", "minimum": 1, "maximum": 65535, "default": 7777}
    assert props["schema"] == {"enum": [1], "default": 1}
    assert props["threads"] == {"anyOf": [{"type": "integer"}, {"type": "null"}], "default": None}
    assert props["system"] == {"type": "array", "items": {"type": "string", "enum": ["gcc", "cmake"]}}
    assert props["settings"]["additionalProperties"] == {
        "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}
    assert props["extra"] == {"type": "object", "additionalProperties": {}}
    assert props["workdir"] == {"type": "string"}  # a Path default is not JSON
    assert props["build"] == {"$ref": "#/$defs/Build"}
    build = schema["$defs"]["Build"]
    assert build["required"] == [] and build["additionalProperties"] is False
    assert build["properties"]["jobs"] == {"type": "integer", "minimum": 1, "default": 1,
                                           "description": "parallel compile jobs"}
    assert build["properties"]["flags"]["default"] == []
    assert schema["$defs"]["Source"]["properties"]["sha256"]["pattern"] == "^(?:[0-9a-f]{64}|)$"


def test_json_schema_validates_documents_when_jsonschema_is_installed() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    import yaml

    validator = jsonschema.Draft202012Validator(json_schema(Pkg))
    validator.check_schema(validator.schema)
    assert list(validator.iter_errors(yaml.safe_load(GOOD))) == []
    bad = {"name": "x", "source": {"kind": "wheel"}, "port": 0, "evn": {}}
    assert len(list(validator.iter_errors(bad))) == 3


@dataclass(frozen=True)
class FromIndex:
    kind: Literal["sdist", "wheel"]
    sha256: str


@dataclass(frozen=True)
class FromGit:
    kind: Literal["git"]
    commit: str
    submodules: bool = True


@dataclass(frozen=True)
class Fetch:
    source: FromIndex | FromGit | None = None


def test_a_tagged_union_reports_the_named_alternatives_fields() -> None:
    assert from_mapping(Fetch, {"source": {"kind": "git", "commit": "c"}}, "f").source == FromGit("git", "c")
    assert from_mapping(Fetch, {"source": {"kind": "wheel", "sha256": "s"}}, "f").source == FromIndex(
        "wheel", "s")
    assert from_mapping(Fetch, {"source": None}, "f").source is None
    cases = [
        ({"kind": "git", "sha256": "s"}, "f: source.sha256: unknown field"),
        ({"kind": "sdist"}, "f: source.sha256: missing required field (a string)"),
        ({"kind": "ftp"}, "f: source.kind: expected one of: sdist, wheel, git, got 'ftp'"),
        ({"kind": 1}, "f: source.kind: expected one of: sdist, wheel, git, got 1 (an integer)"),
        ({"commit": "c"}, "f: source.kind: missing required field (one of: sdist, wheel, git)"),
        ("git", "f: source: expected a mapping or null, got 'git'"),
    ]
    for value, message in cases:
        with pytest.raises(ConfigError) as info:
            from_mapping(Fetch, {"source": value}, "f")
        assert info.value.message == message


def test_a_tagged_union_in_the_json_schema() -> None:
    schema = json_schema(Fetch)
    assert schema["properties"]["source"]["anyOf"] == [
        {"$ref": "#/$defs/FromIndex"}, {"$ref": "#/$defs/FromGit"}, {"type": "null"}]
    assert schema["$defs"]["FromGit"]["properties"]["kind"] == {"enum": ["git"]}


def test_field_error_reads_like_the_loaders() -> None:
    err = field_error("r.yaml", "depends", "no recipe named 'x'", "add it")
    assert (err.message, err.hint, err.exit_code) == ("r.yaml: depends: no recipe named 'x'", "add it", 2)
