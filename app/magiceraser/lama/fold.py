"""Fold every eval-mode BatchNorm of the generator into the conv weights that feed it, at load time.

BN(conv(x)) = conv'(x) + shift with conv' = conv scaled per output channel, so a pass no longer
spends two full-size elementwise sweeps (multiply, add) per BN: only the bias add inside the conv
and the ReLU remain. Where a BN sums several convs (an FFC's local and global branches) each conv
is scaled and the shift is added once, as the first conv's bias. The new weights are computed in
float64 and rounded once to float32, so the folded generator differs from the unfolded one only by
float32 rounding (tests/app/test_fold.py states the tolerance).
"""

from __future__ import annotations

import torch
from torch import nn

from .ffc import FFC, FFCBnAct, FFCResNetGenerator, FourierUnit, SpectralTransform

Conv = nn.Conv2d | nn.ConvTranspose2d


def _scale_shift(bn: nn.BatchNorm2d) -> tuple[torch.Tensor, torch.Tensor]:
    assert bn.running_var is not None and bn.running_mean is not None
    scale = bn.weight.double() * torch.rsqrt(bn.running_var.double() + bn.eps)
    return scale, bn.bias.double() - bn.running_mean.double() * scale


def _fold(convs: list[Conv], bn: nn.BatchNorm2d) -> None:
    """Scale each conv's output channels by BN's scale; the first conv also carries BN's shift."""
    scale, shift = _scale_shift(bn)
    for index, conv in enumerate(convs):
        if conv.groups != 1:
            raise ValueError("grouped convs are not folded")  # none in LaMa; the shapes below assume it
        out_dim = 1 if isinstance(conv, nn.ConvTranspose2d) else 0
        shape = [1] * conv.weight.dim()
        shape[out_dim] = -1
        conv.weight.copy_((conv.weight.double() * scale.view(shape)).float())
        bias = conv.bias.double() * scale if conv.bias is not None else torch.zeros_like(scale)
        if index == 0:
            bias = bias + shift
        if conv.bias is not None:
            conv.bias.copy_(bias.float())
        elif index == 0:
            conv.bias = nn.Parameter(bias.float(), requires_grad=False)


def _fold_spectral(st: SpectralTransform) -> None:
    squeeze, bn = st.conv1[0], st.conv1[1]
    assert isinstance(squeeze, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d)
    _fold([squeeze], bn)
    st.conv1[1] = nn.Identity()
    fu: FourierUnit = st.fu
    assert isinstance(fu.bn, nn.BatchNorm2d)
    _fold([fu.conv_layer], fu.bn)
    fu.bn = nn.Identity()


def _fold_ffc(block: FFCBnAct) -> None:
    ffc: FFC = block.ffc
    if isinstance(getattr(ffc, "convg2g", None), SpectralTransform):
        _fold_spectral(ffc.convg2g)
    for bn_name, names in (("bn_l", ("convl2l", "convg2l")), ("bn_g", ("convl2g", "convg2g"))):
        bn = getattr(block, bn_name, None)
        if isinstance(bn, nn.BatchNorm2d):
            convs = [getattr(ffc, name) for name in names if hasattr(ffc, name)]
            _fold([conv.conv2 if isinstance(conv, SpectralTransform) else conv for conv in convs], bn)
            setattr(block, bn_name, nn.Identity())


@torch.no_grad()
def fold_batchnorm(generator: FFCResNetGenerator) -> FFCResNetGenerator:
    """Fold every BN of an eval-mode generator in place (its state_dict loses the BN entries)."""
    if generator.training:
        raise ValueError("fold_batchnorm needs an eval-mode generator (BN running stats)")
    for module in list(generator.modules()):
        if isinstance(module, FFCBnAct):
            _fold_ffc(module)
    for index, layer in enumerate(generator.plan):
        bn, previous = generator.model[index], generator.model[index - 1]
        if layer.kind == "bn" and isinstance(bn, nn.BatchNorm2d) and isinstance(previous, nn.ConvTranspose2d):
            _fold([previous], bn)  # the plan puts every BN right after an "up" ConvTranspose
            generator.model[index] = nn.Identity()
    return generator
