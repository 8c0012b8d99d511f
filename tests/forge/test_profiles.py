from pathlib import Path

import pytest
from conftest import invoke

from rvforge.errors import ConfigError
from rvforge.host import facts, profiles


def test_os_release_parsing_handles_quotes_and_comments():
    text = '# c\nNAME="openEuler"\nID=openEuler\nVERSION_ID="24.03"\nID_LIKE="rhel fedora"\n'
    fields = facts.parse_os_release(text)
    assert fields == {"NAME": "openEuler", "ID": "openEuler", "VERSION_ID": "24.03", "ID_LIKE": "rhel fedora"}


@pytest.mark.parametrize(
    "release, machine, expected",
    [
        ('ID=openEuler\nVERSION_ID="24.03"\n', "riscv64", "openeuler-riscv64"),
        ("ID=debian\n", "riscv64", "debian-riscv64"),
        ("ID=debian\n", "x86_64", "debian-x86_64"),
        ('ID=ubuntu\nID_LIKE=debian\n', "x86_64", "debian-x86_64"),
    ],
)
def test_profile_detected_from_sysroot_os_release(tmp_path: Path, monkeypatch, release, machine, expected):
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/os-release").write_text(release)
    monkeypatch.setenv("RVFORGE_MACHINE", machine)
    assert profiles.select(facts.detect(tmp_path)).name == expected


def test_unknown_host_names_the_choices(tmp_path: Path, monkeypatch):
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/os-release").write_text("ID=plan9\n")
    monkeypatch.setenv("RVFORGE_MACHINE", "mips")
    with pytest.raises(ConfigError) as err:
        profiles.select(facts.detect(tmp_path))
    assert "--profile" in str(err.value) and "openeuler-riscv64" in str(err.value)


def test_override_wins_and_unknown_override_is_refused():
    h = facts.detect()
    assert profiles.select(h, "openeuler-riscv64").packages["gfortran"] == "gcc-gfortran"
    with pytest.raises(ConfigError, match="unknown profile 'nope'"):
        profiles.select(h, "nope")


def test_malformed_profile_names_file_and_field(tmp_path: Path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ndescription: y\n")
    with pytest.raises(ConfigError) as err:
        profiles.load_profile_file(bad)
    assert f"{bad}: match: missing required field (a mapping)" in str(err.value)


def test_install_hint_uses_distro_names():
    oe = profiles.all_profiles()["openeuler-riscv64"]
    assert oe.install_hint("gfortran", "openblas") == "sudo dnf install -y gcc-gfortran openblas-devel"


GOOD_PROFILE = (profiles.PROFILES_DIR / "openeuler-riscv64.yaml").read_text()


@pytest.mark.parametrize("old, new, message", [
    ("match:\n  os_ids: [openEuler, openeuler]\n  machines: [riscv64]", "match: [a]",
     "match: expected a mapping, got a list"),
    ("machines: [riscv64]", "machines: riscv64", "match.machines: expected a list of strings, got 'riscv64'"),
    ("torch_provider: wheelhouse", "torch_provider: pip",
     "torch_provider: expected one of: wheelhouse, system, got 'pip'"),
    ("torch_provider: wheelhouse", "torch_provider: wheelhouse\nextra: {}", "extra: unknown field"),
    ('python: "3.11"', "python: 3.11", "python: expected a string matching"),
    ('python: "3.11"', 'python: "py3"', "python: expected a string matching [0-9]+(\\.[0-9]+)?, got 'py3'"),
    ("  lib_dirs:", "  lib_dir:", "layout.lib_dir: unknown field"),
    ("  gfortran: gcc-gfortran", "  gfortran: [gcc-gfortran]", "packages.gfortran: expected a string, got a list"),
    ('"sudo dnf install -y {packages}"', '"sudo dnf install -y {pkgs}"',
     "install_command: 'sudo dnf install -y {pkgs}' must contain {packages} and no other braces"),
    ('"sudo dnf install -y {packages}"', '"sudo dnf install -y"', "install_command: 'sudo dnf install -y' must"),
    ("layout:", "layouts:", "layouts: unknown field"),
])
def test_bad_profile_field_is_named(tmp_path: Path, old: str, new: str, message: str):
    assert old in GOOD_PROFILE
    bad = tmp_path / "bad.yaml"
    bad.write_text(GOOD_PROFILE.replace(old, new))
    with pytest.raises(ConfigError) as err:
        profiles.load_profile_file(bad)
    assert err.value.message.startswith(f"{bad}: ")
    assert message in err.value.message
    assert err.value.hint


def test_profile_typo_and_number_hints(tmp_path: Path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(GOOD_PROFILE.replace("  lib_dirs:", "  lib_dir:"))
    with pytest.raises(ConfigError) as err:
        profiles.load_profile_file(bad)
    assert err.value.hint.startswith("did you mean 'lib_dirs'?")
    bad.write_text(GOOD_PROFILE.replace("\nname: openeuler-riscv64", "\nname: 2.10"))
    with pytest.raises(ConfigError) as err:
        profiles.load_profile_file(bad)
    assert "name: expected a string, got 2.1 (a number)" in err.value.message
    assert "quote it" in err.value.hint


def test_malformed_and_unreadable_profiles(tmp_path: Path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nmatch: {os_ids: [a\n")
    with pytest.raises(ConfigError, match=r"bad.yaml: line \d+, column \d+: invalid YAML"):
        profiles.load_profile_file(bad)
    with pytest.raises(ConfigError, match=r"missing.yaml: cannot read: No such file"):
        profiles.select(facts.detect(), str(tmp_path / "missing.yaml"))


def test_profile_given_as_a_path_is_loaded(tmp_path: Path):
    mine = tmp_path / "mine.yaml"
    mine.write_text(GOOD_PROFILE.replace("name: openeuler-riscv64", "name: mine"))
    chosen = profiles.select(facts.detect(), str(mine))
    assert (chosen.name, chosen.path, chosen.torch_provider) == ("mine", mine, "wheelhouse")
    assert chosen.openblas_include_subdirs == ("openblas", "")


def test_layout_defaults_come_from_the_dataclass(tmp_path: Path):
    mine = tmp_path / "mine.yaml"
    mine.write_text("name: m\ndescription: d\nmatch: {}\ninstall_command: 'x {packages}'\n"
                    "packages: {}\nlayout: {}\npython: '3'\n")
    profile = profiles.load_profile_file(mine)
    assert (profile.os_ids, profile.lib_dirs, profile.openblas_include_subdirs) == ((), (), ("",))
    assert profile.torch_provider == "wheelhouse"


def test_bad_profile_stops_doctor_with_one_error_line(tmp_path: Path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(GOOD_PROFILE.replace("match:\n  os_ids: [openEuler, openeuler]\n  machines: [riscv64]",
                                        "match: [a]"))
    proc = invoke("doctor", "--profile", str(bad))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    first, *rest = proc.stderr.splitlines()
    assert first == f"error: {bad}: match: expected a mapping, got a list"
    assert rest == ["  fix: give match a mapping"]
