"""Package names as recipes and the wheelhouse spell them, from requirement lines and wheel files."""

from __future__ import annotations

from pathlib import Path

import pytest

from rvforge.ontarget import wheeltags
from rvforge.ontarget.wheeltags import parse_wheel_name, project_name


@pytest.mark.parametrize("text, name", [
    ("Flask>=3", "flask"), ("PyYAML", "pyyaml"), ("  numpy ==2.3.5", "numpy"),
    ('typing_extensions; python_version < "3.10"', "typing-extensions"), ("requests[socks]>=2", "requests"),
    ("torch", "torch"),
])
def test_project_name_of_a_requirement(text, name):
    assert project_name(text) == name


def test_wheel_file_names_use_the_same_spelling():
    wheel = parse_wheel_name(Path("Typing_Extensions-4.12.2-py3-none-any.whl"))
    assert wheel is not None and wheel.project == project_name("typing_extensions>=4")


def test_library_wheels_are_found_by_their_tag():
    names = ["openblas-0.3.34-py3-none-linux_riscv64.whl", "numpy-2.2.6-cp311-cp311-linux_riscv64.whl",
             "flask-3.1.1-py3-none-any.whl", "shout-1.0-py3-none-linux_x86_64.whl", "notes.txt"]
    assert wheeltags.library_wheels([Path(n) for n in names]) == ["openblas", "shout"]
