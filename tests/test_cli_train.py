"""``python -m cnnviz train``: JSON lines, the progress output, recipes, and exit 2 on bad arguments."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from cnnviz.cli import build_parser, main
from cnnviz.cli.train import build_config

from cli_helpers import error_line, run_cli

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = ["--dataset", "synthetic", "--subset", "128", "--test-subset", "64", "--batch-size", "32", "--lr", "0.5"]


def test_json_lines(capsys):
    assert main(["train", "lenet", *TINY, "--max-steps", "3", "--log-every", "1", "--json-lines"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    events = [json.loads(line) for line in lines]  # one JSON object per line, nothing else on stdout
    kinds = [e["kind"] for e in events]
    assert kinds[0] == "start" and kinds[-2:] == ["results", "end"] and kinds.count("step") == 3
    assert events[0]["n_train"] == 128 and events[-1]["status"] == "completed"
    assert events[-1]["run_id"] and events[-2]["results"]["n"] == 64  # recorded in the run store, with its results
    assert set(events[1]["grad_norms"]) == set(events[0]["layers"])


@pytest.mark.slow  # a real training run
def test_progress_on_stderr(capsys):
    assert main(["train", "lenet", *TINY, "--epochs", "1"]) == 0
    out = capsys.readouterr()
    assert out.out == ""
    assert "epoch 1.00" in out.err and "test acc" in out.err and "completed" in out.err


@pytest.mark.slow  # a CLI subprocess
def test_real_loader_and_subprocess(tmp_path):
    from training_helpers import write_idx

    write_idx(tmp_path, "FashionMNIST", n_train=64, n_test=16)
    proc = subprocess.run(
        [sys.executable, "-m", "cnnviz", "train", "lenet", "--dataset", "fashion-mnist", "--data-dir", str(tmp_path),
         "--epochs", "1", "--batch-size", "16", "--json-lines"],
        capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    assert events[0]["dataset"] == "fashion-mnist" and events[0]["n_train"] == 64
    assert events[-1]["status"] == "completed" and events[-1]["step"] == 4


def test_diverged_run_exits_1(capsys):
    assert main(["train", "lenet", *TINY, "--lr", "1000", "--epochs", "2", "--json-lines"]) == 1
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["status"] == "diverged"


@pytest.mark.parametrize("argv", [
    ["train", "lenet", "--lr", "-1"],
    ["train", "lenet", "--lr", "abc"],
    ["train", "lenet", "--epochs", "0"],
    ["train", "lenet", "--set", "nonsense=1"],
    ["train", "lenet", "--set", "no_equals_sign"],
    ["train", "lenet", "--dataset", "cifar10"],
    ["train", "alexnet", "--input-side", "30"],
    ["train", "nosuchnet"],
    ["train", "lenet", "--device", "tpu"],
    ["train", "lenet", "--optimizer", "rmsprop"],
    ["train", "lenet", "--subset", "0"],
    ["train", "lenet", "--momentum", "1.5"],
])
def test_bad_arguments_exit_2_with_one_line(argv):
    error_line(*run_cli(*argv))


def test_recipes_and_overrides():  # --preset: the old name of --recipe, still accepted
    args = build_parser().parse_args(["train", "resnet18", "--recipe", "book", "--epochs", "2",
                                      "--set", "residual=false"])
    cfg = build_config(args)
    assert cfg.lr == 0.05 and cfg.batch_size == 256 and cfg.model.input_hw == (96, 96) and cfg.epochs == 2
    assert cfg.model.residual is False and cfg.data.dataset == "fashion-mnist"
    args = build_parser().parse_args(["train", "alexnet", "--preset", "class", "--dataset", "synthetic", "--lr", "0.3"])
    cfg = build_config(args)
    assert cfg.lr == 0.3 and cfg.data.dataset == "synthetic" and cfg.data.subset == 5000
    assert cfg.time_budget_s is None and cfg.model.width_div > 1  # fixed in epochs, never cut by wall time
    args = build_parser().parse_args(["train", "lenet", "--input-side", "32", "--in-channels", "3"])
    cfg = build_config(args)
    assert cfg.model.input_hw == (32, 32) and cfg.model.in_channels == 3


def test_a_dataset_named_but_missing_is_one_line_saying_where_it_goes(tmp_path, monkeypatch, capsys):
    from cnnviz.train import data

    monkeypatch.setattr(data, "_online", lambda host, timeout=2.0: False)  # never reach for the network
    monkeypatch.setenv("CNNVIZ_DB", str(tmp_path / "runs.sqlite"))
    line = error_line(*run_cli("train", "lenet", "--dataset", "mnist", "--data-dir", str(tmp_path), "--max-steps", "2"))
    assert "MNIST" in line and str(tmp_path / "MNIST" / "raw") in line and "--dataset synthetic" in line
    assert not (tmp_path / "runs.sqlite").exists()  # refused before anything was recorded


def test_no_dataset_named_falls_back_to_the_synthetic_shapes_and_says_so(tmp_path, monkeypatch):
    from cnnviz.train import data

    monkeypatch.setattr(data, "_online", lambda host, timeout=2.0: False)
    code, out, err = run_cli("train", "lenet", "--data-dir", str(tmp_path), "--max-steps", "2", "--subset", "64",
                             "--test-subset", "32", "--batch-size", "16", "--json-lines")
    start = json.loads(out.splitlines()[0])
    assert code == 0 and start["dataset"] == "synthetic" and "synthetic" in start["notice"]["en"]
