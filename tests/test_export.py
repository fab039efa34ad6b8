"""Export to plain PyTorch (``cnnviz.export.code``, ``python -m cnnviz export``, the pages' buttons).

Every exported script runs in a fresh interpreter that cannot import cnnviz (cwd outside the
repository, no PYTHONPATH) and must print, layer by layer, the shapes of ``summary --json`` at
the book's top level, and its parameter count; in-process, its ``net`` must hold parameters of
exactly the shapes of ``create_model(cfg)``. The LeNet notebook validates and executes.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import runpy
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import nbformat
import pytest
from conftest import need
from streamlit.testing.v1 import AppTest, app_test

from cnnviz.cli import apply_settings, parse_input
from cnnviz.export import code as export
from cnnviz.i18n import t
from cnnviz.models.registry import create_model, get_config

from cli_helpers import error_line, run_cli

ROOT = pathlib.Path(__file__).resolve().parents[1]

# (arch, --set items, --input, language of the comments): each family with its toggles; small
# inputs and width divisors where the architecture allows, so the whole file stays fast
CASES = [
    ("alexnet", [], None, "en"),
    ("alexnet", ["batch_norm=on", "width_div=4", "fc_width=256", "dropout=0"], "3,96,96", "zh"),
    ("vgg11", ["width_div=8", "fc_width=256"], None, "en"),
    ("vgg11", ["batch_norm=on", "conv_arch=[[1,16],[2,32],[1,64]]", "dropout=0", "fc_width=128"], "3,32,32", "en"),
    ("vgg11", ["width_div=4", "batch_norm=on", "bn_impl=scratch", "fc_width=256", "activation=sigmoid"], "1,64,64",
     "zh"),
    ("nin", [], None, "en"),
    ("nin", ["batch_norm=on", "dropout=0", "width_div=4", "num_classes=7"], "3,67,67", "en"),
    ("googlenet", [], None, "zh"),
    ("googlenet", ["batch_norm=on", "width_div=4", "activation=sigmoid"], "3,64,64", "en"),
    ("lenet", [], None, "en"),
    ("lenet", ["batch_norm=off", "activation=relu", "dropout=0.3"], None, "en"),
    ("lenet", ["bn_impl=scratch", "num_classes=5"], "3,32,32", "zh"),
    ("resnet18", [], None, "en"),
    ("resnet18", ["residual=off", "width_div=4"], "1,64,64", "en"),
    ("resnet18", ["batch_norm=off", "width_div=4", "activation=sigmoid"], None, "zh"),
    ("resnet18", ["stem_channels=32", "stages=[[1,64],[1,128]]", "bn_impl=scratch"], "3,48,48", "en"),
    ("resnet18", ["residual=off", "stem_channels=16", "stages=[[1,32],[2,64]]"], "1,40,40", "en"),
    ("resnet34", ["width_div=8"], None, "en"),
]
IDS = [f"{a}-{i}" for i, (a, *_) in enumerate(CASES)]

# one fresh interpreter runs several exported scripts as __main__ (torch imported once), and
# fails if anything of cnnviz was imported on the way
RUNNER = """
import contextlib, io, json, runpy, sys
out = {}
for path in sys.argv[1:]:
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        runpy.run_path(path, run_name="__main__")
    out[path] = buf.getvalue()
