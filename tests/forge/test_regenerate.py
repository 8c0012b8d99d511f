"""README.md stays true: its generated sections are what the tool says, and CI runs the
test command it gives."""

import re
import subprocess
from pathlib import Path

import pytest

from rvforge import environment
from rvforge.errors import ConfigError
from rvforge.tasks import regenerate


def test_troubleshooting_section_is_generated_from_doctor_and_diagnoses():
    regenerate.main(check=True)  # raises when stale: run `invoke regenerate`
    text = regenerate.README.read_text()
    assert "sudo dnf install -y gcc-gfortran" in text and "invoke doctor --fix" in text


def test_stale_generated_files_are_detected_and_rewritten(tmp_path, monkeypatch, repo_root):
    stale = tmp_path / "README.md"
    sections = "".join(f"{begin}\nold text\n{end}\n" for begin, end in map(regenerate.marker, regenerate.SECTIONS))
    stale.write_text(f"intro\n{sections}")
    schema = tmp_path / "recipe.schema.json"
    monkeypatch.setattr(regenerate, "README", stale)
    monkeypatch.setattr(regenerate, "SCHEMA_FILE", schema)
    with pytest.raises(ConfigError, match=f"out of date: {stale}, {schema}"):
        regenerate.main(check=True)
    regenerate.main()
    regenerate.main(check=True)
    assert stale.read_text().startswith("intro\n") and "old text" not in stale.read_text()
    assert schema.read_text() == (repo_root / "recipes" / "recipe.schema.json").read_text()


def test_ci_runs_the_readme_test_command(repo_root):
    commands = re.findall(r"^(bash ci/\S+)", (repo_root / "README.md").read_text(), re.M)
    assert commands[:2] == ["bash ci/setup.sh", "bash ci/test.sh"]
    assert "bash ci/test.sh" in (repo_root / ".ci/run").read_text()


def test_every_variable_the_code_reads_is_in_the_table(repo_root):
    """Names read anywhere (Python or shell, tool, app, CI) are listed; the tool reads them via the table."""
    listed = {v.name for v in environment.VARIABLES}
    tracked = subprocess.run(["git", "ls-files", "rvforge", "app", "ci", "tests", ".ci", "tasks.py"], cwd=repo_root,
                             capture_output=True, text=True, check=True).stdout.split()
    files = [path for name in tracked
             if Path(name).suffix in (".py", ".sh", "") and (path := repo_root / name).is_file()]
    used = {name for p in files for name in re.findall(r"\b((?:RVFORGE|MAGICERASER)_[A-Z0-9_]+)", p.read_text())}
    assert used - listed == set(), "add them to rvforge/environment.py"
    reads_directly = re.compile(r"environ(\.get\(|\[)\"(RVFORGE|MAGICERASER)_")
    direct = [str(p) for p in (repo_root / "rvforge").rglob("*.py")
              if p.name != "environment.py" and reads_directly.search(p.read_text())]
    assert not direct, "read them with rvforge.environment.get"
    assert environment.markdown_table() in (repo_root / "README.md").read_text()
