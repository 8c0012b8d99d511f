"""Model discovery and loading: path precedence, checkpoint dir / file / TorchScript, clear errors."""

from __future__ import annotations

import shutil
import zipfile

import numpy as np
import pytest
import torch
from PIL import Image

from magiceraser.engine import load_engine
from magiceraser.errors import ModelError
from magiceraser.lama.ffc import FFCResNetGenerator
from magiceraser.lama.jit import native_generator
from magiceraser.lama.loader import load_generator
from magiceraser.lama.tiling import Tiling
from magiceraser.lama.weights.config import BIG_LAMA
from magiceraser.modelpath import resolve_model_path
from magiceraser.strategy import InpaintOptions

INFO_KEYS = {"engine", "model_path", "model_digest", "model_missing_hint", "torch_version", "threads", "mkldnn",
             "pixels_per_second"}


@pytest.fixture
def clean_env(tmp_path, monkeypatch):
    monkeypatch.setenv("MAGICERASER_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("MAGICERASER_MODEL", raising=False)
    return tmp_path


@pytest.fixture(scope="module")
def reference_pair(lama_reference):
    rgb = np.asarray(Image.open(lama_reference / "image.png").convert("RGB"))
    mask = np.asarray(Image.open(lama_reference / "mask.png").convert("L")) > 0
    return rgb, mask, np.load(lama_reference / "golden.npz")["result_uint8"]


def test_precedence_explicit_then_env_then_data_dir(clean_env, monkeypatch):
    assert resolve_model_path(None) is None
    installed = clean_env / "home" / "models" / "big-lama"
    (installed / "models").mkdir(parents=True)
    (installed / "config.yaml").write_text("generator: {}\n")
    assert resolve_model_path(None) == installed
    monkeypatch.setenv("MAGICERASER_MODEL", str(clean_env / "env.pt"))
    assert resolve_model_path(None) == clean_env / "env.pt"
    assert resolve_model_path(str(clean_env / "cli")) == clean_env / "cli"


def test_xdg_data_home_is_used_when_magiceraser_home_is_unset(tmp_path, monkeypatch):
    monkeypatch.delenv("MAGICERASER_HOME", raising=False)
    monkeypatch.delenv("MAGICERASER_MODEL", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    jit = tmp_path / "magiceraser" / "models" / "big-lama.pt"
    jit.parent.mkdir(parents=True)
    jit.write_bytes(b"x")
    assert resolve_model_path(None) == jit


def test_checkpoint_dir_and_file_reproduce_golden(lama_reference, reference_pair, clean_env):
    rgb, mask, golden = reference_pair
    for path in (lama_reference / "tiny-lama", lama_reference / "tiny-lama" / "models" / "best.ckpt"):
        engine = load_engine(path, threads=1)
        info = engine.info()
        assert engine.name == "lama" and set(info) == INFO_KEYS
        assert info["pixels_per_second"] > 0 and info["model_digest"].startswith("sha256:")
        out = engine.inpaint(rgb, mask, InpaintOptions(strategy="original"))
        assert np.abs(out.astype(int) - golden).max() <= 1
        assert np.array_equal(out[~mask], rgb[~mask])


class _Composited(torch.nn.Module):
    """What IOPaint's big-lama.pt is: (image, mask) -> mask*pred + (1-mask)*image."""

    def __init__(self, generator):
        super().__init__()
        self.generator = generator

    def forward(self, image, mask):
        pred = self.generator(torch.cat([image * (1 - mask), mask], dim=1))
        return mask * pred + (1 - mask) * image


def test_torchscript_model_runs_through_the_same_pipeline(lama_reference, reference_pair, tmp_path, clean_env):
    rgb, mask, golden = reference_pair
    generator = load_generator(lama_reference / "tiny-lama", Tiling(None))
    example = (torch.rand(1, 3, 80, 104), torch.zeros(1, 1, 80, 104))
    with torch.no_grad():
        traced = torch.jit.trace(_Composited(generator), example, check_trace=False)
    traced.save(str(tmp_path / "big-lama.pt"))
    engine = load_engine(tmp_path / "big-lama.pt", threads=1, warm_up=False)
    out = engine.inpaint(rgb, mask, InpaintOptions(strategy="original"))
    assert np.abs(out.astype(int) - golden).max() <= 1


@pytest.mark.parametrize("kind,problem", [("junk", "not a readable model file"), ("truncated", "truncated"),
                                          ("broken-archive", "not a loadable TorchScript model")])
def test_corrupt_model_file_is_named(tmp_path, clean_env, kind, problem):
    bad = tmp_path / "big-lama.pt"
    if kind == "junk":
        bad.write_bytes(b"not a zip at all")
    elif kind == "truncated":
        good = tmp_path / "good.pt"
        torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), str(good))
        bad.write_bytes(good.read_bytes()[:-200])
    else:
        with zipfile.ZipFile(bad, "w") as archive:
            archive.writestr("big-lama/constants.pkl", b"garbage")
            archive.writestr("big-lama/code/__torch__.py", b"garbage")
    with pytest.raises(ModelError) as err:
        load_engine(bad, warm_up=False)
    assert str(bad) in str(err.value) and problem in str(err.value)


