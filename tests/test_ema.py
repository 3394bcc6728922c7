"""GeneratorEMA: torch's AveragedModel EMA arithmetic and checkpoints, without reading the device each update."""

from __future__ import annotations

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from gan_zoo.testing.host_syncs import _HostReads
from gan_zoo.training.ema import GeneratorEMA


def _net() -> nn.Module:
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))


def _train_a_little(net: nn.Module) -> None:
    with torch.no_grad():
        for p in net.parameters():
            p.add_(torch.randn_like(p))
    net(torch.randn(8, 3))  # moves the batch-norm running statistics (buffers are averaged too)


def test_same_weights_as_averaged_model_and_no_device_reads() -> None:
    torch.manual_seed(0)
    net = _net()
    ours = GeneratorEMA(net, decay=0.9)
    theirs = AveragedModel(net, multi_avg_fn=get_ema_multi_avg_fn(0.9), use_buffers=True)
    reads: list[str] = []
    for _ in range(5):
        _train_a_little(net)
        with _HostReads(reads.append):
            ours.update_parameters(net)
        theirs.update_parameters(net)
    assert reads == []
    assert ours.state_dict().keys() == theirs.state_dict().keys()
    for key, value in ours.state_dict().items():
        assert torch.equal(value, theirs.state_dict()[key]), key
    assert int(ours.n_averaged) == 5 and not any(p.requires_grad for p in ours.parameters())


def test_resumed_average_continues_from_the_checkpoint() -> None:
    torch.manual_seed(0)
    net = _net()
    first = GeneratorEMA(net, decay=0.5)
    for _ in range(3):
        _train_a_little(net)
        first.update_parameters(net)
    resumed = GeneratorEMA(_net(), decay=0.5)
    resumed.load_state_dict(first.state_dict())  # n_averaged = 3: the next update averages, it does not copy
    _train_a_little(net)
    first.update_parameters(net)
    resumed.update_parameters(net)
    for key, value in first.state_dict().items():
        assert torch.equal(value, resumed.state_dict()[key]), key
