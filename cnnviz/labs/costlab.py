"""What the 1×1 convolutions buy: Inception's bottlenecks and NiN's head, in closed form (§3, §4).

Everything here is arithmetic on channel counts and map sizes; nothing is built. A conv
layer with a k×k window, ``cin`` inputs and ``cout`` outputs on an H×W output map has

    weights = k²·cin·cout,   biases = cout,   MACs = k²·cin·cout·H·W

(one multiply-accumulate per weight per output pixel). That is the convention of the seed's
comparison table (Inception 0.16M parameters / 128M FLOPs against 0.44M / 346M for one 3×3
conv and 1.22M / 963M for one 5×5 conv, all without biases). torchinfo also counts each
bias as one MAC per output pixel, so ``Cost.macs_torchinfo`` is given too: the tests and the
page cross-check the closed form against torchinfo (``torchinfo_inception``) and against
``cnnviz.inspect.trace`` for whole networks (``nin_vs_alexnet``).
"""

from __future__ import annotations

from dataclasses import dataclass

from cnnviz.config import MAX_CHANNELS, MAX_INPUT_SIDE
from cnnviz.errors import ConfigError
from cnnviz.models.geometry import out_size

# The book's first Inception block (GoogLeNet stage 3, block 1) at its 28×28 input.
BOOK_BLOCK = dict(cin=192, c1=64, c2=(96, 128), c3=(16, 32), c4=32, side=28)


@dataclass(frozen=True)
class Cost:
    """Parameters and multiply-accumulates of one layer or a sum of layers (one example)."""

    weights: int
    biases: int
    macs: int  # weights × output pixels: the book's count
    out_pixels_biases: int = 0  # biases × output pixels: what torchinfo adds on top of ``macs``

    @property
    def params(self) -> int:
        """Weights plus biases: what ``nn.Module.parameters()`` counts."""
        return self.weights + self.biases

    @property
    def macs_torchinfo(self) -> int:
        """torchinfo's mult-adds: every parameter (biases included) once per output pixel."""
        return self.macs + self.out_pixels_biases

    def __add__(self, other: Cost) -> Cost:
        return Cost(self.weights + other.weights, self.biases + other.biases, self.macs + other.macs,
                    self.out_pixels_biases + other.out_pixels_biases)


ZERO = Cost(0, 0, 0, 0)


def conv_cost(cin: int, cout: int, k: int, out_h: int, out_w: int, bias: bool = True) -> Cost:
    """One k×k conv from ``cin`` to ``cout`` channels producing an ``out_h``×``out_w`` map."""
    w = k * k * cin * cout
    b = cout if bias else 0
    pixels = out_h * out_w
    return Cost(w, b, w * pixels, b * pixels)


def linear_cost(fin: int, fout: int, bias: bool = True) -> Cost:
    """A dense layer: fin·fout weights, one MAC each (torchinfo counts the biases too)."""
    b = fout if bias else 0
    return Cost(fin * fout, b, fin * fout, b)


def _check_channels(**values: int) -> None:
    for name, v in values.items():
        if not 1 <= int(v) <= MAX_CHANNELS:
            raise ConfigError("err.range", field=name, lo=1, hi=MAX_CHANNELS, value=v)


def _check_side(side: int) -> None:
    if not 1 <= int(side) <= MAX_INPUT_SIDE:
        raise ConfigError("err.range", field="side", lo=1, hi=MAX_INPUT_SIDE, value=side)


