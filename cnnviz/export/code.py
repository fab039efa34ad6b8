"""A configuration as plain PyTorch: a standalone script, or a Jupyter notebook that also trains it.

The code is written from the config's values in the style of the chapter's notes
(``nn.Sequential``, ``vgg_block``, ``nin_block``, ``Inception``, ``Residual``, the BatchNorm
LeNet) and imports nothing of cnnviz, so a student can run it with PyTorch alone. Its network
has the parameters of ``create_model(cfg)`` and, at the book's top level (AlexNet and LeNet flat,
VGG its blocks then the dense layers, NiN, GoogLeNet and ResNet their blocks), the same output
shapes; ``tests/test_export.py`` checks both for every architecture and toggle. The script walks
``X = torch.rand(1, C, H, W)`` through ``net`` printing ``Conv2d output shape:`` lines as the
book does, then the parameter count.

Inside the blocks the code is the book's own (``p1_1`` … ``p4_2`` in Inception, ``conv3`` for
ResNet's 1×1 shortcut), so a state dict saved by cnnviz does not load into it: it is for reading
and running, not for weights. Comments and the notebook's text follow the reader's language.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable

import nbformat
from nbformat import v4

from cnnviz.config import ConvNetConfig
from cnnviz.errors import ConfigError
from cnnviz.i18n import t
from cnnviz.inspect.tracing import Trace, trace
from cnnviz.models.googlenet import STAGE3, STAGE4, STAGE5
from cnnviz.models.registry import list_models, model_spec
from cnnviz.train.recipes import BOOK

FORMATS = ("py", "ipynb")
DEFAULT_STEPS = 300  # the notebook's training steps (minibatches): a few minutes on a GPU at the book's sizes
DEFAULT_DATA_DIR = "../data"  # d2l's own root; torchvision downloads Fashion-MNIST there if it is missing
FASHION_CLASSES = 10
IND = "    "


# --- the config's toggles as code ---------------------------------------------------------
class _Code:
    """Expressions for one config: its activation, its BatchNorm (PyTorch's or the seed's), dropout."""

    def __init__(self, cfg: ConvNetConfig):
        self.cfg = cfg
        self.scratch = cfg.batch_norm and cfg.bn_impl == "scratch"
        self.relu = cfg.activation == "relu"

    def act(self) -> str:
        return "nn.ReLU()" if self.relu else "nn.Sigmoid()"

    def act_fn(self, expr: str) -> str:
        """The activation applied in a ``forward`` (the book's ``F.relu``)."""
        return f"F.relu({expr})" if self.relu else f"torch.sigmoid({expr})"

    def bn2d(self, c: int | str) -> str | None:
        if not self.cfg.batch_norm:
            return None
        return f"BatchNorm({c}, num_dims=4)" if self.scratch else f"nn.BatchNorm2d({c})"

    def bn1d(self, c: int | str) -> str | None:
        if not self.cfg.batch_norm:
            return None
        return f"BatchNorm({c}, num_dims=2)" if self.scratch else f"nn.BatchNorm1d({c})"

    def drop(self) -> str | None:
        return f"nn.Dropout({self.cfg.dropout:g})" if self.cfg.dropout > 0 else None

    def conv_unit(self, cin: int | str, cout: int | str, k: int, s: int = 1, p: int = 0) -> list[str]:
        """Conv → [BatchNorm] → activation, one line of an ``nn.Sequential`` (``layers.conv_block``)."""
        return _some([conv(cin, cout, k, s, p), self.bn2d(cout), self.act()])

    def dense_unit(self, fin: int | str, fout: int, drop: bool = True) -> list[str]:
        """Linear → [BatchNorm] → activation → [dropout] (``layers.dense_block``)."""
        return _some([f"nn.Linear({fin}, {fout})", self.bn1d(fout), self.act(), self.drop() if drop else None])


def _some(items: list[str | None]) -> list[str]:
    return [i for i in items if i is not None]


def conv(cin: int | str, cout: int | str, k: int, s: int = 1, p: int = 0) -> str:
    """``nn.Conv2d`` as the book writes it: stride and padding only when they are not the defaults."""
    args = [str(cin), str(cout), f"kernel_size={k}"]
    args += ([f"stride={s}"] if s != 1 else []) + ([f"padding={p}"] if p else [])
    return f"nn.Conv2d({', '.join(args)})"


def pool(kind: str, k: int, s: int, p: int = 0) -> str:
    return f"nn.{kind}(kernel_size={k}, stride={s}" + (f", padding={p})" if p else ")")


def sequential(lines: list[list[str] | str], indent: str = "") -> str:
    """``nn.Sequential(`` with one unit per line (a conv and its activation together); a plain
    string in ``lines`` is a comment line."""
    out = ["nn.Sequential("]
    units = [i for i, line in enumerate(lines) if not isinstance(line, str)]
    for i, line in enumerate(lines):
        if isinstance(line, str):
            out.append(f"{indent}{IND}# {line}")
        else:
            out.append(f"{indent}{IND}{', '.join(line)}" + (")" if i == units[-1] else ","))
    return "\n".join(out)


def _flatten(tr: Trace) -> tuple[tuple[int, ...], int]:
    """The map that Flatten receives (C, H, W) and the features it gives the first dense layer."""
    rec = next(r for r in tr.leaves() if r.kind == "flatten")
    return rec.input_shape, rec.output_shape[0]


# --- one writer per family: (definitions, the net) ----------------------------------------
Writer = Callable[[ConvNetConfig, Trace, _Code, str], tuple[list[str], str]]


def _alexnet(cfg, tr: Trace, c: _Code, lang: str) -> tuple[list[str], str]:
    c96, c256, c384 = cfg.ch(96), cfg.ch(256), cfg.ch(384)
    (fc_c, fh, fw), n_flat = _flatten(tr)
    pool3 = [pool("MaxPool2d", 3, 2)]
    lines: list[list[str] | str] = [
        t("export.c.alex_stem", lang), c.conv_unit(cfg.in_channels, c96, 11, 4, 1), pool3,
        c.conv_unit(c96, c256, 5, 1, 2), pool3,
        c.conv_unit(c256, c384, 3, 1, 1), c.conv_unit(c384, c384, 3, 1, 1), c.conv_unit(c384, c256, 3, 1, 1), pool3,
        ["nn.Flatten()"], t("export.c.flat", lang, c=fc_c, h=fh, w=fw, n=n_flat),
        c.dense_unit(n_flat, cfg.fc_width), c.dense_unit(cfg.fc_width, cfg.fc_width),
        [f"nn.Linear({cfg.fc_width}, {cfg.num_classes})"],
    ]
    return [], "net = " + sequential(lines)


def _vgg(cfg, tr: Trace, c: _Code, lang: str) -> tuple[list[str], str]:
    (_, fh, fw), _ = _flatten(tr)
    body = c.conv_unit("in_channels", "out_channels", 3, 1, 1)
    block = "\n".join([
        f"# {t('export.c.vgg_block', lang)}",
        "def vgg_block(num_convs, in_channels, out_channels):",
        f"{IND}layers = []",
        f"{IND}for _ in range(num_convs):",
        *(f"{IND * 2}layers.append({m})" for m in body),
        f"{IND * 2}in_channels = out_channels",
        f"{IND}layers.append({pool('MaxPool2d', 2, 2)})",
        f"{IND}return nn.Sequential(*layers)",
    ])
    arch = "conv_arch = " + repr(tuple(tuple(p) for p in cfg.conv_arch))
    if cfg.width_div > 1:  # the book's "ratio": every block's channels divided, the dense layers kept
        arch += (f"\nratio = {cfg.width_div}  # {t('export.c.ratio', lang)}\n"
                 "conv_arch = tuple((num_convs, out_channels // ratio) for num_convs, out_channels in conv_arch)")
    head = sequential([
        ["*conv_blks", "nn.Flatten()"], t("export.c.vgg_head", lang, h=fh, w=fw),
        c.dense_unit(f"out_channels * {fh} * {fw}", cfg.fc_width), c.dense_unit(cfg.fc_width, cfg.fc_width),
        [f"nn.Linear({cfg.fc_width}, {cfg.num_classes})"],
    ], IND)
    vgg = "\n".join([
        "def vgg(conv_arch):",
        f"{IND}conv_blks = []",
        f"{IND}in_channels = {cfg.in_channels}",
        f"{IND}for (num_convs, out_channels) in conv_arch:",
        f"{IND * 2}conv_blks.append(vgg_block(num_convs, in_channels, out_channels))",
        f"{IND * 2}in_channels = out_channels",
        f"{IND}return {head}",
    ])
    return [block, arch + "\n\n\n" + vgg], "net = vgg(conv_arch)"


def _nin(cfg, tr: Trace, c: _Code, lang: str) -> tuple[list[str], str]:
    # the book's first conv takes kernel_size, strides and padding as positional arguments
    one = c.conv_unit("out_channels", "out_channels", 1)
    first = ["nn.Conv2d(in_channels, out_channels, kernel_size, strides, padding)", *one[1:]]
    block = "\n".join([
        "def nin_block(in_channels, out_channels, kernel_size, strides, padding):",
        f"{IND}return " + sequential([first, t("export.c.nin_1x1", lang), one, one], IND),
    ])
    c96, c256, c384 = cfg.ch(96), cfg.ch(256), cfg.ch(384)
    p = ["nn.MaxPool2d(3, stride=2)"]
    lines: list[list[str] | str] = [
        [f"nin_block({cfg.in_channels}, {c96}, kernel_size=11, strides=4, padding=0)"], p,
        [f"nin_block({c96}, {c256}, kernel_size=5, strides=1, padding=2)"], p,
        [f"nin_block({c256}, {c384}, kernel_size=3, strides=1, padding=1)"], p,
    ]
    if drop := c.drop():
        lines.append([drop])
    lines += [t("export.c.nin_classes", lang, n=cfg.num_classes),
              [f"nin_block({c384}, {cfg.num_classes}, kernel_size=3, strides=1, padding=1)"],
              ["nn.AdaptiveAvgPool2d((1, 1))"], ["nn.Flatten()"]]
    return [block], "net = " + sequential(lines)


def _googlenet(cfg, tr: Trace, c: _Code, lang: str) -> tuple[list[str], str]:
    # the book's Inception; with BatchNorm on, bnX_Y normalises the output of conv pX_Y
    convs = [("p1_1", "in_channels", "c1", 1, 0), ("p2_1", "in_channels", "c2[0]", 1, 0),
             ("p2_2", "c2[0]", "c2[1]", 3, 1), ("p3_1", "in_channels", "c3[0]", 1, 0),
             ("p3_2", "c3[0]", "c3[1]", 5, 2), ("p4_2", "in_channels", "c4", 1, 0)]
    init = [f"{IND}# {t('export.c.inception', lang)}",
            f"{IND}def __init__(self, in_channels, c1, c2, c3, c4, **kwargs):", f"{IND * 2}super().__init__(**kwargs)"]
    for name, cin, cout, k, p in convs:
        if name == "p4_2":
            init.append(f"{IND * 2}self.p4_1 = {pool('MaxPool2d', 3, 1, 1)}")
        init.append(f"{IND * 2}self.{name} = {conv(cin, cout, k, 1, p)}")
        if c.bn2d(cout):
            init.append(f"{IND * 2}self.bn{name[1:]} = {c.bn2d(cout)}")

    def unit(name: str, x: str) -> str:
        y = f"self.{name}({x})"
        return c.act_fn(f"self.bn{name[1:]}({y})" if cfg.batch_norm else y)

    forward = [f"{IND}def forward(self, x):",
               f"{IND * 2}p1 = {unit('p1_1', 'x')}",
               f"{IND * 2}p2 = {unit('p2_2', unit('p2_1', 'x'))}",
               f"{IND * 2}p3 = {unit('p3_2', unit('p3_1', 'x'))}",
               f"{IND * 2}p4 = {unit('p4_2', 'self.p4_1(x)')}",
               f"{IND * 2}# {t('export.c.concat', lang)}",
               f"{IND * 2}return torch.cat((p1, p2, p3, p4), dim=1)"]
    inception = "\n".join(["class Inception(nn.Module):", *init, "", *forward])

    c64, c192 = cfg.ch(64), cfg.ch(192)
    stages, cin = [], c192
    for specs in (STAGE3, STAGE4, STAGE5):
        calls = []
        for c1, (c2a, c2b), (c3a, c3b), c4 in specs:
            ch = [cfg.ch(v) for v in (c1, c2a, c2b, c3a, c3b, c4)]
            calls.append([f"Inception({cin}, {ch[0]}, ({ch[1]}, {ch[2]}), ({ch[3]}, {ch[4]}), {ch[5]})"])
            cin = ch[0] + ch[2] + ch[4] + ch[5]
        stages.append(calls)
    down = [pool("MaxPool2d", 3, 2, 1)]
    blocks = [
        "b1 = " + sequential([c.conv_unit(cfg.in_channels, c64, 7, 2, 3), down]),
        "b2 = " + sequential([c.conv_unit(c64, c64, 1), c.conv_unit(c64, c192, 3, 1, 1), down]),
        "b3 = " + sequential([*stages[0], down]),
        "b4 = " + sequential([*stages[1], down]),
        "b5 = " + sequential([*stages[2], ["nn.AdaptiveAvgPool2d((1, 1))"], ["nn.Flatten()"]]),
    ]
    net = f"net = nn.Sequential(b1, b2, b3, b4, b5, nn.Linear({cin}, {cfg.num_classes}))"
    return [inception, "\n".join(blocks)], net


def _lenet(cfg, tr: Trace, c: _Code, lang: str) -> tuple[list[str], str]:
    c6, c16, h1, h2 = cfg.ch(6), cfg.ch(16), cfg.ch(120), cfg.ch(84)
    (fc_c, fh, fw), n_flat = _flatten(tr)
    avg = [pool("AvgPool2d", 2, 2)]
    lines: list[list[str] | str] = [
        c.conv_unit(cfg.in_channels, c6, 5), avg, c.conv_unit(c6, c16, 5), avg,
        ["nn.Flatten()"], t("export.c.flat", lang, c=fc_c, h=fh, w=fw, n=n_flat),
        c.dense_unit(n_flat, h1), c.dense_unit(h1, h2), [f"nn.Linear({h2}, {cfg.num_classes})"],
    ]
    return [], "net = " + sequential(lines)


def _resnet(cfg, tr: Trace, c: _Code, lang: str) -> tuple[list[str], str]:
    bn = cfg.batch_norm
    cls = "Residual" if cfg.residual else "PlainBlock"
    sig = "input_channels, num_channels, use_1x1conv=False, strides=1" if cfg.residual else \
        "input_channels, num_channels, strides=1"
    init = [f"{IND}def __init__(self, {sig}):", f"{IND * 2}super().__init__()",
            f"{IND * 2}self.conv1 = nn.Conv2d(input_channels, num_channels, kernel_size=3, padding=1, stride=strides)",
            f"{IND * 2}self.conv2 = nn.Conv2d(num_channels, num_channels, kernel_size=3, padding=1)"]
    if cfg.residual:
        init += [f"{IND * 2}if use_1x1conv:",
                 f"{IND * 3}self.conv3 = nn.Conv2d(input_channels, num_channels, kernel_size=1, stride=strides)",
                 f"{IND * 2}else:", f"{IND * 3}self.conv3 = None"]
    if bn:
        init += [f"{IND * 2}self.bn1 = {c.bn2d('num_channels')}", f"{IND * 2}self.bn2 = {c.bn2d('num_channels')}"]
    y1 = "self.bn1(self.conv1(X))" if bn else "self.conv1(X)"
    y2 = "self.bn2(self.conv2(Y))" if bn else "self.conv2(Y)"
    forward = [f"{IND}def forward(self, X):", f"{IND * 2}Y = {c.act_fn(y1)}"]
    if cfg.residual:
        forward += [f"{IND * 2}Y = {y2}", f"{IND * 2}if self.conv3:", f"{IND * 3}X = self.conv3(X)",
                    f"{IND * 2}Y += X  # {t('export.c.skip', lang)}", f"{IND * 2}return {c.act_fn('Y')}"]
    else:
        forward += [f"{IND * 2}# {t('export.c.plain', lang)}", f"{IND * 2}return {c.act_fn(y2)}"]
    block = "\n".join([f"class {cls}(nn.Module):", *init, "", *forward])

    stem = cfg.ch(cfg.stem_channels)
    widths = [cfg.ch(ch) for _, ch in cfg.stages]
    # cnnviz adds a 1x1 shortcut wherever the shape changes: in the first stage only if the stem's
    # channels differ from its own (never in the book's ResNet-18, whose stem and first stage have 64)
    first_mismatch = cfg.residual and stem != widths[0]
    shortcut = ", use_1x1conv=True" if cfg.residual else ""
    rb = ["def resnet_block(input_channels, num_channels, num_residuals, first_block=False):",
          f"{IND}blk = []", f"{IND}for i in range(num_residuals):",
          f"{IND * 2}if i == 0 and not first_block:",
          f"{IND * 3}# {t('export.c.halve', lang)}",
          f"{IND * 3}blk.append({cls}(input_channels, num_channels{shortcut}, strides=2))"]
    if first_mismatch:
        rb += [f"{IND * 2}elif i == 0 and input_channels != num_channels:",
               f"{IND * 3}blk.append({cls}(input_channels, num_channels, use_1x1conv=True))"]
    elif not cfg.residual and stem != widths[0]:
        rb += [f"{IND * 2}elif i == 0:", f"{IND * 3}blk.append({cls}(input_channels, num_channels))"]
    rb += [f"{IND * 2}else:", f"{IND * 3}blk.append({cls}(num_channels, num_channels))", f"{IND}return blk"]

    lines = ["b1 = " + sequential([c.conv_unit(cfg.in_channels, stem, 7, 2, 3), [pool("MaxPool2d", 3, 2, 1)]])]
    cin, names = stem, ["b1"]
    for i, ((n, _), cout) in enumerate(zip(cfg.stages, widths)):
        first = ", first_block=True" if i == 0 else ""
        lines.append(f"b{i + 2} = nn.Sequential(*resnet_block({cin}, {cout}, {n}{first}))")
        names.append(f"b{i + 2}")
        cin = cout
    net = (f"net = nn.Sequential({', '.join(names)},\n{IND}nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), "
           f"nn.Linear({cin}, {cfg.num_classes}))")
    return [block, "\n".join(rb), "\n".join(lines)], net


WRITERS: dict[str, Writer] = {"alexnet": _alexnet, "vgg": _vgg, "nin": _nin, "googlenet": _googlenet,
                              "batchnorm": _lenet, "resnet": _resnet}

# the seed's from-scratch BatchNorm (§5.2), with cnnviz's two changes so that it matches
# nn.BatchNorm2d: the mode follows net.train()/net.eval(), and the running variance is unbiased
SCRATCH_BN = '''def batch_norm(X, gamma, beta, moving_mean, moving_var, eps, momentum, training):
    if not training:
        X_hat = (X - moving_mean) / torch.sqrt(moving_var + eps)
    else:
        assert len(X.shape) in (2, 4)
        if len(X.shape) == 2:
            mean = X.mean(dim=0, keepdim=True)
            var = ((X - mean) ** 2).mean(dim=0, keepdim=True)
        else:
            mean = X.mean(dim=(0, 2, 3), keepdim=True)
            var = ((X - mean) ** 2).mean(dim=(0, 2, 3), keepdim=True)
        X_hat = (X - mean) / torch.sqrt(var + eps)
        n = X.numel() // X.shape[1]
        unbiased = var * n / max(n - 1, 1)
        moving_mean = momentum * moving_mean + (1.0 - momentum) * mean
        moving_var = momentum * moving_var + (1.0 - momentum) * unbiased
    Y = gamma * X_hat + beta
    return Y, moving_mean.data, moving_var.data


class BatchNorm(nn.Module):
    # num_features: outputs of a dense layer or channels of a conv; num_dims: 2 dense, 4 conv
    def __init__(self, num_features, num_dims):
        super().__init__()
        shape = (1, num_features) if num_dims == 2 else (1, num_features, 1, 1)
        self.gamma = nn.Parameter(torch.ones(shape))
        self.beta = nn.Parameter(torch.zeros(shape))
        # buffers, not parameters: net.to(device) moves them and the optimiser leaves them alone
        self.register_buffer("moving_mean", torch.zeros(shape))
        self.register_buffer("moving_var", torch.ones(shape))

    def forward(self, X):
        Y, self.moving_mean, self.moving_var = batch_norm(
            X, self.gamma, self.beta, self.moving_mean, self.moving_var,
            eps=1e-5, momentum=0.9, training=self.training)
        return Y'''


# --- the pieces both formats share --------------------------------------------------------
def family_of(cfg: ConvNetConfig) -> str:
    """The family whose builder makes ``cfg`` ("vgg" for any VGGConfig, "batchnorm" for LeNet)."""
    return next(model_spec(n).family for n in list_models() if type(model_spec(n).config) is type(cfg))


def _title(cfg: ConvNetConfig, name: str | None, lang: str) -> str:
    return t(f"arch.{name}", lang) if name else t(f"export.family.{family_of(cfg)}", lang)


def _settings(cfg: ConvNetConfig) -> str:
    return ", ".join(f"{k}={json.dumps(v)}" for k, v in cfg.to_dict().items())


def _parts(cfg: ConvNetConfig, lang: str) -> tuple[str, list[str], str, str]:
    """(imports, definitions, the net, the shape walk) of ``cfg``; ``trace`` first, so a config that
    cannot work raises its ``CnnvizError`` here and no code is written for it."""
    tr = trace(cfg)
    c = _Code(cfg)
    family = family_of(cfg)
    defs, net = WRITERS[family](cfg, tr, c, lang)
    uses_f = c.relu and family in ("googlenet", "resnet")
    imports = "import torch\nfrom torch import nn" + ("\nfrom torch.nn import functional as F" if uses_f else "")
    if c.scratch:
        defs = [f"# {t('export.c.scratch_bn', lang)}\n{SCRATCH_BN}", *defs]
    side = ", ".join(str(v) for v in (cfg.in_channels, *cfg.input_hw))
    walk = [f"X = torch.rand(size=(1, {side}), dtype=torch.float32)",
            "for layer in net:",
            f"{IND}X = layer(X)",
            f"{IND}print(layer.__class__.__name__, 'output shape:\\t', X.shape)",
            "print('parameters:', sum(p.numel() for p in net.parameters()))"]
    if cfg.batch_norm:  # one example has no batch statistics: BatchNorm1d refuses it in training mode
        walk = [f"net.eval()  # {t('export.c.eval', lang)}", *walk]
    return imports, defs, net, "\n".join(walk)


@functools.lru_cache(maxsize=256)
def script(cfg: ConvNetConfig, lang: str = "en", name: str | None = None) -> str:
    """A standalone PyTorch script of ``cfg`` (no cnnviz import): ``python FILE`` prints the
    output shape of each top-level layer and the parameter count. ``name``: the preset shown in
    the title, when ``cfg`` is one (else the family's name)."""
    imports, defs, net, walk = _parts(cfg, lang)
    header = [f"# {t('export.header', lang, title=_title(cfg, name, lang))}",
              f"# {t('export.settings', lang)} {_settings(cfg)}", f"# {t('export.run', lang)}"]
    body = ["\n".join(header) + "\n\n" + imports, *defs, net,
            "if __name__ == \"__main__\":\n" + "\n".join(IND + line for line in walk.splitlines())]
    return "\n\n\n".join(body) + "\n"


@functools.lru_cache(maxsize=256)
def notebook(cfg: ConvNetConfig, lang: str = "en", name: str | None = None, steps: int = DEFAULT_STEPS,
             data_dir: str = DEFAULT_DATA_DIR) -> str:
    """A Jupyter notebook (nbformat 4, JSON text) with the script's cells and a d2l-style training
    cell on Fashion-MNIST; ``steps`` and ``data_dir`` are the first code cell's variables (tagged
    ``parameters``, as papermill expects), so a reader or a test can change them."""
    imports, defs, net, walk = _parts(cfg, lang)
    title = _title(cfg, name, lang)
    recipe = BOOK[family_of(cfg)]
    params = "\n".join([
        f"DATA_DIR = {data_dir!r}  # {t('export.nb.data_dir', lang)}",
        f"NUM_STEPS = {int(steps)}  # {t('export.nb.steps', lang)}",
        f"BATCH_SIZE = {recipe.batch_size}",
        f"LR = {recipe.lr}  # {t('export.nb.lr', lang)}",
        f"EVAL_BATCHES = None  # {t('export.nb.eval', lang)}",
    ])
    cells = [
        v4.new_markdown_cell(f"# {title}\n\n{t('export.nb.intro', lang)}\n\n`{_settings(cfg)}`"),
        v4.new_code_cell(params, metadata={"tags": ["parameters"]}),
        v4.new_code_cell(imports),
        *(v4.new_code_cell(d) for d in defs),
        v4.new_code_cell(net),
        v4.new_markdown_cell(t("export.nb.walk", lang)),
        v4.new_code_cell(walk),
        v4.new_markdown_cell(t("export.nb.train", lang)),
        v4.new_code_cell(_training(cfg, lang)),
    ]
    nb = v4.new_notebook(cells=cells, metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
    })
    return nbformat.writes(nb)


