from pathlib import Path

import pytest

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
    assert str(bad) in str(err.value) and "match" in str(err.value)


def test_install_hint_uses_distro_names():
    oe = profiles.all_profiles()["openeuler-riscv64"]
    assert oe.install_hint("gfortran", "openblas") == "sudo dnf install -y gcc-gfortran openblas-devel"
