"""Read the generator architecture from the official LaMa config.yaml (torch-free, no omegaconf).

Only the ``generator`` section is resolved: other sections hold interpolations such as
``${env:TORCH_HOME}`` that have nothing to do with inference.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

try:
    import yaml
except ImportError:  # load_config names the fix; nothing else here needs PyYAML
    YAML_MISSING = True
else:
    YAML_MISSING = False

from ...errors import ConfigError

_REF = re.compile(r"^\$\{generator\.([A-Za-z0-9_.]+)\}$")
_SUPPORTED_KEYS = {"kind", "input_nc", "output_nc", "ngf", "n_downsampling", "n_blocks", "add_out_act",
                   "init_conv_kwargs", "downsample_conv_kwargs", "resnet_conv_kwargs", "max_features"}


@dataclass(frozen=True)
class FFCRatios:
    """Share of global (spectral) channels on the input and output side of one FFC conv."""

    ratio_gin: float = 0.0
    ratio_gout: float = 0.0
    enable_lfu: bool = False


@dataclass(frozen=True)
class GeneratorConfig:
    """The FFCResNetGenerator hyper-parameters that decide parameter shapes and the forward pass."""

    input_nc: int = 4
    output_nc: int = 3
    ngf: int = 64
    n_downsampling: int = 3
    n_blocks: int = 18
    add_out_act: str = "sigmoid"
    max_features: int = 1024
    init: FFCRatios = FFCRatios()
    downsample: FFCRatios = FFCRatios()
    resnet: FFCRatios = FFCRatios(0.75, 0.75)


BIG_LAMA = GeneratorConfig()


def _lookup(section: dict[str, Any], dotted: str, source: Path, seen: tuple[str, ...]) -> Any:
    if dotted in seen:
        raise ConfigError(source, f"circular interpolation ${{generator.{dotted}}}")
    node: Any = section
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            raise ConfigError(source, f"interpolation ${{generator.{dotted}}} points to a missing key",
                              hint="use the config.yaml shipped with the model")
        node = node[part]
    return _resolve(section, node, source, seen + (dotted,))


def _resolve(section: dict[str, Any], node: Any, source: Path, seen: tuple[str, ...] = ()) -> Any:
    if isinstance(node, dict):
        return {key: _resolve(section, value, source, seen) for key, value in node.items()}
    if isinstance(node, list):
        return [_resolve(section, value, source, seen) for value in node]
    if isinstance(node, str) and node.startswith("${"):
        match = _REF.match(node)
        if not match:
            raise ConfigError(source, f"unsupported interpolation {node!r} in the generator section",
                              hint="use the config.yaml shipped with the model")
        return _lookup(section, match.group(1), source, seen)
    return node


def resolve_generator(config: object, source: str | Path = "config.yaml") -> dict[str, Any]:
    """Return the ``generator`` section with every ``${generator.*}`` reference replaced by its value."""
    source = Path(source)
    section = config.get("generator") if isinstance(config, dict) else None
    if not isinstance(section, dict):
        raise ConfigError(source, "no 'generator' section", hint="use the config.yaml shipped with the model")
    resolved: dict[str, Any] = _resolve(section, section, source)
    return resolved


def _ratios(section: dict[str, Any], name: str, source: Path) -> FFCRatios:
    raw = section.get(name, {}) or {}
    if not isinstance(raw, dict):
        raise ConfigError(source, f"generator.{name} must be a mapping")
    try:
        return FFCRatios(float(raw.get("ratio_gin", 0)), float(raw.get("ratio_gout", 0)),
                         bool(raw.get("enable_lfu", False)))
    except (TypeError, ValueError) as exc:
        raise ConfigError(source, f"generator.{name} has a non-numeric ratio: {exc}") from None


def generator_config(config: object, source: str | Path = "config.yaml") -> GeneratorConfig:
    """Validate the resolved generator section and turn it into a GeneratorConfig."""
    source = Path(source)
    section = resolve_generator(config, source)
    if section.get("kind") != "ffc_resnet":
        raise ConfigError(source, f"generator kind {section.get('kind')!r} is not supported (need ffc_resnet)",
                          hint="use the big-lama model (config.yaml with generator.kind: ffc_resnet)")
    unknown = sorted(set(section) - _SUPPORTED_KEYS)
    if unknown:
        raise ConfigError(source, f"generator options not supported: {', '.join(unknown)}",
                          hint="use the big-lama model")
    act = section.get("add_out_act", "sigmoid")
    if act is True:
        act = "tanh"
    if act not in ("sigmoid", "tanh", False, None):
        raise ConfigError(source, f"generator.add_out_act {act!r} is not supported")
    try:
        ints = {name: int(section[name]) for name in ("input_nc", "output_nc", "ngf", "n_downsampling", "n_blocks")}
    except KeyError as exc:
        raise ConfigError(source, f"generator.{exc.args[0]} is missing") from None
    except (TypeError, ValueError) as exc:
        raise ConfigError(source, f"generator has a non-integer size: {exc}") from None
    if min(ints.values()) < 1:
        raise ConfigError(source, f"generator sizes must be positive: {ints}")
    init, downsample, resnet = (_ratios(section, f"{name}_conv_kwargs", source)
                                for name in ("init", "downsample", "resnet"))
    if any(r.enable_lfu for r in (init, downsample, resnet)):
        raise ConfigError(source, "enable_lfu: true (local Fourier unit) is not supported",
                          hint="use the big-lama model")
    return GeneratorConfig(input_nc=ints["input_nc"], output_nc=ints["output_nc"], ngf=ints["ngf"],
                           n_downsampling=ints["n_downsampling"], n_blocks=ints["n_blocks"],
                           add_out_act=act or "none", max_features=int(section.get("max_features", 1024)),
                           init=init, downsample=downsample, resnet=resnet)


def load_config(path: str | Path) -> GeneratorConfig:
    """Parse config.yaml with yaml.safe_load and return its generator architecture."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        layout = "keep the big-lama directory layout: big-lama/config.yaml + big-lama/models/best.ckpt"
        raise ConfigError(path, "config.yaml not found next to the checkpoint", hint=layout) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(path, f"cannot read the file: {exc}") from None
    if YAML_MISSING:
        raise ConfigError(path, "PyYAML is needed to read config.yaml but is not installed",
                          hint="pip install PyYAML (the wheelhouse has it)")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(path, f"not valid YAML: {exc}") from None
    return generator_config(data, path)
