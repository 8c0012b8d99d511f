"""Recipe loading and validation: the real recipe set, and bad recipes named by file and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from rvforge.build.recipes import SYSTEM_REQUIREMENTS, load_all, load_recipe_file
from rvforge.errors import ConfigError
from rvforge.host.profiles import all_profiles

GOOD = """\
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


@pytest.mark.parametrize("old, new, field", [
    ("sha256: " + "ab" * 32, "sha256: 1234", "source.sha256"),
    ("[c-compiler]", "[fortran-compiler]", "system"),
    ("setuptools==80.9.0", "setuptools>=70", "build_requires"),
    ("kind: sdist", "kind: ftp", "source.kind"),
    ('version: "1.0"\n', "", "version"),
    ("name: demo", "name: other", "name"),
    ('test: {script: "import demo"}', "test: [1]", "test"),
    ("system: [c-compiler]", "system: [c-compiler]\nenvv: {A: b}", "envv"),
])
def test_bad_recipe_names_file_and_field(tmp_path, old, new, field):
    path = write(tmp_path, "demo", GOOD.replace(old, new))
    with pytest.raises(ConfigError) as err:
        load_recipe_file(path)
    assert str(path) in str(err.value)
    assert f"field '{field}'" in str(err.value)


def test_unknown_dependency_is_named(tmp_path):
    write(tmp_path, "demo", GOOD + "depends: [nothere]\n")
    with pytest.raises(ConfigError, match=r"demo.yaml: field 'depends': no recipe named 'nothere'"):
        load_all(tmp_path)


def test_unquoted_numeric_commit_is_caught(tmp_path):
    text = ('name: demo\nversion: "1"\nsource: {kind: git, url: file:///x, tag: v1, commit: 0000}\n'
            'test: {script: pass}\n')
    with pytest.raises(ConfigError, match="source.commit"):
        load_recipe_file(write(tmp_path, "demo", text))


def test_missing_patch_file_is_named(tmp_path):
    path = write(tmp_path, "demo", GOOD + "patches: [{file: fix.patch}]\n")
    with pytest.raises(ConfigError, match=r"patches\[0\]\.file"):
        load_recipe_file(path)


def test_yaml_syntax_error_names_file(tmp_path):
    path = write(tmp_path, "demo", "name: [unclosed\n")
    with pytest.raises(ConfigError, match="demo.yaml"):
        load_recipe_file(path)
