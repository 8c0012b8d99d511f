"""Parameter names and shapes of big-lama match the official manifest (989 entries, in order)."""

from __future__ import annotations

from dataclasses import replace

from magiceraser.lama.ffc import FFCResNetGenerator
from magiceraser.lama.weights.config import BIG_LAMA, load_config
from magiceraser.lama.weights.spec import expected_entries, format_shape


def _manifest(lama_reference) -> list[list[str]]:
    lines = (lama_reference / "big-lama-keys.tsv").read_text().splitlines()
    return [line.split("\t") for line in lines[1:] if not line.startswith("#")]


def test_big_lama_model_state_dict_matches_manifest(lama_reference):
    model = FFCResNetGenerator(BIG_LAMA)
    mine = [[f"generator.{key}", format_shape(tuple(t.shape)), str(t.dtype).removeprefix("torch.")]
            for key, t in model.state_dict().items()]
    assert len(mine) == 989
    assert mine == _manifest(lama_reference)


def test_big_lama_is_the_tiny_config_with_ngf_64_and_18_blocks(lama_reference):
    tiny = load_config(lama_reference / "tiny-lama" / "config.yaml")
    assert (tiny.ngf, tiny.n_blocks) == (8, 2)
    big = replace(tiny, ngf=64, n_blocks=18)
    assert [[k, format_shape(s), d] for k, s, d in expected_entries(big)] == _manifest(lama_reference)
