"""Expected big-lama generator layout, computed from config.yaml alone (pure Python, torch-free).

One plan drives both the torch model (ffc.py) and the key/shape manifest used to verify a
downloaded checkpoint without torch (fetch-model runs where torch is not installed).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from .config import FFCRatios, GeneratorConfig

Shape = tuple[int, ...]


@dataclass(frozen=True)
class FFCSpec:
    """One FFC conv + BN + ReLU: local/global channel split on each side."""

    in_ch: int
    out_ch: int
    kernel: int
    stride: int
    padding: int
    ratios: FFCRatios

    @property
    def in_cg(self) -> int:
        return int(self.in_ch * self.ratios.ratio_gin)

    @property
    def in_cl(self) -> int:
        return self.in_ch - self.in_cg

    @property
    def out_cg(self) -> int:
        return int(self.out_ch * self.ratios.ratio_gout)

    @property
    def out_cl(self) -> int:
        return self.out_ch - self.out_cg


@dataclass(frozen=True)
class Layer:
    """One entry of the generator's ``model`` Sequential, by index."""

    kind: str  # pad | ffc | block | concat | up | bn | relu | conv | act
    ffc: FFCSpec | None = None
    in_ch: int = 0
    out_ch: int = 0
    size: int = 0  # pad width or kernel size
    act: str = ""


def layer_plan(cfg: GeneratorConfig) -> list[Layer]:
    """The generator's layers in module order (index in the list = index in ``model``)."""
    cap = cfg.max_features
    plan = [Layer("pad", size=3), Layer("ffc", FFCSpec(cfg.input_nc, cfg.ngf, 7, 1, 0, cfg.init))]
    for i in range(cfg.n_downsampling):
        ratios = cfg.downsample
        if i == cfg.n_downsampling - 1:
            ratios = FFCRatios(ratios.ratio_gin, cfg.resnet.ratio_gin, ratios.enable_lfu)
        in_ch, out_ch = min(cap, cfg.ngf * 2 ** i), min(cap, cfg.ngf * 2 ** (i + 1))
        plan.append(Layer("ffc", FFCSpec(in_ch, out_ch, 3, 2, 1, ratios)))
    dim = min(cap, cfg.ngf * 2 ** cfg.n_downsampling)
    plan += [Layer("block", FFCSpec(dim, dim, 3, 1, 1, cfg.resnet)) for _ in range(cfg.n_blocks)]
    plan.append(Layer("concat"))
    for i in range(cfg.n_downsampling):
        mult = 2 ** (cfg.n_downsampling - i)
        in_ch, out_ch = min(cap, cfg.ngf * mult), min(cap, int(cfg.ngf * mult / 2))
        plan += [Layer("up", in_ch=in_ch, out_ch=out_ch, size=3), Layer("bn", out_ch=out_ch), Layer("relu")]
    plan += [Layer("pad", size=3), Layer("conv", in_ch=cfg.ngf, out_ch=cfg.output_nc, size=7)]
    if cfg.add_out_act != "none":
        plan.append(Layer("act", act=cfg.add_out_act))
    return plan


def _bn(prefix: str, channels: int) -> Iterator[tuple[str, Shape, str]]:
    for name in ("weight", "bias", "running_mean", "running_var"):
        yield f"{prefix}.{name}", (channels,), "float32"
    yield f"{prefix}.num_batches_tracked", (), "int64"


def _ffc(prefix: str, spec: FFCSpec) -> Iterator[tuple[str, Shape, str]]:
    k = spec.kernel
    pairs = (("convl2l", spec.in_cl, spec.out_cl), ("convl2g", spec.in_cl, spec.out_cg),
             ("convg2l", spec.in_cg, spec.out_cl))
    for name, cin, cout in pairs:
        if cin and cout:
            yield f"{prefix}.ffc.{name}.weight", (cout, cin, k, k), "float32"
    if spec.in_cg and spec.out_cg:
        half = spec.out_cg // 2
        yield f"{prefix}.ffc.convg2g.conv1.0.weight", (half, spec.in_cg, 1, 1), "float32"
        yield from _bn(f"{prefix}.ffc.convg2g.conv1.1", half)
        yield f"{prefix}.ffc.convg2g.fu.conv_layer.weight", (2 * half, 2 * half, 1, 1), "float32"
        yield from _bn(f"{prefix}.ffc.convg2g.fu.bn", 2 * half)
        yield f"{prefix}.ffc.convg2g.conv2.weight", (spec.out_cg, half, 1, 1), "float32"
    if spec.out_cl:
        yield from _bn(f"{prefix}.bn_l", spec.out_cl)
    if spec.out_cg:
        yield from _bn(f"{prefix}.bn_g", spec.out_cg)


def expected_entries(cfg: GeneratorConfig, prefix: str = "generator.") -> list[tuple[str, Shape, str]]:
    """(key, shape, dtype) for every generator state_dict entry, in module order; shape () is a scalar."""
    entries: list[tuple[str, Shape, str]] = []
    for index, layer in enumerate(layer_plan(cfg)):
        base = f"{prefix}model.{index}"
        if layer.ffc is not None:  # an "ffc" layer, or a "block" of two such convs
            convs = [base] if layer.kind == "ffc" else [f"{base}.conv1", f"{base}.conv2"]
            for conv in convs:
                entries += _ffc(conv, layer.ffc)
        elif layer.kind in ("up", "conv"):
            k = layer.size
            shape = (layer.in_ch, layer.out_ch, k, k) if layer.kind == "up" else (layer.out_ch, layer.in_ch, k, k)
            entries += [(f"{base}.weight", shape, "float32"), (f"{base}.bias", (layer.out_ch,), "float32")]
        elif layer.kind == "bn":
            entries += _bn(base, layer.out_ch)
    return entries


def expected_shapes(cfg: GeneratorConfig, prefix: str = "generator.") -> dict[str, Shape]:
    """{key: shape} for the generator described by cfg (insertion order = module order)."""
    return {key: shape for key, shape, _ in expected_entries(cfg, prefix)}


def compare_shapes(expected: dict[str, Shape], found: dict[str, Shape]) -> list[str]:
    """Human-readable differences between the expected and a checkpoint's generator entries."""
    problems = [f"missing {key} {format_shape(shape)}" for key, shape in expected.items() if key not in found]
    problems += [f"unexpected {key}" for key in found if key not in expected]
    problems += [f"{key}: shape {format_shape(found[key])}, expected {format_shape(shape)}"
                 for key, shape in expected.items() if key in found and tuple(found[key]) != shape]
    return problems


def format_shape(shape: Shape) -> str:
    """The manifest notation: AxBxCxD, or 'scalar' for a 0-d tensor."""
    return "x".join(str(dim) for dim in shape) if shape else "scalar"
