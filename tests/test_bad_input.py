"""Bad input: one clear line on stderr, a non-zero exit, no traceback."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FAST, run_train

CASES = [
    (["objective=wgna"], 2,
     "unknown objective 'wgna'; choose one of: ebgan, fgan, hinge, loss_sensitive, lsgan, minimax, nsgan, wgan"),
    (["lipschitz=foo"], 2, "unknown lipschitz 'foo'; choose one of: clip, ct, dragan, gp, lp, none, r1, sn"),
    (["model.critic.minibatch_kernels=4"], 2, "lipschitz=gp with minibatch discrimination in the critic is refused"),
    (["data=mnist_typo"], 2, "unknown data 'mnist_typo'; choose one of: 25gaussians, 8gaussians, celeba, cifar10,"),
    (["metrics=fid50k"], 2, "unknown metrics 'fid50k'; choose one of: classifier, digits, inception, none"),
    (["lr_scheduler=cosine"], 2, "unknown lr_scheduler 'cosine'; choose one of: constant, linear"),
    (["ema_decay=1"], 2, "ema_decay must be in [0, 1) (got 1); 0 turns EMA off"),
    (["data=digits", "data.channels=2", "model=dcgan"], 2, "data.channels must be 1 (grey) or 3 (RGB) (got 2)"),
    (["data=digits", "data.val_size=2000", "model=dcgan"], 2,
     "data.val_size (2000) must be smaller than the data set (1797 images); lower data.val_size"),
    (["data=folder", "data.path=/nonexistent/images", "model=dcgan"], 2,
     "image folder /nonexistent/images does not exist: create it and put images in it"),
    (["data=mnist", "data.root=/nonexistent", "data.download=false", "model=dcgan"], 2,
     "MNIST is not readable in /nonexistent/MNIST/raw and could not be downloaded"),
    (["data=digits", "data.image_size=48", "model=dcgan"], 2,
     "supports image sizes 28, 32, 64 px (got 48); set data.image_size"),
    (["data=digits", "model=dcgan", "metrics=inception", "metrics.weights_path=/nowhere/inception.pth"], 2,
     "could not build the feature network of fid, kid, is, prdc (no Inception weights file at /nowhere/inception.pth)"),
    (["data=digits", "model=dcgan", "metrics=digits", "metrics.functions.fid.feature=2048"], 2,
     "metrics.functions.fid.feature: unknown output '2048'; DigitClassifier gives features, logits"),
    (["data=digits", "model=dcgan", "metrics=digits", "metrics.features.output=features"], 2,
     "metrics.features must give named outputs (num_features a dict), e.g. DigitClassifier with output=all or "
     "InceptionV3; DigitClassifier gives one"),
    (["lipschitz.lambda_=-1"], 2, "lipschitz.lambda_ must be >= 0 (got -1)"),
    (["lipschitz=lp", "lipschitz.lambda_=-0.5"], 2, "lipschitz.lambda_ must be >= 0 (got -0.5)"),
    (["lipschitz=clip", "lipschitz.c=0"], 2, "lipschitz.c must be > 0 (got 0)"),
    (["lipschitz=clip", "lipschitz.c=-0.01"], 2, "lipschitz.c must be > 0 (got -0.01)"),
    (["n_critic=0"], 2, "n_critic must be >= 1 (got 0)"),
    (["trainer.accelerator=cpu", "trainer.devices=2", "trainer.strategy.wrapping=foo"], 2,
     "trainer.strategy.wrapping must be one of separate, whole (got 'foo')"),
    (["optim.critic.lr=0"], 2, "optim.critic.lr must be > 0 (got 0)"),
    (["optim.generator.lr=-1e-4"], 2, "optim.generator.lr must be > 0 (got -0.0001)"),
    (["objective=ebgan"], 2, "objective=ebgan needs an autoencoder critic, got MLPCritic: use model=mlp_autoencoder (toy data) or "
     "model=conv_autoencoder (images)"),
    (["model.critic.norm=batch"], 2,
     "lipschitz=gp with batch norm in the critic is refused: batch norm breaks the per-sample gradient penalty "
     "(WGAN-GP §4)"),
    (["lipschitz=r1", "model.critic.norm=batch"], 2, "lipschitz=r1 with batch norm in the critic is refused"),
    (["lipschitz=ct", "lipschitz.critic_dropout=0"], 2, "lipschitz.critic_dropout must be in (0, 1) (got 0)"),
    (["objective=wgan", "lipschitz=none", "optim.critic.lr=1e30", "optim.generator.lr=1e30"], 3,
     "non-finite critic loss term 'real' (nan) at generator iteration 0: lower the learning rates"),
]


@pytest.mark.parametrize(("args", "exit_code", "message"), CASES, ids=[" ".join(c[0]) for c in CASES])
def test_bad_input_gets_one_clear_line(tmp_path: Path, args: list[str], exit_code: int, message: str) -> None:
    result = run_train([*FAST, "logger=none", *args], tmp_path / "run")
    assert result.returncode == exit_code, result.stderr[-2000:]
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("gan_zoo: error: ")
    assert message in last_line
    assert "Traceback" not in result.stderr


def test_gradient_penalty_with_batch_norm_can_be_forced(tmp_path: Path) -> None:
    result = run_train([*FAST, "logger=none", "model.critic.norm=batch", "lipschitz.allow_batchnorm=true"],
                       tmp_path / "run")
    assert result.returncode == 0, result.stderr[-2000:]


def test_a_bad_value_in_a_sweep_is_reported_before_any_job_runs(tmp_path: Path) -> None:
    result = run_train([*FAST, "logger=none", "lipschitz=gp,fp"], tmp_path / "sweep", multirun=True)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "gan_zoo: error: unknown lipschitz 'fp'; choose one of: clip, ct, dragan, gp, lp, none, r1, sn")
    assert not (tmp_path / "sweep").exists()


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Data folders and checkpoints that are wrong in one way each (one short training run makes the checkpoint)."""
    root = tmp_path_factory.mktemp("bad_files")
    (root / "empty").mkdir()
    (root / "corrupt").mkdir()
    (root / "corrupt" / "only.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    (root / "garbage.pth").write_bytes(b"not a weights file")
    result = run_train([*FAST, "logger=none"], root / "good_run")
    assert result.returncode == 0, result.stderr[-2000:]
    good = root / "good_run" / "checkpoints" / "last.ckpt"
    (root / "truncated.ckpt").write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    return {"root": root, "good": good}


FILE_CASES = [
    ("empty data folder", lambda f: ["data=folder", f"data.path={f['root'] / 'empty'}", "model=dcgan"], 2,
     "has no image files"),
    ("only corrupt images", lambda f: ["data=folder", f"data.path={f['root'] / 'corrupt'}", "model=dcgan"], 2,
     "none of the 1 image files under"),
    ("corrupt Inception weights", lambda f: ["data=digits", "model=dcgan", "metrics=inception",
                                            f"metrics.weights_path={f['root'] / 'garbage.pth'}"], 2,
     "garbage.pth (invalid load key, 'n'.); replace it with a complete copy of pt_inception-2015-12-05-6726825d.pth"),
    ("corrupt digit-classifier weights", lambda f: ["data=digits", "model=dcgan", "metrics=digits",
                                                   f"metrics.weights_path={f['root'] / 'garbage.pth'}"], 2,
     "garbage.pth (not a torch weights file); delete the file and it is trained again"),
    ("missing checkpoint", lambda f: [f"ckpt_path={f['root'] / 'nope.ckpt'}"], 2, "nope.ckpt is not a file"),
    ("truncated checkpoint", lambda f: [f"ckpt_path={f['root'] / 'truncated.ckpt'}"], 2,
     "truncated.ckpt is truncated or not a checkpoint: resume from an earlier one"),
    ("checkpoint of another model", lambda f: ["model.critic.width=16", f"ckpt_path={f['good']}"], 2,
     "holds a different model (size mismatch for critic."),
    ("W&B online without credentials", lambda f: ["logger=wandb", "logger.wandb.mode=online"], 2,
     "logger.wandb.mode=online needs W&B credentials: run `wandb login` or set WANDB_API_KEY"),
]


@pytest.mark.parametrize(("name", "make_args", "exit_code", "message"), FILE_CASES, ids=[c[0] for c in FILE_CASES])
def test_bad_files_get_one_clear_line(tmp_path: Path, bad_files: dict[str, Path], name: str, make_args,
                                      exit_code: int, message: str) -> None:
    env = {"WANDB_API_KEY": "", "NETRC": str(tmp_path / "no_netrc")}
    result = run_train([*FAST, "logger=none", *make_args(bad_files)], tmp_path / "run", env=env)
    assert result.returncode == exit_code, result.stderr[-2000:]
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("gan_zoo: error: ") and message in last_line, last_line
    assert "Traceback" not in result.stderr


def test_a_nan_never_overwrites_the_last_good_checkpoint(tmp_path: Path, bad_files: dict[str, Path]) -> None:
    run = tmp_path / "run"
    shutil.copytree(bad_files["good"].parents[1], run)
    last = run / "checkpoints" / "last.ckpt"
    before = {p.name: p.read_bytes() for p in last.parent.iterdir()}
    # Resume in place with a penalty weight that overflows: the first critic step's loss is infinite.
    result = run_train([*FAST, "logger=none", "gen_iters=8", "lipschitz.lambda_=1e39", f"ckpt_path={last}"], run)
    assert result.returncode == 3, result.stderr[-2000:]
    assert "gan_zoo: error: non-finite critic loss term 'gp' (inf) at generator iteration 4" in result.stderr
    assert {p.name: p.read_bytes() for p in last.parent.iterdir()} == before  # nothing written, nothing lost


@pytest.mark.parametrize("multirun", [False, True], ids=["run", "sweep"])
def test_an_unwritable_output_folder_is_one_clear_line(tmp_path: Path, multirun: bool) -> None:
    # /proc refuses new files even for root, so this works where chmod cannot (CI runs as root).
    key = "hydra.sweep.dir" if multirun else "hydra.run.dir"
    command = [sys.executable, "-m", "gan_zoo.train", *(["-m"] if multirun else []), *FAST, "logger=none",
               f"{key}=/proc/gan_zoo_read_only/run"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert result.returncode == 2, result.stderr[-2000:]
    assert result.stderr.strip().splitlines()[-1].startswith(
        "gan_zoo: error: cannot write the output folder /proc/gan_zoo_read_only/run (")
    assert "Traceback" not in result.stderr