@dataclass(frozen=True)
class InceptionCosts:
    """The comparison table of one Inception block against the alternatives.

    Every entry is a ``Cost`` for one example; ``branches`` holds the four paths of the
    block, ``no_bottleneck`` the same four paths with the 1×1 reductions of paths 2 and 3
    removed (3×3 and 5×5 convs straight from the input), ``single`` one plain conv per kernel
    size with the block's total output channels.
    """

    cin: int
    side: int
    out_channels: int  # c1 + c2 + c3 + c4: the block's output after the concatenation
    branches: dict[str, Cost]  # "p1": 1×1; "p2": 1×1 → 3×3; "p3": 1×1 → 5×5; "p4": pool → 1×1
    no_bottleneck: dict[str, Cost]
    single: dict[int, Cost]  # kernel side (3, 5) → one conv cin → out_channels

    @property
    def total(self) -> Cost:
        return sum(self.branches.values(), ZERO)

    @property
    def total_no_bottleneck(self) -> Cost:
        return sum(self.no_bottleneck.values(), ZERO)

    def rows(self) -> list[dict]:
        """Table rows (``key``, ``weights``, ``params``, ``macs``, ``macs_torchinfo``) for a page or CLI.

        ``key`` is a stable identifier (``inception``, ``p1`` … ``p4``, ``no_bottleneck``,
        ``conv3``, ``conv5``) that the page translates.
        """
        items = [("inception", self.total), *self.branches.items(), ("no_bottleneck", self.total_no_bottleneck)]
        items += [(f"conv{k}", c) for k, c in self.single.items()]
        return [dict(key=k, weights=c.weights, params=c.params, macs=c.macs, macs_torchinfo=c.macs_torchinfo)
                for k, c in items]


def inception_costs(cin: int, c1: int, c2: tuple[int, int], c3: tuple[int, int], c4: int, side: int) -> InceptionCosts:
    """Closed-form costs of an Inception block on a ``side``×``side`` map with ``cin`` channels.

    Every path keeps H × W (paddings 0, 1, 2 and the stride-1 3×3 max pool with padding 1), so
    every conv's output map is side × side. The pool has no weights and is not counted, as
    torchinfo does not count it.
    """
    _check_channels(cin=cin, c1=c1, c2_reduce=c2[0], c2=c2[1], c3_reduce=c3[0], c3=c3[1], c4=c4)
    _check_side(side)
    s = int(side)
    branches = {
        "p1": conv_cost(cin, c1, 1, s, s),
        "p2": conv_cost(cin, c2[0], 1, s, s) + conv_cost(c2[0], c2[1], 3, s, s),  # 1×1 shrinks cin to c2[0] first
        "p3": conv_cost(cin, c3[0], 1, s, s) + conv_cost(c3[0], c3[1], 5, s, s),
        "p4": conv_cost(cin, c4, 1, s, s),
    }
    no_bottleneck = {
        "p1": branches["p1"],
        "p2": conv_cost(cin, c2[1], 3, s, s),  # the 3×3 sees all cin channels
        "p3": conv_cost(cin, c3[1], 5, s, s),
        "p4": branches["p4"],
    }
    out = c1 + c2[1] + c3[1] + c4
    single = {k: conv_cost(cin, out, k, s, s) for k in (3, 5)}
    return InceptionCosts(int(cin), s, out, branches, no_bottleneck, single)


def torchinfo_inception(cin: int, c1: int, c2: tuple[int, int], c3: tuple[int, int], c4: int,
                        side: int) -> dict[str, tuple[int, int]]:
    """The same block counted by torchinfo on the meta device: path → (params, mult-adds).

    Builds the real ``cnnviz.models.googlenet.Inception`` (no BatchNorm) without weights; used
    to cross-check ``inception_costs`` (``params`` and ``macs_torchinfo`` must agree exactly).
    """
    import torch
    from torchinfo import summary

    from cnnviz.config import ConvNetConfig
    from cnnviz.models.googlenet import Inception

    _check_channels(cin=cin, c1=c1, c2_reduce=c2[0], c2=c2[1], c3_reduce=c3[0], c3=c3[1], c4=c4)
    _check_side(side)
    with torch.device("meta"):
        block = Inception(ConvNetConfig(), cin, c1, (c2[0], c2[1]), (c3[0], c3[1]), c4)
    stats = summary(block, input_size=(1, cin, side, side), device="meta", verbose=0, depth=8,
                    col_names=("num_params", "mult_adds"))
    names = {id(m): n for n, m in block.named_modules()}
    out: dict[str, list[int]] = {}
    for info in stats.summary_list:
        name = names.get(id(info.module), "")
        if not name or any(info.module.children()):
            continue  # the block itself and the Sequential paths: count leaves only
        path = name.split(".")[0]
        acc = out.setdefault(path, [0, 0])
        acc[0] += sum(p.numel() for p in info.module.parameters())
        acc[1] += max(int(info.macs), 0)
    return {k: (v[0], v[1]) for k, v in out.items()}


