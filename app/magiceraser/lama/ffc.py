"""The LaMa big-lama generator (FFC ResNet) in plain PyTorch, built from the layer plan in weights/spec.py.

Module names follow the official state_dict (``model.<index>....``) so checkpoints load strictly.
The forward pass is inference-only: BatchNorm uses running stats in place (or is folded into the
convs at load time, fold.py), and every spatial conv goes through ``Tiling`` so full-resolution
layers never allocate a whole-image im2col buffer.
"""

from __future__ import annotations

from dataclasses import replace

import torch
from torch import nn

from . import spectrum
from .region import Box, local_decoder
from .tiling import Tiling
from .weights.config import GeneratorConfig
from .weights.spec import FFCSpec, Layer, layer_plan

Pair = tuple[torch.Tensor, "torch.Tensor | None"]


def batchnorm_relu_(x: torch.Tensor, bn: nn.Module, relu: bool = True) -> torch.Tensor:
    """Eval-mode BatchNorm (+ ReLU) applied in place: no second full-size activation.

    A BN already folded into the conv before it (fold.py) is an nn.Identity: only the ReLU runs."""
    if isinstance(bn, nn.BatchNorm2d):
        scale = bn.weight * torch.rsqrt(bn.running_var + bn.eps)
        shift = bn.bias - bn.running_mean * scale
        x.mul_(scale.view(1, -1, 1, 1)).add_(shift.view(1, -1, 1, 1))
    return x.relu_() if relu else x