def test_missing_explicit_model_is_an_error_not_a_fallback(clean_env):
    with pytest.raises(ModelError, match="no such file"):
        load_engine(clean_env / "nowhere" / "big-lama")


def test_directory_without_checkpoint_explains_the_layout(tmp_path, lama_reference, clean_env):
    model = tmp_path / "big-lama"
    model.mkdir()
    shutil.copy(lama_reference / "tiny-lama" / "config.yaml", model / "config.yaml")
    with pytest.raises(ModelError, match="models/best.ckpt"):
        load_engine(model, warm_up=False)


def test_bad_inputs_are_rejected_clearly(lama_reference):
    engine = load_engine(lama_reference / "tiny-lama", warm_up=False)
    with pytest.raises(ValueError, match="same size"):
        engine.inpaint(np.zeros((10, 10, 3), np.uint8), np.zeros((10, 12), bool))
    with pytest.raises(ValueError, match="uint8"):
        engine.inpaint(np.zeros((10, 10, 3), np.float32), np.zeros((10, 10), bool))


def test_scripted_big_lama_weights_move_into_the_banded_generator():
    """A TorchScript trace of big-lama keeps the generator's names: its weights are reused natively."""
    torch.manual_seed(0)
    wrapper = _Composited(FFCResNetGenerator(BIG_LAMA))
    native = native_generator(wrapper, Tiling())
    assert native is not None and native.tiling == Tiling()
    for (key, mine), theirs in zip(native.state_dict().items(), wrapper.generator.state_dict().values(), strict=True):
        assert torch.equal(mine, theirs), key
        assert mine.data_ptr() == theirs.data_ptr(), f"{key} was copied: two copies of the weights in memory"
    assert native_generator(torch.nn.Linear(2, 2), Tiling()) is None


def test_checkpoint_weights_are_not_copied(lama_reference, monkeypatch):
    """The generator holds the tensors read from the checkpoint, not a copy of them."""
    from magiceraser.lama import loader

    read = {}
    generator_state = loader.generator_state
    monkeypatch.setattr(loader, "generator_state", lambda *args: read.setdefault("state", generator_state(*args)))
    model = load_generator(lama_reference / "tiny-lama")
    held = model.state_dict()
    assert held.keys() == read["state"].keys()
    assert all(held[key].data_ptr() == tensor.data_ptr() for key, tensor in read["state"].items())
    assert not any(p.is_meta or p.requires_grad for p in model.parameters())


def test_release_zip_is_recognised_and_the_install_command_given(tmp_path, clean_env, lama_reference):
    archive = tmp_path / "big-lama.zip"
    with zipfile.ZipFile(archive, "w") as out:
        out.write(lama_reference / "tiny-lama" / "config.yaml", "big-lama/config.yaml")
        out.write(lama_reference / "tiny-lama" / "models" / "best.ckpt", "big-lama/models/best.ckpt")
    with pytest.raises(ModelError, match="release archive") as err:
        load_engine(archive, warm_up=False)
    assert f"invoke fetch-model --from {archive}" in str(err.value)
