"""README.md stays true: its troubleshooting section is what the tool says, and CI runs the
test command it gives."""

import re

import pytest

from rvforge.errors import ConfigError
from rvforge.tasks import readme


def test_troubleshooting_section_is_generated_from_doctor_and_diagnoses():
    readme.main(check=True)  # raises when stale: run `invoke readme`
    text = readme.README.read_text()
    assert "sudo dnf install -y gcc-gfortran" in text and "invoke doctor --fix" in text


def test_stale_section_is_detected(tmp_path, monkeypatch):
    stale = tmp_path / "README.md"
    stale.write_text(f"intro\n{readme.BEGIN}\nold text\n{readme.END}\n")
    monkeypatch.setattr(readme, "README", stale)
    with pytest.raises(ConfigError, match="stale"):
        readme.main(check=True)
    readme.main()
    readme.main(check=True)
    assert stale.read_text().startswith("intro\n") and "old text" not in stale.read_text()


def test_ci_runs_the_readme_test_command(repo_root):
    commands = re.findall(r"^(bash ci/\S+)", (repo_root / "README.md").read_text(), re.M)
    assert commands[:2] == ["bash ci/setup.sh", "bash ci/test.sh"]
    assert "bash ci/test.sh" in (repo_root / ".ci/run").read_text()
