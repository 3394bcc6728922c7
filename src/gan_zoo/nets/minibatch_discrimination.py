"""Minibatch discrimination (Salimans et al. 2016, "Improved Techniques for Training GANs", §3.2)."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from gan_zoo.errors import require
from gan_zoo.nets.base import CouplesSamples, check_sizes

# Elements of one block of the (B × rows × N) L1 distances: without autograd (validation, critic plots of 14,400
# grid points) memory stays at one block instead of B·N².
BLOCK_ELEMENTS = 1 << 24


class MinibatchDiscrimination(CouplesSamples, nn.Module):
    """f(x) ∈ ℝ^A → [f(x), o(x)] ∈ ℝ^{A+B}: how close each sample is to the others of its batch (Salimans et al.
    2016, §3.2).

    M_i = f(x_i)·T ∈ ℝ^{B×C} with T ∈ ℝ^{A×B×C}; c_b(x_i, x_j) = exp(−‖M_{i,b} − M_{j,b}‖₁);
    o(x_i)_b = Σ_{j≠i} c_b(x_i, x_j). The sum leaves j = i out, as the official code does (openai/improved-gan,
    mnist_svhn_cifar10/nn.py, `MinibatchLayer`, which adds 1e6·I to the distances); the paper's Σ_j over every j
    differs by c_b(x_i, x_i) = 1 in every o_b, a constant the next linear layer's bias absorbs. A batch of one
    sample has o = 0.

    T is held as a bias-free nn.Linear(A, B·C) (its weight is T reshaped to (B·C, A)), so spectral normalisation
    (gan_zoo.lipschitz.SpectralNorm) and weight clipping reach it like any other weight layer. Its weight is drawn
    from N(0, 0.05²) as the official code's θ; that code also wraps θ in weight normalisation with a data-dependent
    initialisation and adds a learned bias b to o — not done here: none of gan_zoo's nets uses weight norm, and a
    bias on o before the output layer is absorbed by that layer's own bias.

    The output of one sample depends on the whole batch, so real and generated batches must be scored separately
    (the training module does), scores depend on the batch size (o sums N − 1 terms: evaluating the critic on a
    batch of another size than training's shifts them), and the gradient penalties refuse the layer unless forced
    (gan_zoo.lipschitz.gradient_penalty). Under data-parallel training each process's shard of the batch is coupled
    within itself only: o sums over that process's N/world_size samples, not over the global batch.
    """

    coupling = "minibatch discrimination"
    coupling_off = "set model.critic.minibatch_kernels=0"

    def __init__(self, in_features: int, kernels: int, kernel_dim: int = 5) -> None:
        super().__init__()
        check_sizes(in_features=in_features, minibatch_kernels=kernels, minibatch_kernel_dim=kernel_dim)
        self.in_features, self.kernels, self.kernel_dim = in_features, kernels, kernel_dim
        self.out_features = in_features + kernels
        self.project = nn.Linear(in_features, kernels * kernel_dim, bias=False)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.normal_(self.project.weight, 0.0, 0.05)

    def similarities(self, features: Tensor) -> Tensor:
        """o(x_i) ∈ ℝ^B for every row of features (N, A): Σ_{j≠i} exp(−‖M_{i,b} − M_{j,b}‖₁)."""
        n = features.shape[0]
        m = self.project(features).view(n, self.kernels, self.kernel_dim).transpose(0, 1)  # (B, N, C)
        rows = max(1, BLOCK_ELEMENTS // max(1, n * self.kernels))
        index = torch.arange(n, device=features.device)
        blocks = []
        for start in range(0, n, rows):
            distances = torch.cdist(m[:, start:start + rows], m, p=1)  # (B, rows, N): ‖M_{i,b} − M_{j,b}‖₁
            others = index[start:start + rows, None] != index[None]  # j ≠ i
            blocks.append((torch.exp(-distances) * others).sum(dim=2).T)
        return torch.cat(blocks) if blocks else features.new_zeros(0, self.kernels)

    def forward(self, features: Tensor) -> Tensor:
        return torch.cat([features, self.similarities(features)], dim=1)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, kernels={self.kernels}, kernel_dim={self.kernel_dim}"


def minibatch_layer(in_features: int, kernels: int, kernel_dim: int) -> MinibatchDiscrimination | None:
    """The critics' optional layer before their output layer: None when kernels = 0 (off, the default), so a critic
    without it has the same parameters, state-dict keys and initial weights as before the option existed."""
    require(kernels >= 0, f"model.critic.minibatch_kernels must be >= 0 (got {kernels}); 0 turns minibatch "
                          "discrimination off")
    require(kernel_dim >= 1, f"model.critic.minibatch_kernel_dim must be >= 1 (got {kernel_dim})")
    return MinibatchDiscrimination(in_features, kernels, kernel_dim) if kernels else None
