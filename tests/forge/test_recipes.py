"""Recipe loading and validation: the real recipe set, and bad recipes named by file and field."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import invoke

from rvforge.build.recipe_schema import SYSTEM_REQUIREMENTS
from rvforge.build.recipes import load_all, load_recipe_file
from rvforge.errors import ConfigError
from rvforge.host.profiles import all_profiles

GOOD = """\
schema: 1
name: demo
version: "1.0"
source: {kind: sdist, filename: demo-1.0.tar.gz, sha256: %s}
build_requires: [setuptools==80.9.0]
system: [c-compiler]
test: {script: "import demo"}
""" % ("ab" * 32)


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / f"{name}.yaml"
    path.write_text(text)
    return path


def test_real_recipes_load_for_python_311():
    recipes = load_all(python="3.11")
    assert {"numpy", "scipy", "scikit-image", "pillow", "torch", "torchvision", "flask",
            "waitress", "markupsafe"} <= set(recipes)
    assert recipes["numpy"].version.startswith("2.2.")  # 2.3+ would need a newer variant pick
    assert recipes["scipy"].version.startswith("1.15.")
    assert recipes["torchvision"].depends and "torch" in recipes["torchvision"].depends
    # torchvision minor = torch minor + 15
    torch_minor = int(recipes["torch"].version.split(".")[1])
    assert int(recipes["torchvision"].version.split(".")[1]) == torch_minor + 15


def test_variant_follows_python():
    assert load_all(python="3.12")["numpy"].version.startswith("2.3.")


def test_system_names_are_profile_package_keys():
    keys = set.intersection(*(set(p.packages) for p in all_profiles().values()))
    assert SYSTEM_REQUIREMENTS <= keys
    for recipe in load_all().values():
        assert set(recipe.system) <= keys, recipe.name


def test_torch_recipe_carries_riscv64_settings():
    env = load_all()["torch"].env
    for key in ("USE_CUDA", "USE_MKLDNN", "USE_FBGEMM", "USE_XNNPACK", "BUILD_TEST"):
        assert env[key] == "0"
    assert env["BLAS"] == "OpenBLAS" and env["MAX_JOBS"] == "{jobs}"


def test_good_recipe_loads(tmp_path):
    recipe = load_recipe_file(write(tmp_path, "demo", GOOD))
    assert recipe.source.sha256 == "ab" * 32 and recipe.system == ("c-compiler",)
    assert len(recipe.digest) == 64


@pytest.mark.parametrize("old, new, message", [
    ("sha256: " + "ab" * 32, "sha256: 1234", "source.sha256: expected a string matching [0-9a-fA-F]{64}"),
    ("[c-compiler]", "[fortran-compiler]", "system[0]: expected one of: c-compiler, cmake,"),
    ("setuptools==80.9.0", "setuptools>=70", "build_requires[0]: 'setuptools>=70' must be pinned with =="),
    ("setuptools==80.9.0", "setuptools==", "build_requires[0]: 'setuptools==' is not a requirement"),
    ("kind: sdist", "kind: ftp", "source.kind: expected one of: sdist, wheel, git, local, archives, got 'ftp'"),
    ("kind: sdist, ", "", "source.kind: missing required field (one of: sdist, wheel, git, local, archives)"),
    ("filename: demo-1.0.tar.gz", "url: x", "source.url: unknown field"),
    ('version: "1.0"\n', "", "version: missing required field"),
    ('version: "1.0"', "version: 2.10", "version: expected a string or null, got 2.1 (a number)"),
    ("name: demo", "name: other", "name: 'other' must equal the file name 'demo'"),
    ("name: demo", "name: Demo", "name: expected a string matching [a-z0-9]"),
    ('test: {script: "import demo"}', "test: [1]", "test: expected a mapping, got a list"),
    ('test: {script: "import demo"}', "notes: x", "test: missing required field (a mapping)"),
    ('script: "import demo"', 'script: "import demo", requires: [pip]', "test.requires[0]: 'pip' must be pinned"),
    ("system: [c-compiler]", "system: [c-compiler]\nenvv: {A: b}", "envv: unknown field"),
    ("system: [c-compiler]", "env: {A: 1}", "env.A: expected a string, got 1 (an integer)"),
    ("system: [c-compiler]", "python: '>=3.1O'", "python: '>=3.1O' is not a version specifier"),
    ("system: [c-compiler]", "config_settings: {setup-args: [{a: b}]}", "config_settings.setup-args[0]: "
                                                                        "expected a string, got a mapping"),
    ("system: [c-compiler]", "patches: [{file: x.patch, when: {arch: [riscv64]}}]",
     "patches[0].when.arch: unknown field"),
    ("system: [c-compiler]", "library: {package: demo_libs, script: make, flavours: [{name: generic, machine: "
                             "x86_64, compiler: {flags: -mavx2}}]}",
     "library.flavours[0].compiler: flavour 'generic' needs no CPU extension, so it may be the fallback"),
    ("schema: 1\n", "", "schema: missing (it reads recipe schema 1)"),
    ("schema: 1", "schema: 2\nfuture_field: x", "schema: 2 is not a schema this tool reads (it reads recipe schema 1)"),
    ("schema: 1", "schema: true", "schema: True is not a schema this tool reads"),
])
def test_bad_recipe_names_file_and_field(tmp_path, old, new, message):
    path = write(tmp_path, "demo", GOOD.replace(old, new))
    with pytest.raises(ConfigError) as err:
        load_recipe_file(path)
    assert err.value.message.startswith(f"{path}: ")
    assert message in err.value.message
    assert err.value.hint


def test_a_number_for_text_says_to_quote_it_and_a_typo_gets_a_suggestion(tmp_path):
    with pytest.raises(ConfigError) as err:
        load_recipe_file(write(tmp_path, "demo", GOOD.replace('"1.0"', "2.10")))
    assert "quote it" in err.value.hint
    with pytest.raises(ConfigError) as err:
        load_recipe_file(write(tmp_path, "demo", GOOD.replace("build_requires", "build_require")))
    assert err.value.message.endswith("demo.yaml: build_require: unknown field")
    assert err.value.hint.startswith("did you mean 'build_requires'?")


def test_variant_fields_are_checked_and_named(tmp_path):
    variant = "variants:\n  - python: '>=3.0'\n    version: '2.0'\n    sources: {}\n"
    with pytest.raises(ConfigError, match=r"demo.yaml: variants\[0\].sources: unknown field"):
        load_recipe_file(write(tmp_path, "demo", GOOD + variant))
    no_cover = GOOD.replace('version: "1.0"\n', "") + "variants:\n  - {python: '<3', version: '0.1'}\n"
    with pytest.raises(ConfigError, match=r"demo.yaml: variants: no variant covers Python 3.11"):
        load_recipe_file(write(tmp_path, "demo", no_cover), "3.11")


def test_unknown_dependency_is_named(tmp_path):
    write(tmp_path, "demo", GOOD + "depends: [nothere]\n")
    with pytest.raises(ConfigError, match=r"demo.yaml: depends: no recipe named 'nothere'"):
        load_all(tmp_path)


def test_unquoted_numeric_commit_is_caught(tmp_path):
    text = ('schema: 1\nname: demo\nversion: "1"\nsource: {kind: git, url: file:///x, tag: v1, commit: 0000}\n'
            'test: {script: pass}\n')
    with pytest.raises(ConfigError, match=r"source.commit: expected a string matching .*, got 0 "):
        load_recipe_file(write(tmp_path, "demo", text))


def test_missing_patch_file_is_named(tmp_path):
    path = write(tmp_path, "demo", GOOD + "patches: [{file: fix.patch}]\n")
    with pytest.raises(ConfigError, match=r"patches\[0\]\.file: .*fix.patch does not exist"):
        load_recipe_file(path)


def test_yaml_syntax_error_names_file(tmp_path):
    path = write(tmp_path, "demo", "name: [unclosed\n")
    with pytest.raises(ConfigError, match=r"demo.yaml: line 2, column 1: invalid YAML"):
        load_recipe_file(path)


def test_unreadable_recipe_names_file(tmp_path):
    path = tmp_path / "demo.yaml"
    path.write_bytes(b"schema: 1\nname: \xff\n")
    with pytest.raises(ConfigError, match=r"demo.yaml: cannot read: not UTF-8 text"):
        load_recipe_file(path)
    with pytest.raises(ConfigError, match=r"demo.yaml: expected a mapping of fields at the top level"):
        load_recipe_file(write(tmp_path, "demo", "- schema: 1\n"))


def test_bad_recipe_stops_build_wheels_with_one_error_line(tmp_path):
    recipes = tmp_path / "recipes"
    recipes.mkdir()
    write(recipes, "demo", GOOD.replace('version: "1.0"', "version: 2.10"))
    proc = invoke("build-wheels", "--dry-run", "--recipes", str(recipes), "--profile", "debian-x86_64")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    first, *rest = proc.stderr.splitlines()
    assert first == (f"error: {recipes / 'demo.yaml'}: version: expected a string or null, "
                     "got 2.1 (a number)")
    assert rest == ['  fix: give version a string or null (quote it so YAML keeps it as text)']