class FourierUnit(nn.Module):
    """1x1 conv + BN + ReLU in the frequency domain (real/imag interleaved per channel)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv_layer = nn.Conv2d(2 * channels, 2 * channels, 1, bias=False)
        self.bn: nn.Module = nn.BatchNorm2d(2 * channels)  # nn.Identity once folded (fold.py)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        spec = batchnorm_relu_(self.conv_layer(spectrum.rfft2(x)), self.bn)
        return spectrum.irfft2(spec, x.shape[-2], x.shape[-1])


class SpectralTransform(nn.Module):
    """The global-to-global path: squeeze, Fourier unit with a residual, expand."""

    def __init__(self, in_ch: int, out_ch: int) -> None:
        super().__init__()
        half = out_ch // 2
        self.conv1 = nn.Sequential(nn.Conv2d(in_ch, half, 1, bias=False), nn.BatchNorm2d(half), nn.ReLU(True))
        self.fu = FourierUnit(half)
        self.conv2 = nn.Conv2d(half, out_ch, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = batchnorm_relu_(self.conv1[0](x), self.conv1[1])
        return self.conv2(x + self.fu(x))


class FFC(nn.Module):
    """Fast Fourier convolution: local channels first, global (spectral) channels after."""

    def __init__(self, spec: FFCSpec) -> None:
        super().__init__()
        self.spec = spec
        k = spec.kernel
        for name, cin, cout in (("convl2l", spec.in_cl, spec.out_cl), ("convl2g", spec.in_cl, spec.out_cg),
                                ("convg2l", spec.in_cg, spec.out_cl)):
            if cin and cout:
                self.add_module(name, nn.Conv2d(cin, cout, k, spec.stride, bias=False))
        if spec.in_cg and spec.out_cg:
            self.convg2g = SpectralTransform(spec.in_cg, spec.out_cg)

    def forward(self, x: Pair, tiling: Tiling) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        x_l, x_g = x
        spec, pad = self.spec, self.spec.padding
        out_l = out_g = None
        if spec.in_cl and spec.in_cg and spec.out_cl and spec.out_cg:
            out_l, out_g = tiling.ffc_convs(x_l, x_g, self.convl2l, self.convl2g, self.convg2l, pad)
            return out_l, out_g.add_(self.convg2g(x_g))
        if spec.out_cl:
            out_l = tiling.conv2d(x_l, self.convl2l, pad) if spec.in_cl else None
            if spec.in_cg:
                g2l = tiling.conv2d(x_g, self.convg2l, pad)
                out_l = g2l if out_l is None else out_l.add_(g2l)
        if spec.out_cg:
            out_g = tiling.conv2d(x_l, self.convl2g, pad) if spec.in_cl else None
            if spec.in_cg:
                g2g = self.convg2g(x_g)
                out_g = g2g if out_g is None else out_g.add_(g2g)
        return out_l, out_g


class FFCBnAct(nn.Module):
    """FFC followed by BatchNorm + ReLU on each of the local and global outputs."""

    def __init__(self, spec: FFCSpec) -> None:
        super().__init__()
        self.ffc = FFC(spec)
        if spec.out_cl:
            self.bn_l = nn.BatchNorm2d(spec.out_cl)
        if spec.out_cg:
            self.bn_g = nn.BatchNorm2d(spec.out_cg)

    def forward(self, x: Pair, tiling: Tiling) -> Pair:
        out_l, out_g = self.ffc(x, tiling)
        out_l = batchnorm_relu_(out_l, self.bn_l) if out_l is not None else None
        out_g = batchnorm_relu_(out_g, self.bn_g) if out_g is not None else None
        return out_l, out_g


class FFCResnetBlock(nn.Module):
    """Two FFC convs with an identity shortcut on both the local and the global branch."""

    def __init__(self, spec: FFCSpec) -> None:
        super().__init__()
        self.conv1 = FFCBnAct(spec)
        self.conv2 = FFCBnAct(spec)

    def forward(self, x: Pair, tiling: Tiling) -> Pair:
        out_l, out_g = self.conv2(self.conv1(x, tiling), tiling)
        return x[0] + out_l, x[1] + out_g


def _module_for(layer: Layer) -> nn.Module:
    if layer.kind == "ffc":
        return FFCBnAct(layer.ffc)
    if layer.kind == "block":
        return FFCResnetBlock(layer.ffc)
    if layer.kind == "up":
        return nn.ConvTranspose2d(layer.in_ch, layer.out_ch, 3, stride=2, padding=1, output_padding=1)
    if layer.kind == "bn":
        return nn.BatchNorm2d(layer.out_ch)
    if layer.kind == "conv":
        return nn.Conv2d(layer.in_ch, layer.out_ch, layer.size)
    return nn.Identity()  # pad / relu / concat / act: no parameters, handled in forward


class FFCResNetGenerator(nn.Module):
    """(N,4,H,W) masked image + mask in [0,1], H and W multiples of 8 -> (N,3,H,W) prediction."""

    def __init__(self, cfg: GeneratorConfig, tiling: Tiling | None = None) -> None:
        super().__init__()
        self.cfg = cfg
        self.plan = layer_plan(cfg)
        self.tiling = tiling or Tiling()
        # a ReflectionPad2d layer is folded into the conv after it, so tiles pad only at the image edge
        self.conv_padding: dict[int, int] = {}
        modules = []
        for index, layer in enumerate(self.plan):
            if index and self.plan[index - 1].kind == "pad":
                pad = self.plan[index - 1].size
                self.conv_padding[index] = pad
                if layer.kind == "ffc":
                    layer = Layer("ffc", replace(layer.ffc, padding=layer.ffc.padding + pad))
            modules.append(_module_for(layer))
        self.model = nn.ModuleList(modules)
        self.decoder = local_decoder(self.plan, self.conv_padding)

    def forward(self, x: torch.Tensor, needed: Box | None = None) -> torch.Tensor:
        """The prediction; with ``needed``, correct only inside that box (the rest is zeros): the
        local decoder then runs on the cells around it alone (region.py)."""
        state: Pair = (x, None)
        cells = None
        for index, (layer, module) in enumerate(zip(self.plan, self.model)):
            if needed is not None and self.decoder is not None and index == self.decoder.start:
                grid = state[0]
                cells = self.decoder.cells(needed, grid.shape[2], grid.shape[3])
                state = (grid[:, :, cells.top:cells.bottom, cells.left:cells.right], None)
            if layer.kind in ("ffc", "block"):
                state = module(state, self.tiling)
            elif layer.kind == "concat":
                state = (state[0] if state[1] is None else torch.cat(state, dim=1), None)
            elif layer.kind == "up":
                state = (self.tiling.conv_transpose2d(state[0], module), None)
            elif layer.kind == "bn":
                state = (batchnorm_relu_(state[0], module, relu=False), None)
            elif layer.kind == "relu":
                state[0].relu_()
            elif layer.kind == "conv":
                state = (self.tiling.conv2d(state[0], module, self.conv_padding.get(index, 0)), None)
            elif layer.kind == "act":
                state = (state[0].sigmoid_() if layer.act == "sigmoid" else state[0].tanh_(), None)
        if cells is None or self.decoder is None:
            return state[0]
        out = state[0].new_zeros((*state[0].shape[:2], *x.shape[2:]))
        at = cells.scaled(self.decoder.scale)
        out[:, :, at.top:at.bottom, at.left:at.right] = state[0]
        return out


def generator_holding(state: dict[str, torch.Tensor], cfg: GeneratorConfig,
                      tiling: Tiling | None = None) -> FFCResNetGenerator:
    """A generator whose parameters are ``state``'s tensors themselves, in eval mode: built on the meta
    device and then assigned, so no random initialisation runs and no second copy of the weights is
    ever made (big-lama's are 204 MB; two copies at load were most of the service's peak memory).
    Raises RuntimeError (strict load) when names or shapes differ."""
    with torch.device("meta"):
        model = FFCResNetGenerator(cfg, tiling)
    model.load_state_dict(state, strict=True, assign=True)
    return model.eval().requires_grad_(False)
