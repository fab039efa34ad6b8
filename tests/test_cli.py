"""``python -m cnnviz``: the commands' output, and every user error as one line and status 2.

Two real subprocesses (started together, so they share the start-up cost) check the entry point
itself; everything else calls ``cnnviz.cli.main`` in-process.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import pytest

from cnnviz import list_models

from cli_helpers import error_line, run_cli

ROOT = pathlib.Path(__file__).resolve().parents[1]

VGG11_BLOCKS = [[64, 112, 112], [128, 56, 56], [256, 28, 28], [512, 14, 14], [512, 7, 7]]


def _spawn(*args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.Popen([sys.executable, "-m", "cnnviz", *args], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


SLOW_FIXTURES = {"real_runs"}  # python -m cnnviz in subprocesses (conftest marks their tests slow)
@pytest.fixture(scope="module")
def real_runs() -> dict[str, subprocess.CompletedProcess]:
    cmds = {
        "json": ("summary", "vgg11", "--input", "1,224,224", "--json"),
        "unknown": ("summary", "vgg12", "--json"),
    }
    procs = {k: _spawn(*v) for k, v in cmds.items()}
    out = {}
    for k, p in procs.items():
        stdout, stderr = p.communicate(timeout=240)
        out[k] = subprocess.CompletedProcess(p.args, p.returncode, stdout, stderr)
    return out


def _check_vgg11_json(obj: dict) -> None:
    assert set(obj) >= {"layers", "totals"}
    assert obj["totals"]["params"] == 128_806_154
    assert obj["totals"]["macs"] == 7_554_666_506
    assert obj["input_shape"] == [1, 224, 224]
    blocks = [r["output_shape"] for r in obj["layers"] if r["parent"] == "features"]
    assert blocks == VGG11_BLOCKS
    head = [r["output_shape"] for r in obj["layers"] if r["parent"] == "classifier" and r["kind"] in
            ("flatten", "linear")]
    assert head == [[25088], [4096], [4096], [10]]


def test_python_m_cnnviz_summary_json(real_runs):
    run = real_runs["json"]
    assert run.returncode == 0, run.stderr
    lines = run.stdout.strip().splitlines()
    assert len(lines) == 1  # one JSON object
    _check_vgg11_json(json.loads(lines[0]))


def test_python_m_cnnviz_error_is_one_line(real_runs):
    run = real_runs["unknown"]
    assert run.returncode == 2
    assert run.stdout == ""
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("cnnviz: error:")
    assert "vgg12" in lines[0] and "vgg11" in lines[0] and "Traceback" not in run.stderr


# --- in-process ----------------------------------------------------------------------------------
def test_list():
    code, out, err = run_cli("list")
    assert code == 0 and err == ""
    rows = out.strip().splitlines()
    assert rows[0].split()[:2] == ["name", "family"]
    assert [r.split()[0] for r in rows[1:]] == list_models()
    vgg = next(r for r in rows if r.startswith("vgg11 "))
    assert "1x224x224" in vgg and "128.81M" in vgg and "7.55G" in vgg
    assert "1x96x96" in next(r for r in rows if r.startswith("googlenet "))


def test_summary_json_in_process():
    code, out, err = run_cli("summary", "vgg11", "--input", "1,224,224", "--json")
    assert code == 0 and err == ""
    obj = json.loads(out)
    _check_vgg11_json(obj)
    assert obj["arch"] == "vgg11" and obj["config"]["conv_arch"][0] == [1, 64]


def test_summary_text_table():
    code, out, err = run_cli("summary", "vgg11")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].startswith("vgg11  input 1x224x224")
    header = next(line for line in lines if line.startswith("layer"))
    for col in ("type", "output shape", "params", "MACs", "RF"):
        assert col in header
    conv = next(line for line in lines if line.strip().startswith("features.0.0 "))
    assert "Conv2d k3s1p1" in conv and "64x224x224" in conv and "640" in conv
    assert any("512x7x7" in line for line in lines)
    assert "parameters            128,806,154" in out
    assert "multiply-accumulates  7,554,666,506 per example" in out
    assert "depth                 11 layers with weights on the longest path (8 conv, 3 linear in all)" in out
    assert "smallest input        32x32" in out


def test_summary_settings_apply():
    code, out, _ = run_cli("summary", "resnet18", "--set", "residual=false", "--json")
    assert code == 0 and json.loads(out)["totals"]["params"] == 11_005_450
    code, out, _ = run_cli("summary", "vgg11", "--input", "3x32x32", "--set", "conv_arch=[[1,16],[2,32]]",
                        "--set", "batch_norm=on", "--set", "fc_width=64", "--batch-size", "4", "--json")
    assert code == 0
    obj = json.loads(out)
    assert obj["config"]["conv_arch"] == [[1, 16], [2, 32]] and obj["config"]["in_channels"] == 3
    assert [r["output_shape"] for r in obj["layers"] if r["parent"] == "features"] == [[16, 16, 16], [32, 8, 8]]
    assert obj["totals"]["batch_size"] == 4
    assert any(r["type"] == "BatchNorm2d" for r in obj["layers"])


ERRORS = [
    # (argv, a fragment the message must contain)
    (["summary", "vgg12"], "unknown architecture 'vgg12'"),
    (["summary", "alexnet", "--input", "1,64,64"], "at least 65×65"),
    (["summary", "lenet", "--set", "width_div=8"], "6 ÷ 8 = 0"),
    (["summary", "vgg11", "--set", "width_div"], "--set expects key=value"),
    (["summary", "vgg11", "--set", "=4"], "--set expects key=value"),
    (["summary", "vgg11", "--set", "residual=false"], "unknown setting residual"),
    (["summary", "vgg11", "--set", "batch_norm=maybe"], "batch_norm: cannot read 'maybe'"),
    (["summary", "vgg11", "--set", "width_div=two"], "width_div: cannot read 'two'"),
    (["summary", "vgg11", "--set", "conv_arch=[[1,64"], "conv_arch: cannot read"),
    (["summary", "vgg11", "--set", "conv_arch=5"], "conv_arch must be a list of (count, channels) pairs"),
    (["summary", "vgg11", "--set", "conv_arch=[]"], "conv_arch is empty"),
    (["summary", "vgg11", "--set", "conv_arch=[[0,64]]"], "block 1 has 0 convolutions"),
    (["summary", "vgg11", "--set", "dropout=1.5"], "dropout must be in [0, 1)"),
    (["summary", "vgg11", "--set", "activation=tanh"], "activation must be one of relu, sigmoid"),
    (["summary", "vgg11", "--set", "input_hw=[224]"], "input size must be (height, width)"),
    (["summary", "vgg11", "--input", "1,224"], "--input expects C,H,W"),
    (["summary", "vgg11", "--input", "1,224,224,1"], "--input expects C,H,W"),
    (["summary", "vgg11", "--input", "a,b,c"], "--input expects C,H,W"),
    (["summary", "vgg11", "--input", "2,224,224"], "in_channels must be 1 (grayscale) or 3 (RGB)"),
    (["summary", "vgg11", "--input", "1,0,224"], "must be positive"),
    (["summary", "vgg11", "--input", "1,-5,-5"], "must be positive"),
    (["summary", "vgg11", "--input", "1,5000,5000"], "over the cap"),
    (["summary", "vgg11", "--batch-size", "0"], "batch size must be between 1 and"),
    # argparse's own errors go through the same one-line form
    ([], "required"),
    (["summary"], "required"),
    (["summary", "vgg11", "--input"], "expected one argument"),
    (["summary", "vgg11", "--batch-size", "x"], "invalid int value"),
    (["frobnicate"], "invalid choice"),
    (["summary", "vgg11", "--frob"], "unrecognized arguments"),
]


@pytest.mark.parametrize("argv, fragment", ERRORS, ids=[" ".join(a) or "(none)" for a, _ in ERRORS])
def test_errors_are_one_line_and_status_2(argv, fragment):
    assert fragment in error_line(*run_cli(*argv))


# Values that get past ``parse_value`` (valid JSON) but are not sizes: they once escaped
# ``ConvNetConfig.__post_init__`` and the pair converters as TypeError/OverflowError tracebacks.
MALFORMED_TUPLES = [
    ["summary", "vgg11", "--set", "input_hw=5"],
    ["summary", "vgg11", "--set", 'input_hw="ab"'],
    ["summary", "vgg11", "--set", "input_hw=[null,3]"],
    ["summary", "vgg11", "--set", "input_hw=[[1,2],3]"],
    ["summary", "vgg11", "--set", "input_hw=[1e400,3]"],
    ["summary", "vgg11", "--set", "conv_arch=[[1e400,64]]"],
    ["summary", "resnet18", "--set", "stages=[[2,1e400]]"],
    ["summary", "vgg11", "--set", "input_hw=[1.9,64]"],
    ["summary", "vgg11", "--set", "input_hw=[true,64]"],
]


@pytest.mark.parametrize("argv", MALFORMED_TUPLES, ids=[a[-1] for a in MALFORMED_TUPLES])
def test_malformed_tuple_settings_are_one_line_errors(argv):
    error_line(*run_cli(*argv))
