"""Torch-free checkpoint inspection for fetch-model: shapes, truncation, corrupt pickles, foreign classes."""

from __future__ import annotations

import pickle
import shutil
import zipfile
from pathlib import Path

import pytest
import torch

from magiceraser.errors import CheckpointError, ConfigError
from magiceraser.lama.loader import load_generator
from magiceraser.lama.weights.checkpoint_index import (
    generator_shapes,
    read_shapes,
    verify_model_dir,
)
from magiceraser.lama.weights.config import load_config, resolve_generator
from magiceraser.lama.weights.spec import expected_shapes


class TrainerCallbackState:
    """Stands for a Lightning callback object stored in the checkpoint (not allowed by weights_only)."""

    def __init__(self) -> None:
        self.best_model_score = 0.5


def test_index_lists_every_tensor_with_its_shape(lama_reference):
    ckpt = lama_reference / "tiny-lama" / "models" / "best.ckpt"
    shapes = read_shapes(ckpt)
    state = torch.load(ckpt, map_location="cpu", weights_only=True)["state_dict"]
    assert shapes == {key: tuple(value.shape) for key, value in state.items()}
    expected = expected_shapes(load_config(lama_reference / "tiny-lama" / "config.yaml"))
    assert list(generator_shapes(ckpt)) == list(expected)


@pytest.mark.parametrize("keep", [0.3, 0.97])
def test_truncated_checkpoint_is_named_and_explained(lama_reference, tmp_path, keep):
    data = (lama_reference / "tiny-lama" / "models" / "best.ckpt").read_bytes()
    broken = tmp_path / "best.ckpt"
    broken.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(CheckpointError) as err:
        read_shapes(broken)
    assert str(broken) in str(err.value) and "fetch-model" in str(err.value)


def test_corrupt_pickle_is_reported(lama_reference, tmp_path):
    src = lama_reference / "tiny-lama" / "models" / "best.ckpt"
    bad = tmp_path / "best.ckpt"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(bad, "w") as zout:
        for info in zin.infolist():
            payload = zin.read(info)
            zout.writestr(info, payload[:40] + b"\xff\x00garbage" if info.filename.endswith("data.pkl") else payload)
    with pytest.raises(CheckpointError, match="corrupt data.pkl"):
        read_shapes(bad)
    with pytest.raises(CheckpointError, match="big-lama/models/best.ckpt: cannot read"):
        _load_from(tmp_path, bad, lama_reference)


def _load_from(tmp_path: Path, ckpt: Path, lama_reference: Path):
    model_dir = tmp_path / "big-lama"
    (model_dir / "models").mkdir(parents=True)
    shutil.copy(lama_reference / "tiny-lama" / "config.yaml", model_dir / "config.yaml")
    shutil.copy(ckpt, model_dir / "models" / "best.ckpt")
    return load_generator(model_dir)


def test_lightning_style_fields_load_without_executing_code(lama_reference, tmp_path):
    state = torch.load(lama_reference / "tiny-lama" / "models" / "best.ckpt", map_location="cpu", weights_only=True)
    state["callbacks"] = {TrainerCallbackState: TrainerCallbackState()}
    ckpt = tmp_path / "src.ckpt"
    torch.save(state, ckpt)
    with pytest.raises(pickle.UnpicklingError):
        torch.load(ckpt, map_location="cpu", weights_only=True)
    assert len(generator_shapes(ckpt)) == 157
    model = _load_from(tmp_path, ckpt, lama_reference)
    assert sum(p.numel() for p in model.parameters()) > 0


def test_mismatched_config_names_the_problem(lama_reference, tmp_path):
    model_dir = tmp_path / "big-lama"
    shutil.copytree(lama_reference / "tiny-lama", model_dir)
    (model_dir / "config.yaml").chmod(0o644)
    text = (model_dir / "config.yaml").read_text().replace("ngf: 8", "ngf: 64")
    (model_dir / "config.yaml").write_text(text)
    with pytest.raises(CheckpointError, match="shape"):
        verify_model_dir(model_dir)
    (model_dir / "config.yaml").write_text(text.replace("kind: ffc_resnet", "kind: pix2pixhd_global"))
    with pytest.raises(ConfigError, match="pix2pixhd_global"):
        load_config(model_dir / "config.yaml")


def test_only_generator_interpolations_are_resolved(lama_reference):
    import yaml

    config = yaml.safe_load((lama_reference / "tiny-lama" / "config.yaml").read_text())
    assert config["losses"]["resnet_pl"]["weights_path"] == "${env:TORCH_HOME}"  # left alone, never needed
    section = resolve_generator(config)
    assert section["downsample_conv_kwargs"] == {"ratio_gin": 0, "ratio_gout": 0, "enable_lfu": False}
    config["generator"]["resnet_conv_kwargs"]["ratio_gout"] = "${env:RATIO}"
    with pytest.raises(ConfigError, match="unsupported interpolation"):
        resolve_generator(config)
    config["generator"]["resnet_conv_kwargs"]["ratio_gout"] = "${generator.resnet_conv_kwargs.ratio_gout}"
    with pytest.raises(ConfigError, match="circular"):
        resolve_generator(config)
