"""Observing never changes training: the logging cadence, the critic pictures, the toy and image metrics and the
sample grids leave the trained weights bit for bit as they are without them."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from conftest import FAST, run_train
from gan_zoo.lipschitz import NoConstraint, SpectralNorm
from gan_zoo.lipschitz.gradients import gradient_norms
from gan_zoo.lipschitz.measurement import evaluation_mode, measured_gradient_norms, measurement_generator
from gan_zoo.nets import MLPCritic

QUIET = ["trainer.log_every_n_steps=1000"]  # FAST logs (and measures ‖∇D‖) every critic step
TOY_OBSERVERS_OFF = ["~callbacks.critic_plots", "~callbacks.toy_metrics"]
IMAGES = ["data=digits", "model=dcgan", "data.batch_size=16", "model.generator.width=8", "model.critic.width=8",
          "model.critic.norm=batch", "lipschitz=sn"]  # batch norm and SN vectors: buffers a measurement could move
IMAGE_OBSERVERS_ON = ["metrics=digits", "metrics.num_fake=64", "metrics.num_real=64"]
IMAGE_OBSERVERS_OFF = ["metrics=none", "~callbacks.sample_grid"]


def final_state(run: Path) -> dict[str, torch.Tensor]:
    return torch.load(run / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)["state_dict"]


def assert_same_training(observed: list[str], unobserved: list[str], tmp_path: Path) -> None:
    runs = {"observed": (tmp_path / "observed", observed), "unobserved": (tmp_path / "unobserved", unobserved)}
    for run, args in runs.values():
        result = run_train(args, run)
        assert result.returncode == 0, result.stderr[-3000:]
    a, b = (final_state(run) for run, _ in runs.values())
    assert a.keys() == b.keys()
    different = [key for key in a if not torch.equal(a[key], b[key])]
    assert different == [], f"observing changed {len(different)} of {len(a)} tensors, e.g. {different[:3]}"


@pytest.mark.parametrize("lipschitz", ["none", "clip", "sn", "gp", "ct"])
def test_logging_pictures_and_toy_metrics_leave_training_unchanged(tmp_path: Path, lipschitz: str) -> None:
    args = [*FAST, f"lipschitz={lipschitz}"]
    assert_same_training(args, [*args, *QUIET, *TOY_OBSERVERS_OFF], tmp_path)


def test_image_metrics_and_sample_grids_leave_training_unchanged(tmp_path: Path) -> None:
    args = [*FAST, *IMAGES]
    assert_same_training([*args, *IMAGE_OBSERVERS_ON], [*args, *QUIET, *IMAGE_OBSERVERS_OFF], tmp_path)


def test_critic_pictures_under_ddp_do_not_wait_for_ranks_that_do_not_plot(tmp_path: Path) -> None:
    """Rank 0 alone draws DRAGAN's penalty points for the picture; its global std once waited in an all-reduce that
    rank 1 never joined, and the run hung at the first validation."""
    run = tmp_path / "ddp"
    result = run_train([*FAST, "lipschitz=dragan", "trainer.accelerator=cpu", "trainer.devices=2"], run, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert sorted(path.name for path in (run / "plots").glob("grad_norms_*.png")) == [
        "grad_norms_gen_iter_000002.png", "grad_norms_gen_iter_000004.png"]


def sn_critic_with_batch_norm_and_dropout() -> torch.nn.Module:
    critic = SpectralNorm().prepare_critic(MLPCritic((2,), width=16, depth=2, norm="batch", dropout=0.5))
    critic.train()
    critic(torch.randn(32, 2))  # a training forward: u/v and the running statistics are no longer their initial values
    return critic


def test_a_measurement_leaves_every_buffer_and_the_global_stream_as_they_were() -> None:
    critic = sn_critic_with_batch_norm_and_dropout()
    real, fake = torch.randn(32, 2), torch.randn(32, 2)
    buffers = {name: value.clone() for name, value in critic.state_dict().items()}
    rng = torch.get_rng_state()
    norms = measured_gradient_norms(NoConstraint(), critic, real, fake, measurement_generator("cpu", 0, 7))
    assert torch.equal(torch.get_rng_state(), rng)
    assert all(torch.equal(value, buffers[name]) for name, value in critic.state_dict().items())
    assert critic.training and all(module.training for module in critic.modules())
    assert all(parameter.grad is None for parameter in critic.parameters())
    # What it measured: the eval-mode critic at ε x + (1 − ε) x̃, ε from the measurement's own stream.
    eps = torch.rand(32, 1, generator=measurement_generator("cpu", 0, 7))
    critic.eval()
    torch.testing.assert_close(norms, gradient_norms(critic, eps * real + (1 - eps) * fake, create_graph=False))


def test_measurement_streams_depend_on_the_seed_and_step_only() -> None:
    def draw(seed: int, step: int) -> torch.Tensor:
        return torch.rand(4, generator=measurement_generator("cpu", seed, step))

    assert torch.equal(draw(0, 3), draw(0, 3))
    assert not torch.equal(draw(0, 3), draw(0, 4)) and not torch.equal(draw(0, 3), draw(1, 3))
    torch.manual_seed(0)
    assert not torch.equal(draw(0, 0), torch.rand(4))  # not the training stream of seed 0


def test_evaluation_mode_restores_each_submodule_s_own_mode() -> None:
    critic = MLPCritic((2,), width=8, depth=2, norm="batch")
    frozen = next(module for module in critic.modules() if isinstance(module, torch.nn.BatchNorm1d))
    frozen.eval()  # e.g. statistics frozen during training: must stay so
    with evaluation_mode(critic):
        assert not any(module.training for module in critic.modules())
    assert critic.training and not frozen.training
