"""Bad values through the real command line: one `gan_zoo: error:` line naming the key, exit 2, nothing trained.

The cases up to the sweeps stop in `gan_zoo.train.main` before Hydra runs a job (no run folder is made); the
others stop inside the job, after torch is imported and before anything is built.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import FAST, run_train
from hydra import compose, initialize_config_module
from PIL import Image

from gan_zoo.runtime.logged_metrics import logged_metrics
from gan_zoo.runtime.metrics_file import NON_FINITE_KEY, read_metrics

BEFORE_ANY_JOB = [
    (["data.batch_size=abc"], "data.batch_size must be an integer (got 'abc')"),
    (["lipschitz.lambda_=abc"], "lipschitz.lambda_ must be a number (got 'abc')"),
    (["seed=abc"], "seed must be an integer (got 'abc')"),
    (["seed=-1"], "seed must be >= 0 (got -1)"),
    (["gen_iters=1.5"], "gen_iters must be an integer (got 1.5)"),
    (["wgan_warmup=no"], "wgan_warmup must be true or false (got 'no')"),
    (["lipschitz=clip", "lipschitz.c=inf"], "lipschitz.c must be a finite number (got inf)"),
    (["lipschitz.lamda=1"], "Could not override 'lipschitz.lamda'; To append to your config use +lipschitz.lamda=1; "
                            "Key 'lamda' is not in struct; did you mean lipschitz.lambda_?"),
    (["seed=0,1"], "Ambiguous value for argument 'seed=0,1'"),
    (["+trainer.max_epochs=3"], "trainer.max_epochs is refused: the training length is gen_iters (generator "
                                "iterations, now 4), validated and checkpointed every eval_every (now 2); drop "
                                "trainer.max_epochs and set gen_iters=<n>"),
    (["+trainer.max_steps=1"], "trainer.max_steps is refused: the training length is gen_iters"),
    (["data=folder", "model=dcgan"], "data.path must be given: add data.path=/path/to/images (the folder that holds "
                                     "the images) to the command line"),
]


def one_error_line(result, exit_code: int = 2) -> str:
    assert result.returncode == exit_code, result.stderr[-2000:]
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    errors = [line for line in result.stderr.splitlines() if "error" in line.lower()]
    assert len(errors) == 1, result.stderr[-2000:]
    assert errors[0] == result.stderr.strip().splitlines()[-1]
    assert errors[0].startswith("gan_zoo: error: ")
    return errors[0][len("gan_zoo: error: "):]


@pytest.mark.parametrize(("args", "message"), BEFORE_ANY_JOB, ids=[" ".join(a) for a, _ in BEFORE_ANY_JOB])
def test_a_bad_value_stops_before_any_job(tmp_path: Path, args: list[str], message: str) -> None:
    run = tmp_path / "run"
    assert message in one_error_line(run_train([*FAST, "logger=none", *args], run))
    assert not run.exists()  # stopped before Hydra made the run folder


@pytest.mark.parametrize(("sweep", "message"), [
    (["seed=0,-1"], "seed must be >= 0 (got -1) (sweep job 1 of 2: seed=-1)"),
    (["seed=0,1", "lipschitz.lambda_=1,abc"],
     "lipschitz.lambda_ must be a number (got 'abc') (sweep job 1 of 4: seed=0 lipschitz.lambda_=abc)"),
    (["gen_iters=4,1.5"], "gen_iters must be an integer (got 1.5) (sweep job 1 of 2: gen_iters=1.5)"),
])
def test_a_later_sweep_jobs_bad_value_stops_the_sweep_before_the_first_job(tmp_path: Path, sweep: list[str],
                                                                            message: str) -> None:
    result = run_train([*FAST, "logger=none", *sweep], tmp_path / "sweep", multirun=True)
    assert one_error_line(result) == message
    assert not (tmp_path / "sweep").exists()


def test_lightning_and_hydra_instantiate_errors_keep_their_text(tmp_path: Path) -> None:
    result = run_train([*FAST, "logger=none", "+trainer.foo=1"], tmp_path / "run")
    assert one_error_line(result) == "trainer: Trainer.__init__() got an unexpected keyword argument 'foo'"
    result = run_train([*FAST, "logger=none", "trainer.precision=17"], tmp_path / "run2")
    assert one_error_line(result).startswith("trainer: Precision 17 is invalid. Allowed precision values:")


def test_an_optimized_metric_the_run_never_logs_is_refused_up_front(tmp_path: Path) -> None:
    result = run_train([*FAST, "logger=none", "optimized_metric=val/fid"], tmp_path / "run")
    message = one_error_line(result)
    assert message.startswith("optimized_metric 'val/fid' is not logged by this run; choose one of: critic_steps, ")
    assert "val/w1_exact" in message and "train/penalty/gp" in message
    assert not (tmp_path / "run" / "checkpoints").exists()  # nothing trained


# ------------------------------------------------------------------------------------------------ image folders
def write_pngs(folder: Path, count: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        Image.new("L", (16, 16), color=20 * i).save(folder / f"{i}.png")
    return folder


@pytest.mark.parametrize(("images", "extra", "message"), [
    (2, [], "the data set has 2 image(s); a run needs at least 3 (data.val_size >= 2 held out and 1 to train on): "
            "add images"),
    (5, [], "data.val_size (100) must be smaller than the data set (5 images); lower data.val_size (at most 4, e.g. 2)"),
])
def test_a_folder_with_too_few_images_says_what_is_possible(tmp_path: Path, images: int, extra: list[str],
                                                            message: str) -> None:
    folder = write_pngs(tmp_path / "images", images)
    result = run_train([*FAST, "logger=none", "data=folder", f"data.path={folder}", "data.image_size=28",
                        "data.channels=1", "data.val_size=100", "model=dcgan", "metrics=none", *extra], tmp_path / "run")
    assert one_error_line(result) == message


def test_a_data_path_that_is_a_file_is_called_a_file(tmp_path: Path) -> None:
    file = write_pngs(tmp_path / "images", 1) / "0.png"
    result = run_train([*FAST, "logger=none", "data=folder", f"data.path={file}", "model=dcgan", "metrics=none"],
                       tmp_path / "run")
    assert one_error_line(result).startswith(f"image folder {file} is a file, not a folder: point data.path at the "
                                             f"folder that holds the images")


# ------------------------------------------------------------------------------------------------- checkpoints
@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One finished 4-iteration WGAN-GP run with Adam (the defaults)."""
    run = tmp_path_factory.mktemp("trained") / "run"
    result = run_train([*FAST, "logger=none"], run)
    assert result.returncode == 0, result.stderr[-2000:]
    return run


