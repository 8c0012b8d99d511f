"""magiceraser.lama.weights checks a model where neither torch nor numpy is installed (fetch-model's venv)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from blocked_imports import run_without

WITHOUT = ("torch", "numpy")

CHECK_MODELS = """
import json

import magiceraser.lama.weights as weights
from magiceraser.errors import ModelError
from magiceraser.lama.weights import checkpoint_index, config, spec

shapes = weights.verify_model_dir(sys.argv[1])
try:
    weights.verify_model_dir(sys.argv[2])
except ModelError as exc:
    refused = {"path": str(exc.path), "problem": exc.problem}
expected = spec.expected_shapes(config.load_config(sys.argv[1] + "/config.yaml"))
print(json.dumps({
    "entries": len(shapes),
    "first_conv": shapes["generator.model.1.ffc.convl2l.weight"],
    "matches_spec": list(shapes) == list(expected) == list(checkpoint_index.generator_shapes(
        sys.argv[1] + "/models/best.ckpt")),
    "refused": refused,
    "loaded": sorted(name for name in sys.modules if name.split(".")[0] in BLOCKED),
}))
"""


def test_weights_verify_a_model_without_torch_or_numpy(lama_reference: Path, tmp_path: Path):
    (tmp_path / "models").mkdir()
    proc = run_without(WITHOUT, CHECK_MODELS, str(lama_reference / "tiny-lama"), str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["entries"] == 157 and result["first_conv"] == [8, 4, 7, 7] and result["matches_spec"]
    assert result["refused"] == {"path": str(tmp_path / "models" / "best.ckpt"), "problem": "file not found"}
    assert result["loaded"] == []


@pytest.mark.parametrize("module", WITHOUT)
def test_the_child_really_has_no_torch_or_numpy(module: str):
    proc = run_without(WITHOUT, f"import {module}")
    assert proc.returncode != 0 and f"ModuleNotFoundError: No module named '{module}'" in proc.stderr