assert not [m for m in sys.modules if m.split(".")[0] == "cnnviz"], "an exported script imported cnnviz"
print(json.dumps(out))
"""
LINE = re.compile(r"^(\w+) output shape:\t torch\.Size\(\[([\d, ]*)\]\)$")


def case_config(arch: str, sets: list[str], shape: str | None):
    """The config the CLI builds from these arguments."""
    cfg = get_config(arch)
    if shape:
        c, h, w = parse_input(shape)
        cfg = cfg.replace(in_channels=c, input_hw=(h, w))
    return apply_settings(cfg, sets)


def cli_args(arch: str, sets: list[str], shape: str | None) -> list[str]:
    return [arch, *(a for s in sets for a in ("--set", s)), *(["--input", shape] if shape else [])]


def clean_env() -> dict[str, str]:
    """The environment without PYTHONPATH: the scripts must not find cnnviz."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> dict[int, tuple[pathlib.Path, str]]:
    """Every case exported through the CLI and run: {case index: (script path, its stdout)}."""
    folder = tmp_path_factory.mktemp("exported")
    paths = []
    for i, (arch, sets, shape, lang) in enumerate(CASES):
        path = folder / f"case{i}_{arch}.py"
        code, out, err = run_cli("export", *cli_args(arch, sets, shape), "--lang", lang, "-o", str(path))
        assert code == 0, err
        paths.append(path)
    # two interpreters side by side (one per core of the 2-core machine the suite is timed on; each
    # one more costs a torch import, ~3 s of CPU, and with the other xdist worker busy gains no time)
    groups = [paths[i::2] for i in range(2)]

    def run(group: list[pathlib.Path]) -> dict[str, str]:
        proc = subprocess.run([sys.executable, "-c", RUNNER, *map(str, group)], cwd=folder, env=clean_env(),
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr[-3000:]
        return json.loads(proc.stdout)

    with ThreadPoolExecutor(len(groups)) as pool:
        outputs = {k: v for d in pool.map(run, groups) for k, v in d.items()}
    return {i: (p, outputs[str(p)]) for i, p in enumerate(paths)}


def book_top_level(layers: list[dict]) -> list[tuple[str, list[int]]]:
    """(type, output shape with the batch) of the records at the book's top level: the children
    of cnnviz's ``features``/``classifier`` containers (AlexNet, VGG, LeNet), else the top level."""
    wrappers = ("features", "classifier")
    top = [r for r in layers if not r["synthetic"] and (r["parent"] in wrappers
                                                        or (r["parent"] == "" and r["name"] not in wrappers))]
    return [(r["type"], [1, *r["output_shape"]]) for r in top]


def printed(stdout: str) -> tuple[list[tuple[str, list[int]]], int]:
    lines = stdout.strip().splitlines()
    shapes = []
    for line in lines[:-1]:
        m = LINE.match(line)
        assert m, line
        shapes.append((m[1], [int(v) for v in m[2].split(",")]))
    label, _, n = lines[-1].partition(" ")
    assert label == "parameters:", lines[-1]
    return shapes, int(n)


@pytest.mark.parametrize("i", range(len(CASES)), ids=IDS)
@pytest.mark.slow  # ``exported``: every case exported and run, in two interpreters
def test_script_prints_the_summary_shapes_and_parameters(exported, i):
    arch, sets, shape, _ = CASES[i]
    path, stdout = exported[i]
    code, out, err = run_cli("summary", *cli_args(arch, sets, shape), "--json")
    assert code == 0, err
    summary = json.loads(out)
    shapes, params = printed(stdout)
    assert params == summary["totals"]["params"]
    assert shapes == book_top_level(summary["layers"])
    assert len(shapes) >= 6  # a real walk, not an empty one
    text = path.read_text(encoding="utf-8")
    assert not re.search(r"^\s*(import|from)\s+cnnviz", text, re.M)


@pytest.mark.parametrize("i", range(len(CASES)), ids=IDS)
@pytest.mark.slow  # ``exported``: every case exported and run, in two interpreters
def test_script_net_has_the_parameters_of_create_model(exported, i):
    """Same count is not enough: every parameter tensor has a twin of the same shape."""
    arch, sets, shape, _ = CASES[i]
    ns = runpy.run_path(str(exported[i][0]), run_name="export_check")  # builds net, skips the walk
    cfg = case_config(arch, sets, shape)

    def shapes(model) -> list[tuple[int, ...]]:
        return sorted(tuple(p.shape) for p in model.parameters())

    assert shapes(ns["net"]) == shapes(create_model(cfg))


@pytest.mark.slow  # a fresh interpreter imports torch
def test_script_runs_as_a_plain_file(tmp_path):
    """``python script.py`` exactly as a student runs it, outside the repository."""
    path = tmp_path / "lenet.py"
    path.write_text(export.script(get_config("lenet")), encoding="utf-8")
    proc = subprocess.run([sys.executable, str(path)], cwd=tmp_path, env=clean_env(), capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0] == "Conv2d output shape:\t torch.Size([1, 6, 24, 24])"
    assert proc.stdout.splitlines()[-1] == "parameters: 44878"  # the book's BatchNorm LeNet


def test_script_reads_like_the_book():
    vgg = export.script(get_config("vgg11", width_div=4), "en", "vgg11")
    assert vgg.startswith("# " + t("export.header", "en", title="VGG-11"))
    assert "def vgg_block(num_convs, in_channels, out_channels):" in vgg and "ratio = 4" in vgg
    assert "nn.Linear(out_channels * 7 * 7, 4096)" in vgg
    nin = export.script(get_config("nin"))
    assert "nin_block(1, 96, kernel_size=11, strides=4, padding=0)" in nin
    res = export.script(get_config("resnet18"))
    assert "class Residual(nn.Module):" in res and "Y += X" in res and "use_1x1conv=True, strides=2" in res
    plain = export.script(get_config("resnet18", residual=False))
    assert "class PlainBlock(nn.Module):" in plain and "+=" not in plain and "conv3" not in plain
    lenet = export.script(get_config("lenet"))
    assert "nn.Conv2d(1, 6, kernel_size=5), nn.BatchNorm2d(6), nn.Sigmoid()," in lenet
    assert "nn.Linear(256, 120), nn.BatchNorm1d(120), nn.Sigmoid()," in lenet
    scratch = export.script(get_config("lenet", bn_impl="scratch"))
    assert "class BatchNorm(nn.Module):" in scratch and "BatchNorm(6, num_dims=4)" in scratch
    assert "nn.BatchNorm2d" not in scratch
    zh = export.script(get_config("googlenet"), "zh", "googlenet")
    assert zh.startswith("# " + t("export.header", "zh", title="GoogLeNet"))
    assert t("export.c.concat", "zh") in zh


def test_export_refuses_a_config_that_does_not_trace():
    from cnnviz.errors import ShapeError

    with pytest.raises(ShapeError):
        export.script(get_config("alexnet", input_hw=(32, 32)))


# --- the notebook -------------------------------------------------------------------------
@pytest.mark.parametrize("arch", ["alexnet", "vgg11", "nin", "googlenet", "lenet", "resnet18"])
def test_notebook_validates_and_holds_the_script(arch):
    cfg = get_config(arch)
    nb = nbformat.reads(export.notebook(cfg, "en", arch), as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code[0].metadata["tags"] == ["parameters"] and "NUM_STEPS = " in code[0].source
    assert nb.metadata["kernelspec"]["name"] == "python3"
    script = export.script(cfg, "en", arch)
    net = next(c.source for c in code if c.source.startswith("net = "))
    assert net in script
    assert "optimizer.step()" in code[-1].source and "FashionMNIST" in code[-1].source


@pytest.mark.slow
def test_lenet_notebook_executes(tmp_path, shared_data):
    """Three training steps on the shared Fashion-MNIST through nbclient's python3 kernel, with a
    resize, three channels and a five-class head (a subset of the classes) on the way."""
    NotebookClient = need("nbclient").NotebookClient  # only this test runs a kernel
    path = tmp_path / "lenet.ipynb"
    code, out, err = run_cli("export", "lenet", "--input", "3,32,32", "--set", "num_classes=5", "--format", "ipynb",
                             "--steps", "3", "--data-dir", str(shared_data), "-o", str(path))
    assert code == 0, err
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    NotebookClient(nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    text = "\n".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    params = json.loads(run_cli("summary", "lenet", "--input", "3,32,32", "--set", "num_classes=5", "--json")[1])
    assert f"parameters: {params['totals']['params']}" in text
    assert "step 3: loss" in text
    acc = float(re.search(r"test acc ([\d.]+)", text)[1])
    assert 0.0 <= acc <= 1.0
    assert "Linear output shape:\t torch.Size([1, 5])" in text


# --- the CLI ------------------------------------------------------------------------------
def test_cli_writes_both_formats(tmp_path):
    py, nb = tmp_path / "a.py", tmp_path / "a.ipynb"
    code, out, err = run_cli("export", "alexnet", "-o", str(py))
    assert code == 0 and out.strip() == str(py), err
    assert py.read_text(encoding="utf-8").startswith("# " + t("export.header", "en", title="AlexNet"))
    code, out, err = run_cli("export", "vgg11", "--set", "width_div=4", "--format", "ipynb", "-o", str(nb))
    assert code == 0, err
    nbformat.validate(nbformat.read(nb, as_version=4))
    # changed settings: the title names the family, not the preset
    assert t("export.family.vgg", "en") in nb.read_text(encoding="utf-8")


@pytest.mark.parametrize("argv, needle", [
    (["nope"], "unknown"),
    (["alexnet", "--set", "width_div=100"], "width_div"),
    (["alexnet", "--set", "nonsense=1"], "nonsense"),
    (["alexnet", "--input", "1,8,8"], "at least 65"),
    (["alexnet", "--input", "one"], "one"),
    (["lenet", "--format", "ipynb", "--steps", "0"], "steps"),
    (["lenet", "--format", "pdf"], "format"),
])
def test_cli_errors_are_one_line(tmp_path, argv, needle):
    code, out, err = run_cli("export", *argv, "-o", str(tmp_path / "x.py"))
    assert needle in error_line(code, out, err)
    assert not (tmp_path / "x.py").exists()


def test_cli_needs_an_output_and_a_writable_one(tmp_path):
    code, out, err = run_cli("export", "lenet")
    assert "-o" in error_line(code, out, err)
    code, out, err = run_cli("export", "lenet", "-o", str(tmp_path / "missing" / "x.py"))
    assert "cannot write" in error_line(code, out, err)


def test_export_rejects_an_unknown_format():
    from cnnviz.errors import ConfigError

    with pytest.raises(ConfigError, match="format"):
        export.export(get_config("lenet"), "pdf")


# --- the pages ----------------------------------------------------------------------------
class _Recorder(app_test.MediaFileManager):
    """AppTest's media manager, kept so the test can generate the deferred downloads."""

    made: list[_Recorder] = []

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        _Recorder.made.append(self)


def downloads(at: AppTest) -> dict[str, str]:
    """{label: file text} of the page's download buttons, generated as a click would."""
    mgr = _Recorder.made[-1]
    out = {}
    for b in at.get("download_button"):
        url = mgr.execute_deferred(b.proto.deferred_file_id)
        out[b.proto.label] = mgr._storage.get_file(url.rsplit("/", 1)[1]).content.decode("utf-8")
    return out


@pytest.fixture
def recorded(monkeypatch):
    _Recorder.made.clear()
    monkeypatch.setattr(app_test, "MediaFileManager", _Recorder)


def open_page(page: str, **query: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    for k, v in query.items():
        at.query_params[k] = v
    at.run()
    at.switch_page(f"pages/{page}.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_explorer_offers_both_downloads_of_the_shown_config(recorded):
    at = open_page("explorer", arch="resnet18", bn="no")
    files = downloads(at)
    assert set(files) == {t("export.button.py", "en"), t("export.button.ipynb", "en")}
    py = files[t("export.button.py", "en")]
    cfg = get_config("resnet18", batch_norm=False)
    assert py.startswith("# " + t("export.header", "en", title=t("export.family.resnet", "en")))
    assert py == export.script(cfg, "en", None)  # the shown config, not the preset
    nb = nbformat.reads(files[t("export.button.ipynb", "en")], as_version=4)
    nbformat.validate(nb)
    assert nb.cells[0].source.startswith("# " + t("export.family.resnet", "en"))


def test_explorer_offers_no_download_when_the_config_does_not_trace(recorded):
    at = open_page("explorer", arch="alexnet", side="32")
    assert at.error and not at.get("download_button")


def test_designer_offers_the_design(recorded):
    at = open_page("designer", lang="zh")
    files = downloads(at)
    assert set(files) == {t("export.button.py", "zh"), t("export.button.ipynb", "zh")}
    assert files[t("export.button.py", "zh")].startswith("# " + t("export.header", "zh", title="VGG-11"))
