"""Manifest and wheel publishing: atomic, verifiable, normalized."""

from __future__ import annotations

import json
import zipfile

from rvforge.build.wheelhouse import Wheelhouse, normalize_wheel
from rvforge.common import sha256_file


def make_wheel(path, stamp=(2020, 1, 1, 0, 0, 0), order=("pkg/a.py", "pkg/b.py")):
    with zipfile.ZipFile(path, "w") as zf:
        for name in order:
            zf.writestr(zipfile.ZipInfo(name, stamp), f"# {name}\n")
        zf.writestr(zipfile.ZipInfo("pkg-1.0.dist-info/RECORD", stamp), "junk\n")
    return path


def test_normalize_is_independent_of_time_and_order(tmp_path):
    one = make_wheel(tmp_path / "one.whl")
    two = make_wheel(tmp_path / "two.whl", (2024, 5, 6, 7, 8, 10), ("pkg/b.py", "pkg/a.py"))
    normalize_wheel(one, tmp_path / "n1.whl", 1700000000)
    normalize_wheel(two, tmp_path / "n2.whl", 1700000000)
    assert sha256_file(tmp_path / "n1.whl") == sha256_file(tmp_path / "n2.whl")
    with zipfile.ZipFile(tmp_path / "n1.whl") as zf:
        names = zf.namelist()
        assert names[-1].endswith("RECORD")
        record = zf.read(names[-1]).decode()
    assert "pkg/a.py,sha256=" in record and record.index("pkg/a.py") < record.index("pkg/b.py")


def test_add_records_and_verifies(tmp_path):
    house = Wheelhouse(tmp_path / "wh").load()
    wheel = make_wheel(tmp_path / "pkg-1.0-py3-none-any.whl")
    dest = house.add(wheel, {"name": "pkg", "version": "1.0", "cache_key": "k1"}, epoch=1700000000)
    manifest = json.loads((tmp_path / "wh" / "manifest.json").read_text())
    assert manifest["wheels"]["pkg"]["sha256"] == sha256_file(dest)
    again = Wheelhouse(tmp_path / "wh").load()
    assert again.status("pkg", "k1") == "current"
    assert again.status("pkg", "k2") == "changed"
    assert again.status("other", "k1") == "missing"
    dest.write_bytes(b"tampered")
    assert again.status("pkg", "k1") == "corrupt"
    assert not list((tmp_path / "wh").glob(".partial-*"))


def test_published_wheel_keeps_its_bytes(tmp_path):
    house = Wheelhouse(tmp_path / "wh").load()
    wheel = make_wheel(tmp_path / "pkg-1.0-py3-none-any.whl")
    dest = house.add(wheel, {"name": "pkg", "version": "1.0", "cache_key": "k"}, epoch=None)
    assert sha256_file(dest) == sha256_file(wheel)


def test_damaged_manifest_is_set_aside(tmp_path, capsys):
    (tmp_path / "wh").mkdir()
    (tmp_path / "wh" / "manifest.json").write_text('{"wheels": {')
    (tmp_path / "wh" / ".partial-x.whl").write_bytes(b"half")
    house = Wheelhouse(tmp_path / "wh").load()
    assert house.entries == {}
    assert list((tmp_path / "wh").glob("manifest.json.damaged-*"))
    assert not (tmp_path / "wh" / ".partial-x.whl").exists()
    assert "could not be read" in capsys.readouterr().err