def test_the_metric_names_decided_from_the_config_are_those_the_run_logs(trained: Path) -> None:
    with initialize_config_module("gan_zoo.conf", version_base="1.3"):
        cfg = compose("train", overrides=[*FAST, "logger=none"])
    names, exact = logged_metrics(cfg)
    assert exact
    assert names == set(read_metrics(trained / "metrics.json")) - {NON_FINITE_KEY}


@pytest.mark.parametrize(("args", "message"), [
    (["objective=lsgan"], "was trained with objective WassersteinGAN; this run asks for LeastSquaresGAN: resume with "
                          "objective=wgan, or start a new run without ckpt_path"),
    (["optim=rmsprop"], "was trained with optim.generator Adam; this run asks for RMSprop: resume with "
                        "optim=adam"),
    (["lipschitz=clip"], "was trained with lipschitz GradientPenalty; this run asks for WeightClipping"),
    (["gen_iters=4"], "is at generator iteration 4 and this run's gen_iters is 4: nothing is left to train; set "
                      "gen_iters above 4 to train it further"),
    (["gen_iters=3"], "is at generator iteration 4 and this run's gen_iters is 3"),
])
def test_a_checkpoint_that_does_not_fit_the_run_is_refused(tmp_path: Path, trained: Path, args: list[str],
                                                          message: str) -> None:
    checkpoint = trained / "checkpoints" / "last.ckpt"
    result = run_train([*FAST, "logger=none", f"ckpt_path={checkpoint}", *args], tmp_path / "resumed")
    line = one_error_line(result)
    assert line.startswith(f"ckpt_path {checkpoint} ") and message in line
    assert not (tmp_path / "resumed" / "checkpoints").exists()