# --- NiN against AlexNet ------------------------------------------------------------------
@dataclass(frozen=True)
class HeadComparison:
    """Where the parameters of AlexNet and NiN sit, for one input side and class count."""

    side: int
    alexnet_features: Cost
    alexnet_head: Cost  # Flatten → fc → fc → classes: ~94 % of AlexNet
    alexnet_flat: int  # width of the first dense layer (6400 at 224)
    nin_features: Cost  # the first three NiN blocks
    nin_head: Cost  # the last NiN block (conv to one map per class + two 1×1) and global average pooling
    nin_one_by_one: Cost  # every 1×1 conv of NiN together: the per-pixel MLPs

    @property
    def alexnet_total(self) -> Cost:
        return self.alexnet_features + self.alexnet_head

    @property
    def nin_total(self) -> Cost:
        return self.nin_features + self.nin_head


def _alexnet_parts(side: int, cin: int, classes: int, fc: int) -> tuple[Cost, Cost, int]:
    # the seed's AlexNet: (k, s, p, cout) of its convs, pools marked by None
    s = side
    feats, c = ZERO, cin
    for spec in ((11, 4, 1, 96), None, (5, 1, 2, 256), None, (3, 1, 1, 384), (3, 1, 1, 384), (3, 1, 1, 256), None):
        if spec is None:
            s = out_size(s, 3, 2, 0)  # MaxPool2d(3, 2)
            continue
        k, st, p, cout = spec
        s = out_size(s, k, st, p)
        feats = feats + conv_cost(c, cout, k, s, s)
        c = cout
    flat = c * s * s
    head = linear_cost(flat, fc) + linear_cost(fc, fc) + linear_cost(fc, classes)
    return feats, head, flat


def _nin_parts(side: int, cin: int, classes: int) -> tuple[Cost, Cost, Cost]:
    s = side
    feats, one, c = ZERO, ZERO, cin
    blocks = ((11, 4, 0, 96), (5, 1, 2, 256), (3, 1, 1, 384), (3, 1, 1, classes))
    head = ZERO
    for i, (k, st, p, cout) in enumerate(blocks):
        s = out_size(s, k, st, p)
        block = conv_cost(c, cout, k, s, s)
        ones = conv_cost(cout, cout, 1, s, s) + conv_cost(cout, cout, 1, s, s)  # the two per-pixel dense layers
        one = one + ones
        if i < 3:
            feats = feats + block + ones
            s = out_size(s, 3, 2, 0)  # MaxPool2d(3, stride=2)
        else:
            head = block + ones  # one map per class; global average pooling adds no parameter
        c = cout
    return feats, head, one


def nin_vs_alexnet(side: int = 224, in_channels: int = 1, num_classes: int = 10,
                   fc_width: int = 4096) -> HeadComparison:
    """Closed-form parameter and MAC counts of AlexNet's dense head against NiN's 1×1/GAP head.

    Both networks as the seed writes them (no BatchNorm). Raises ``ConfigError`` when the
    input is too small for either network (use ``cnnviz.models.registry.min_input_side`` to explain).
    """
    _check_side(side)
    if not 1 <= num_classes <= 1000:
        raise ConfigError("err.range", field="num_classes", lo=1, hi=1000, value=num_classes)
    for name in ("alexnet", "nin"):
        from cnnviz.models.registry import get_config, min_input_side

        need = min_input_side(get_config(name, in_channels=in_channels, input_hw=(side, side)))
        if side < need:
            raise ConfigError("err.lab.side_small", name=name, side=side, need=need)
    af, ah, flat = _alexnet_parts(side, in_channels, num_classes, fc_width)
    nf, nh, one = _nin_parts(side, in_channels, num_classes)
    return HeadComparison(int(side), af, ah, flat, nf, nh, one)
