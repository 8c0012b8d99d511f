"""``magiceraser erase`` on real files with the tiny LaMa model; entry points; argument errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from eraser_samples import box_mask, decode, encode, photo
from live_server import serve_command

from magiceraser.cli import main


def _erase(tiny_model: Path, *args: str) -> int:
    return main(["erase", *args, "--model", str(tiny_model), "--strategy", "original"])


@pytest.fixture
def folder(tmp_path: Path) -> tuple[Path, Path]:
    """photos/: two good images, one corrupt, one without a mask, a note; masks/: matched by stem."""
    photos, masks = tmp_path / "photos", tmp_path / "masks"
    photos.mkdir()
    masks.mkdir()
    (photos / "beach.png").write_bytes(encode(photo(48, 64)))
    (photos / "street.jpg").write_bytes(encode(photo(40, 56), "JPEG", quality=90))
    jpeg = encode(photo(40, 56), "JPEG")
    (photos / "broken.jpg").write_bytes(jpeg[: len(jpeg) // 2])
    (photos / "nomask.png").write_bytes(encode(photo(40, 40)))
    (photos / "notes.txt").write_text("not an image")
    (masks / "beach.png").write_bytes(encode(box_mask(48, 64)))
    (masks / "street.png").write_bytes(encode(box_mask(40, 56)))
    (masks / "broken.png").write_bytes(encode(box_mask(40, 56)))
    return photos, masks


def test_folder_with_a_corrupt_file(tiny_model, folder, tmp_path, capsys):
    photos, masks = folder
    before = {p.name: p.read_bytes() for p in photos.iterdir()}
    out = tmp_path / "out"
    assert _erase(tiny_model, str(photos), "--mask", str(masks), "-o", str(out)) == 1
    err = capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["beach.png", "street.jpg"]
    assert "broken.jpg: FAILED" in err and "truncated or corrupt" in err
    assert "nomask.png: FAILED (no mask named nomask.*" in err
    assert "4/4" in err and "erased 2 of 4 image(s)" in err
    assert "notes.txt" not in err
    assert {p.name: p.read_bytes() for p in photos.iterdir()} == before
    result = np.asarray(decode((out / "beach.png").read_bytes()))
    original = photo(48, 64)
    hole = box_mask(48, 64)
    assert np.array_equal(result[~hole], original[~hole]) and not np.array_equal(result[hole], original[hole])
    assert decode((out / "street.jpg").read_bytes()).format == "JPEG"
    assert not list(out.glob(".*part"))


def test_one_mask_for_every_image(tiny_model, tmp_path, capsys):
    photos = tmp_path / "photos"
    photos.mkdir()
    for name in ("a.png", "b.png"):
        (photos / name).write_bytes(encode(photo(32, 48)))
    mask = tmp_path / "watermark.png"
    mask.write_bytes(encode(box_mask(32, 48)))
    assert _erase(tiny_model, str(photos), "--mask", str(mask), "-o", str(tmp_path / "out")) == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.png", "b.png"]
    assert "erased 2 of 2" in capsys.readouterr().err


def test_single_file_and_output_name_checks(tiny_model, tmp_path, capsys):
    image, mask = tmp_path / "cat.png", tmp_path / "cat-mask.png"
    image.write_bytes(encode(photo(32, 32)))
    mask.write_bytes(encode(box_mask(32, 32)))
    assert _erase(tiny_model, str(image), "--mask", str(mask), "-o", str(tmp_path / "clean.png")) == 0
    assert decode((tmp_path / "clean.png").read_bytes()).size == (32, 32)
    assert _erase(tiny_model, str(image), "--mask", str(mask), "-o", str(tmp_path / "clean.jpg")) == 1
    assert "names a JPEG file but the image is PNG" in capsys.readouterr().err
    assert not (tmp_path / "clean.jpg").exists()
    original = mask.read_bytes()
    assert _erase(tiny_model, str(image), "--mask", str(mask), "-o", str(mask)) == 1
    assert "would overwrite an input" in capsys.readouterr().err
    assert mask.read_bytes() == original


def test_usage_errors_exit_2(tiny_model, folder, tmp_path, capsys):
    photos, masks = folder
    assert _erase(tiny_model, str(photos), "--mask", str(masks), "-o", str(photos)) == 2
    assert "is the input directory" in capsys.readouterr().err
    assert _erase(tiny_model, str(tmp_path / "missing"), "--mask", str(masks), "-o", str(tmp_path / "o")) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["erase", str(photos), "--mask", str(masks), "-o", str(tmp_path / "o"),
                 "--model", str(tmp_path / "no-model-here")]) == 2
    assert "error" in capsys.readouterr().err.lower()
    assert _erase(tiny_model, str(photos), "--mask", str(masks), "-o", str(tmp_path / "o"), "--crop-margin", "-5") == 2
    assert "crop_margin" in capsys.readouterr().err


def test_entry_points():
    """The console script and ``python -m magiceraser`` both answer; bench is delegated."""
    for command in (serve_command(), [sys.executable, "-m", "magiceraser"]):
        proc = subprocess.run([*command, "--help"], capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
        assert all(word in proc.stdout for word in ("erase", "serve", "bench"))
    proc = subprocess.run([*serve_command(), "serve", "--help"], capture_output=True, text=True, timeout=60)
    assert "--no-mkldnn" in proc.stdout and "7777" in proc.stdout
    proc = subprocess.run([*serve_command(), "bench", "--help"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "usage: magiceraser bench" in proc.stdout
