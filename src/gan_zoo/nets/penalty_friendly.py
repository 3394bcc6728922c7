"""ReLU, LeakyReLU and average pooling for critics under a gradient penalty: torch's values and derivatives,
a cheaper penalty.

Why not torch's own: a gradient penalty differentiates the critic's input gradient ∇ₓD once more. For
`leaky_relu_backward(grad, x)`, ReLU's `threshold_backward` and `avg_pool2d_backward` PyTorch's derivative with
respect to x is `zeros_like(...)`, a real tensor, so the second backward sends zeros back through the whole
forward pass at the penalty points: one convolution backward per layer that only adds zeros
(docs/methods.md#implementation-pitfalls, item 2).
These modules run torch's own kernels but save their input (or output) detached, so the backward's graph holds
the saved tensor as a constant, and leave undefined gradients undefined (`set_materialize_grads(False)`): the
second backward stops at the gradient graph. The gradient penalties swap them into the critic when it is built
(`penalty_friendly`); without a penalty torch's own are kept, as a Python autograd Function costs a little per
call. Measured in benchmarks/gp_cost.py (docs/benchmarks.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class _LeakyReLU(torch.autograd.Function):
    """torch's own forward and backward kernels; only the saved tensor is detached, so that the backward's own
    graph (under create_graph) has no edge back into the forward pass."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, negative_slope: float) -> Tensor:
        ctx.negative_slope = negative_slope
        ctx.set_materialize_grads(False)
        if negative_slope:
            ctx.save_for_backward(x.detach())
            return F.leaky_relu(x, negative_slope)
        y = F.relu(x)
        ctx.save_for_backward(y.detach())  # ReLU's backward reads its output, as torch's does
        return y

    @staticmethod
    def backward(ctx: Any, grad: Tensor | None) -> tuple[Tensor | None, None]:
        if grad is None:  # nothing flows back: the forward graph behind this point is not visited
            return None, None
        (saved,) = ctx.saved_tensors
        if ctx.negative_slope:
            return torch.ops.aten.leaky_relu_backward(grad, saved, ctx.negative_slope, False), None
        return torch.ops.aten.threshold_backward(grad, saved, 0), None


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    """max(x, 0) + negative_slope·min(x, 0) (torch.nn.functional.leaky_relu), penalty-friendly (module docstring)."""
    return _LeakyReLU.apply(x, negative_slope)


def relu(x: Tensor) -> Tensor:
    """max(x, 0) (torch.nn.functional.relu), penalty-friendly (module docstring)."""
    return _LeakyReLU.apply(x, 0.0)


class LeakyReLU(nn.LeakyReLU):
    """torch.nn.LeakyReLU with the penalty-friendly backward of this module."""

    def forward(self, x: Tensor) -> Tensor:
        return leaky_relu(x, self.negative_slope)


class ReLU(nn.ReLU):
    """torch.nn.ReLU with the penalty-friendly backward of this module."""

    def forward(self, x: Tensor) -> Tensor:
        return relu(x)


class _AvgPool2d(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor, settings: tuple) -> Tensor:
        ctx.settings = settings
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(x.detach())
        return F.avg_pool2d(x, *settings)

    @staticmethod
    def backward(ctx: Any, grad: Tensor | None) -> tuple[Tensor | None, None]:
        if grad is None:
            return None, None
        (saved,) = ctx.saved_tensors
        return torch.ops.aten.avg_pool2d_backward(grad, saved, *_pool_arguments(saved, ctx.settings)), None


def _pool_arguments(x: Tensor, settings: tuple) -> tuple:
    """avg_pool2d_backward's arguments from nn.AvgPool2d's settings (ints or pairs)."""
    kernel, stride, padding, ceil_mode, count_include_pad, divisor = settings

    def pair(value: int | Sequence[int]) -> list[int]:
        return [value, value] if isinstance(value, int) else list(value)

    return pair(kernel), pair(stride or kernel), pair(padding), ceil_mode, count_include_pad, divisor


class AvgPool2d(nn.AvgPool2d):
    """torch.nn.AvgPool2d with the penalty-friendly backward of this module."""

    def forward(self, x: Tensor) -> Tensor:
        settings = (self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad,
                    self.divisor_override)
        return _AvgPool2d.apply(x, settings)


def penalty_friendly(net: nn.Module) -> int:
    """Replace every torch nn.ReLU, nn.LeakyReLU and nn.AvgPool2d module in `net` by this module's, in place;
    return how many. Layers called as functions (F.relu in a forward) are not modules, and in-place activations
    (whose forward relies on overwriting their input) are kept: both stay as they are."""
    replaced = 0
    for module in list(net.modules()):
        for name, child in module.named_children():
            if getattr(child, "inplace", False):
                continue
            if type(child) is nn.LeakyReLU:
                setattr(module, name, LeakyReLU(child.negative_slope))
            elif type(child) is nn.ReLU:
                setattr(module, name, ReLU())
            elif type(child) is nn.AvgPool2d:
                pool = AvgPool2d(child.kernel_size, child.stride, child.padding, child.ceil_mode,
                                 child.count_include_pad, child.divisor_override)
                setattr(module, name, pool)
            else:
                continue
            replaced += 1
    return replaced