def _training(cfg: ConvNetConfig, lang: str) -> str:
    """The d2l loop: Fashion-MNIST resized to the config's input, Xavier init, SGD, cross-entropy;
    NUM_STEPS minibatches, then the test accuracy."""
    h, w = cfg.input_hw
    trans = ([f"transforms.Resize(({h}, {w}))"] if (h, w) != (28, 28) else [])
    trans += ["transforms.Grayscale(num_output_channels=3)"] if cfg.in_channels == 3 else []
    trans += ["transforms.ToTensor()"]
    lines = [
        "import torchvision",
        "from torch.utils import data",
        "from torchvision import transforms",
        "",
        f"trans = transforms.Compose([{', '.join(trans)}])",
        "mnist_train = torchvision.datasets.FashionMNIST(root=DATA_DIR, train=True, transform=trans, download=True)",
        "mnist_test = torchvision.datasets.FashionMNIST(root=DATA_DIR, train=False, transform=trans, download=True)",
    ]
    if cfg.num_classes < FASHION_CLASSES:  # a head with fewer outputs than Fashion-MNIST's classes
        lines += [f"# {t('export.nb.subset', lang, n=cfg.num_classes)}",
                  f"mnist_train = data.Subset(mnist_train, (mnist_train.targets < {cfg.num_classes}).nonzero()[:, 0])",
                  f"mnist_test = data.Subset(mnist_test, (mnist_test.targets < {cfg.num_classes}).nonzero()[:, 0])"]
    lines += [
        "train_iter = data.DataLoader(mnist_train, BATCH_SIZE, shuffle=True)",
        "test_iter = data.DataLoader(mnist_test, BATCH_SIZE, shuffle=False)",
        "",
        "device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')",
        "",
        "",
        "def init_weights(m):",
        f"{IND}if type(m) == nn.Linear or type(m) == nn.Conv2d:",
        f"{IND * 2}nn.init.xavier_uniform_(m.weight)",
        "",
        "",
        "def evaluate_accuracy(net, data_iter, max_batches=None):",
        f"{IND}net.eval()",
        f"{IND}correct, total = 0, 0",
        f"{IND}with torch.no_grad():",
        f"{IND * 2}for i, (X, y) in enumerate(data_iter):",
        f"{IND * 3}if max_batches is not None and i >= max_batches:",
        f"{IND * 4}break",
        f"{IND * 3}X, y = X.to(device), y.to(device)",
        f"{IND * 3}correct += (net(X).argmax(dim=1) == y).sum().item()",
        f"{IND * 3}total += y.numel()",
        f"{IND}return correct / max(total, 1)",
        "",
        "",
        "net.apply(init_weights)",
        "net.to(device)",
        "optimizer = torch.optim.SGD(net.parameters(), lr=LR)",
        "loss = nn.CrossEntropyLoss()",
        "step = 0",
        "while step < NUM_STEPS:",
        f"{IND}for X, y in train_iter:",
        f"{IND * 2}if step == NUM_STEPS:",
        f"{IND * 3}break",
        f"{IND * 2}net.train()",
        f"{IND * 2}X, y = X.to(device), y.to(device)",
        f"{IND * 2}optimizer.zero_grad()",
        f"{IND * 2}y_hat = net(X)",
        f"{IND * 2}l = loss(y_hat, y)",
        f"{IND * 2}l.backward()",
        f"{IND * 2}optimizer.step()",
        f"{IND * 2}step += 1",
        f"{IND * 2}if step % 50 == 0 or step == NUM_STEPS:",
        f"{IND * 3}acc = (y_hat.argmax(dim=1) == y).float().mean().item()",
        f"{IND * 3}print(f'step {{step}}: loss {{l.item():.3f}}, train acc {{acc:.3f}}')",
        "print(f'test acc {evaluate_accuracy(net, test_iter, EVAL_BATCHES):.3f}')",
    ]
    return "\n".join(lines)


def export(cfg: ConvNetConfig, fmt: str, lang: str = "en", name: str | None = None, **notebook_args) -> str:
    """The text of ``cfg`` in format ``fmt`` ("py" or "ipynb")."""
    if fmt == "py":
        return script(cfg, lang, name)
    if fmt == "ipynb":
        return notebook(cfg, lang, name, **notebook_args)
    raise ConfigError("err.choice", field="format", choices=", ".join(FORMATS), value=fmt)
