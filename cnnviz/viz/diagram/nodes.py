"""The structure diagram: a network drawn from its ``Trace``, with the tensor shape on every edge.

Two steps, both pure: ``layout`` (here) turns the trace's records into positioned ``Node``s and
``Edge``s (testable without drawing anything), and ``draw.figure`` draws them with plotly.

What the reader should see at a glance:

* AlexNet, VGG, NiN, LeNet: a vertical chain, top to bottom, as the book draws them.
* GoogLeNet: an Inception block as four parallel lanes (1×1; 1×1→3×3; 1×1→5×5; pool→1×1)
  forking from one point and merging in a concat node; the lanes' output shapes on their
  edges show the channels being stacked.
* ResNet: a residual block as its main path (3×3 conv, 3×3 conv) into an ⊕ node, with the
  skip path beside it, labelled "identity" or drawn through its 1×1 conv box.

Shape-preserving layers (BatchNorm, activations, dropout) are folded into the label of the
layer before them ("3×3 conv, 64 · BN · ReLU") so the drawing shows what changes shapes.
Repeated *units* (Inception and residual blocks, VGG/NiN blocks) are drawn expanded or as
one summary node: drawing all of GoogLeNet's nine blocks lane by lane is too tall to read.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from cnnviz.i18n import t
from cnnviz.inspect.records import LayerRecord
from cnnviz.inspect.tracing import Trace

# Layout units: one row per node; x in "lane widths". The figure maps them to pixels.
ROW_PX = 44
MAIN_W = 2.3  # width of a node on the main path
LANE_W = 1.22  # width of an Inception lane's node
LANE_X = (-1.95, -0.65, 0.65, 1.95)
SKIP_X = -1.85  # residual skip path, left of the main path (edge labels sit on the right)
NODE_H = 0.56
X_RANGE = (-2.75, 3.35)
MODIFIERS = ("norm", "act", "dropout")
OPS = ("conv", "pool", "gap", "linear", "flatten")
UNIT_KINDS = ("inception", "residual")
MAX_AUTO_ROWS = 42  # "auto" expands everything when the whole drawing is at most this tall
FAILED = "collapse"  # the kind of the node an input too small left with no output pixel (``layout(failed=...)``)



@dataclass(frozen=True)
class Node:
    """A box of the drawing: one layer (with its folded modifiers) or one collapsed unit."""

    id: str  # qualified record name, "input", or "<unit>.fork"
    kind: str  # conv, pool, gap, linear, flatten, concat, add, input, fork, block, inception, residual
    label: str
    x: float
    y: float  # row, growing downwards (the figure flips it)
    w: float
    hover: str
    out_shape: tuple[int, ...]


@dataclass(frozen=True)
class Edge:
    """A tensor going from one node to another; ``label`` is its shape (C×H×W)."""

    src: str
    dst: str
    label: str = ""
    skip: bool = False  # a residual shortcut: drawn on its own path beside the main one
    points: tuple[tuple[float, float], ...] = ()  # explicit path (skips); empty: a straight line


@dataclass(frozen=True)
class Frame:
    """The outline of an expanded unit, with its name."""

    label: str
    x0: float
    x1: float
    y0: float
    y1: float
    kind: str


@dataclass(frozen=True)
class Diagram:
    """A laid-out drawing: nodes, edges, unit frames, and how tall it is in rows."""

    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    frames: tuple[Frame, ...]
    rows: float
    units: tuple[str, ...]  # every unit that can be expanded, in order
    expanded: frozenset[str] = field(default_factory=frozenset)

    def node(self, node_id: str) -> Node:
        """The node called ``node_id``."""
        for n in self.nodes:
            if n.id == node_id:
                return n
        raise KeyError(node_id)


# --- reading the trace ------------------------------------------------------------------
def shape_text(shape: Iterable[int]) -> str:
    """(64, 56, 56) → '64×56×56'."""
    return "×".join(str(v) for v in shape)


def window_text(r: LayerRecord, lang: str) -> str:
    """A conv's or pool's window for a hover ("<br>kernel 3×3, stride 1, padding 1"), else ""."""
    if not r.kernel:
        return ""
    (kh, kw), (s, _), (p, _) = r.window
    return "<br>" + t("dg.hover.window", lang, k=f"{kh}×{kw}", s=s, p=p)


_UNIT_NAME = re.compile(r"\d+|b\d+|nin\d+")  # numbered blocks, the book's b1…b5, NiN's nin1…nin4


def _children(trace: Trace) -> dict[str, list[LayerRecord]]:
    kids: dict[str, list[LayerRecord]] = {}
    for r in trace.layers:
        kids.setdefault(r.parent, []).append(r)
    return kids


def _is_unit(r: LayerRecord, kids: dict[str, list[LayerRecord]]) -> bool:
    """Inception and residual blocks, and the blocks of leaves that a block function built
    (VGG's numbered ``features.2``, NiN's ``nin2``, GoogLeNet's and ResNet's stem ``b1``, as the
    book names them). Wrappers such as AlexNet's ``features`` are drawn inline: collapsing them
    would hide the whole network."""
    if r.kind in UNIT_KINDS:
        return True
    if r.is_leaf or r.kind != "block":
        return False
    last = r.name.rsplit(".", 1)[-1]
    return bool(_UNIT_NAME.fullmatch(last)) and all(c.is_leaf for c in kids.get(r.name, []))


def units(trace: Trace) -> list[str]:
    """Names of the expandable units, in execution order."""
    kids = _children(trace)
    return [r.name for r in trace.layers if _is_unit(r, kids)]


class _Op:
    """A layer that changes shapes or holds weights, plus the shape-preserving layers after it."""

    def __init__(self, rec: LayerRecord):
        self.rec = rec
        self.mods: list[LayerRecord] = []

    @property
    def out_shape(self) -> tuple[int, ...]:
        return self.rec.output_shape


def _fold(records: Iterable[LayerRecord]) -> list[_Op]:
    ops: list[_Op] = []
    for r in records:
        if r.kind in MODIFIERS and ops:
            ops[-1].mods.append(r)
        elif r.kind in MODIFIERS:
            continue  # a modifier with nothing before it changes no shape: nothing to draw
        else:
            ops.append(_Op(r))
    return ops


def _leaves_under(name: str, kids: dict[str, list[LayerRecord]]) -> list[LayerRecord]:
    out: list[LayerRecord] = []
    for c in kids.get(name, []):
        if c.is_leaf:
            out.append(c)
        else:
            out.extend(_leaves_under(c.name, kids))
    return out


# --- labels ---------------------------------------------------------------------------------
def _conv_channels(rec: LayerRecord) -> int | str:
    """A conv's output channels: its output's, or, for the layer a collapse stopped at (no
    output), read off its parameters (out × (in × k × k [+ 1 for the bias]))."""
    if rec.output_shape:
        return rec.output_shape[0]
    per = (rec.input_shape[0] if rec.input_shape else 0) * (rec.kernel[0] * rec.kernel[1] if rec.kernel else 0)
    for n in (per + 1, per):  # with a bias, then without
        if n and rec.params % n == 0:
            return rec.params // n
    return "?"


def _op_label(rec: LayerRecord, lang: str, short: bool = False) -> str:
    k = rec.kernel[0] if rec.kernel else 0
    s = rec.stride[0] if rec.stride else 1
    stride = f" /{s}" if s > 1 else ""
    if rec.kind == "conv":
        return t("dg.conv", lang, k=k, c=_conv_channels(rec)) + stride
    if rec.kind == "pool":
        key = "dg.maxpool" if rec.type.startswith("Max") else "dg.avgpool"
        return t(key, lang, k=k) + stride
    if rec.kind == "linear":
        return t("dg.linear", lang, n=rec.output_shape[0])
    if rec.kind == "gap":
        return t("dg.gap", lang)
    if rec.kind == "flatten":
        return t("dg.flatten", lang)
    if rec.kind == "concat":
        return t("dg.concat", lang)
    if rec.kind == "add":
        return "⊕"
    return rec.type


def _mod_label(rec: LayerRecord, dropout: float, lang: str) -> str:
    if rec.kind == "norm":
        return "BN"
    if rec.kind == "act":
        return "σ" if rec.type == "Sigmoid" else rec.type
    return t("dg.dropout", lang, p=f"{dropout:g}")


def _label(op: _Op, dropout: float, lang: str, mods: bool = True) -> str:
    parts = [_op_label(op.rec, lang)]
    if mods:
        parts += [_mod_label(m, dropout, lang) for m in op.mods]
    return " · ".join(parts)


def _hover(recs: list[LayerRecord], lang: str) -> str:
    from cnnviz.numbers import human

    lines = []
    for r in recs:
        head = f"<b>{r.name}</b> {r.type}"
        geo = window_text(r, lang)
        shapes = f"<br>{shape_text(r.input_shape)} → {shape_text(r.output_shape)}"
        cost = ""
        if r.params or r.macs:
            cost = "<br>" + t("dg.hover.cost", lang, params=f"{r.params:,}", macs=human(r.macs))
        rf = "<br>" + t("dg.hover.rf", lang, rf=r.rf) if r.rf is not None and r.kind in ("conv", "pool") else ""
        lines.append(head + geo + shapes + cost + rf)
    return "<br>".join(lines)


def _summary_label(r: LayerRecord, kids: dict[str, list[LayerRecord]], lang: str) -> str:
    """One line for a collapsed unit."""
    if r.kind == "inception":
        chans = [str(b.output_shape[0]) for b in kids.get(r.name, []) if b.kind == "branch"]
        return t("dg.inception", lang, parts=" + ".join(chans), out=r.output_shape[0])
    ops = _fold(_leaves_under(r.name, kids))
    if r.kind == "residual":
        convs = [o.rec for o in ops if o.rec.kind == "conv" and not o.rec.name.endswith(".shortcut")]
        s = max((c.window.stride[0] for c in convs), default=1)
        return t("dg.residual", lang, n=len(convs), c=r.output_shape[0]) + (f" /{s}" if s > 1 else "")
    # a block of leaves: runs of the same layer collapse to "label ×n"
    parts: list[list] = []
    for o in ops:
        lab = _op_label(o.rec, lang)
        if parts and parts[-1][0] == lab:
            parts[-1][1] += 1
        else:
            parts.append([lab, 1])
    return " → ".join(lab if n == 1 else f"{lab} ×{n}" for lab, n in parts)


# --- layout -----------------------------------------------------------------------------------
class _Layout:
    def __init__(self, trace: Trace, expanded: frozenset[str], lang: str, failed: str | None = None):
        self.trace, self.expanded, self.lang, self.failed = trace, expanded, lang, failed
        self.kids = _children(trace)
        self.nodes: list[Node] = []
        self.edges: list[Edge] = []
        self.frames: list[Frame] = []
        self.y = 0.0
        self.prev: str = "input"  # the node whose output feeds the next one
        self.prev_shape: tuple[int, ...] = trace.input_shape
        self.dropout = trace.config.dropout

    # nodes and edges
    def add_node(self, node_id, kind, label, x, w, hover, out_shape, y=None) -> Node:
        n = Node(node_id, kind, label, x, self.y if y is None else y, w, hover, tuple(out_shape))
        self.nodes.append(n)
        return n

    def chain(self, node_id, kind, label, hover, out_shape) -> None:
        """A node on the main path, fed by the previous one."""
        self.add_node(node_id, kind, label, 0.0, MAIN_W, hover, out_shape)
        # after a fork the shape is already on the edge into the fork
        label = "" if self.prev.endswith(".fork") else shape_text(self.prev_shape)
        self.edges.append(Edge(self.prev, node_id, label))
        self.prev, self.prev_shape = node_id, tuple(out_shape)
        self.y += 1

    def op(self, o: _Op) -> None:
        if o.rec.name == self.failed:  # the layer an input too small left with no pixel: marked, its output none
            label = t("quizfix.dg.failed", self.lang, label=_op_label(o.rec, self.lang))
            hover = _hover([o.rec], self.lang) + "<br>" + t("quizfix.dg.failed.hover", self.lang)
            self.chain(o.rec.name, FAILED, label, hover, o.out_shape)
            return
        self.chain(o.rec.name, o.rec.kind, _label(o, self.dropout, self.lang), _hover([o.rec, *o.mods], self.lang),
                   o.out_shape)

    def fork(self, unit: str, gap: float) -> tuple[str, float]:
        """A dot on the main path where a block's paths split; the edge into it carries the shape.
        Returns its id and row; the block's first row comes ``gap`` rows below it."""
        fid, y = f"{unit}.fork", self.y - 0.3
        self.add_node(fid, "fork", "", 0.0, 0.0, "", self.prev_shape, y=y)
        self.edges.append(Edge(self.prev, fid, shape_text(self.prev_shape)))
        self.prev = fid
        self.y = y + gap
        return fid, y

    # walking the records
    def sequence(self, container: str) -> None:
        pending: list[LayerRecord] = []  # leaves waiting to be folded into ops
        for r in self.kids.get(container, []):
            if r.is_leaf and not r.synthetic:
                pending.append(r)
                continue
            self.flush(pending)
            pending = []
            if r.synthetic:
                continue  # joins are drawn by their block
            if _is_unit(r, self.kids):
                self.unit(r)
            else:
                self.sequence(r.name)  # a wrapper (features, classifier, a stage): draw its insides inline
        self.flush(pending)

    def flush(self, leaves: list[LayerRecord]) -> None:
        for o in _fold(leaves):
            self.op(o)

    def unit(self, r: LayerRecord) -> None:
        if r.name not in self.expanded:
            self.collapsed(r)
            return
        self.y += 0.3  # room for the frame's title
        top = self.y
        half, left = MAIN_W / 2 + 0.12, None
        if r.kind == "inception":
            self.inception(r)
            half = max(LANE_X) + LANE_W / 2 + 0.08
            left = -half
        elif r.kind == "residual":
            self.residual(r)
            left = SKIP_X - 0.95 if r.skip else None
        else:
            self.sequence(r.name)
        title = t(f"dg.unit.{r.kind}", self.lang, name=r.name)
        x0 = -half if left is None else left
        self.frames.append(Frame(title, x0, half, top - 0.62, self.y - 1 + 0.4, r.kind))
        self.y += 0.2

    def collapsed(self, r: LayerRecord) -> None:
        kind = r.kind if r.kind in UNIT_KINDS else "block"
        leaves = [x for x in _leaves_under(r.name, self.kids) if not x.synthetic]
        hover = f"<b>{r.name}</b> {r.type}<br>{shape_text(r.input_shape)} → {shape_text(r.output_shape)}<br>" + \
            t("dg.hover.unit", self.lang, params=f"{r.params:,}", n=len(leaves))
        y = self.y
        self.chain(r.name, kind, _summary_label(r, self.kids, self.lang), hover, r.output_shape)
        if r.kind == "residual" and r.skip:
            # the skip beside the collapsed block: from its input edge to its output edge
            x = -MAIN_W / 2 - 0.3
            label = t("dg.skip.identity", self.lang) if r.skip == "identity" else t("dg.skip.conv1x1", self.lang)
            pts = ((-0.25, y - 0.40), (x, y - 0.40), (x, y + 0.40), (-0.25, y + 0.40))
            self.edges.append(Edge(r.name, r.name, label, skip=True, points=pts))

    def inception(self, r: LayerRecord) -> None:
        fid, _ = self.fork(r.name, gap=0.85)
        branches = [b for b in self.kids.get(r.name, []) if b.kind == "branch"]
        lanes = [_fold(_leaves_under(b.name, self.kids)) for b in branches]
        depth = max((len(ops) for ops in lanes), default=0)
        cid = f"{r.name}.concat"
        fork_y, top = self.y - 0.85, self.y
        concat_y = top + depth - 1 + 1.45
        merge_y = concat_y - NODE_H / 2 - 0.3  # where the lanes turn towards the concat
        for x, b, ops in zip(LANE_X, branches, lanes):
            prev, prev_shape, prev_y = fid, self.prev_shape, fork_y
            for i, o in enumerate(ops):
                nid, y = o.rec.name, top + i
                self.add_node(nid, o.rec.kind, _label(o, self.dropout, self.lang, mods=False), x, LANE_W,
                              _hover([o.rec, *o.mods], self.lang), o.out_shape, y=y)
                if prev == fid:  # along the bus from the fork, then down into the lane
                    self.edges.append(Edge(fid, nid, points=((0.0, fork_y), (x, fork_y), (x, y - NODE_H / 2))))
                else:
                    self.edges.append(Edge(prev, nid, shape_text(prev_shape)))
                prev, prev_shape, prev_y = nid, o.out_shape, y
            # each lane's output shape on its way into the concat: the channels that get stacked
            self.edges.append(Edge(prev, cid, shape_text(b.output_shape), points=(
                (x, prev_y + NODE_H / 2), (x, merge_y), (x * 0.25, concat_y - NODE_H / 2))))
        concat = next((c for c in self.kids.get(r.name, []) if c.kind == "concat"), None)
        self.y = concat_y
        hover = _hover([concat], self.lang) if concat else ""
        self.add_node(cid, "concat", t("dg.concat", self.lang), 0.0, 1.3, hover, r.output_shape)
        self.prev, self.prev_shape = cid, r.output_shape
        self.y += 1

    def residual(self, r: LayerRecord) -> None:
        leaves = list(self.kids.get(r.name, []))
        if not r.skip:  # residual off: the same layers as a plain stack
            self.flush([x for x in leaves if x.is_leaf and not x.synthetic])
            return
        fid, fork_y = self.fork(r.name, gap=0.55)
        main = [x for x in leaves if not x.synthetic and not x.name.endswith(".shortcut")]
        add_at = next(i for i, x in enumerate(main) if x.name.endswith(".act2"))
        first_y = self.y
        self.flush(main[:add_at])  # conv1 · BN · ReLU, conv2 · BN
        add = next(x for x in leaves if x.kind == "add")
        tail = main[add_at:]  # act2, after the addition
        label = " · ".join(["⊕"] + [_mod_label(m, self.dropout, self.lang) for m in tail])
        add_id, add_y = f"{r.name}.add", self.y
        self.add_node(add_id, "add", label, 0.0, 1.3, _hover([add, *tail], self.lang), r.output_shape)
        self.edges.append(Edge(self.prev, add_id, shape_text(self.prev_shape)))
        # the skip path, on the left: straight down for identity, through a box for the 1×1 conv
        if r.skip == "conv1x1":
            sc = next(x for x in leaves if x.name.endswith(".shortcut"))
            sy = (first_y + add_y) / 2 - 0.1
            self.add_node(sc.name, "conv", _op_label(sc, self.lang), SKIP_X, 1.2, _hover([sc], self.lang),
                          sc.output_shape, y=sy)
            self.edges.append(Edge(fid, sc.name, "", skip=True,
                                   points=((0.0, fork_y), (SKIP_X, fork_y), (SKIP_X, sy - NODE_H / 2))))
            self.edges.append(Edge(sc.name, add_id, shape_text(sc.output_shape), skip=True,
                                   points=((SKIP_X, sy + NODE_H / 2), (SKIP_X, add_y), (-0.65, add_y))))
        else:
            self.edges.append(Edge(fid, add_id, t("dg.skip.identity", self.lang), skip=True,
                                   points=((0.0, fork_y), (SKIP_X, fork_y), (SKIP_X, add_y), (-0.65, add_y))))
        self.prev, self.prev_shape = add_id, r.output_shape
        self.y += 1


def _expanded_set(trace: Trace, expand: str | Iterable[str], failed: str | None = None) -> frozenset[str]:
    names = units(trace)
    if expand == "all":
        return frozenset(names)
    if expand == "none":
        return frozenset()
    if expand == "auto":
        return default_expand(trace, failed)
    if isinstance(expand, str):
        return frozenset({expand} & set(names))
    return frozenset(set(expand) & set(names))


def default_expand(trace: Trace, failed: str | None = None) -> frozenset[str]:
    """What "auto" expands: everything when the drawing stays short (AlexNet, VGG, NiN, LeNet,
    ResNet-18); otherwise the first Inception block, or ResNet's first identity block and its
    first block with a 1×1 shortcut, so both kinds of skip are on screen. ``failed``: as
    ``layout``'s (a collapse trace's last layer has no output to label)."""
    names = units(trace)
    full = _Layout(trace, frozenset(names), "en", failed)
    full.sequence("")
    if full.y <= MAX_AUTO_ROWS:
        return frozenset(names)
    by_name = {r.name: r for r in trace.layers}
    pick: list[str] = []
    first_inc = next((n for n in names if by_name[n].kind == "inception"), None)
    if first_inc:
        pick.append(first_inc)
    for skip in ("identity", "conv1x1"):
        n = next((n for n in names if by_name[n].kind == "residual" and by_name[n].skip == skip), None)
        if n:
            pick.append(n)
    if not pick:
        first_res = next((n for n in names if by_name[n].kind == "residual"), None)
        pick = [first_res or names[0]] if names else []
    return frozenset(pick)


def layout(trace: Trace, expand: str | Iterable[str] = "auto", lang: str = "en", failed: str | None = None) -> Diagram:
    """Position every node and edge of ``trace``'s drawing.

    ``expand`` is "auto" (see ``default_expand``), "all", "none", a unit's name, or a set of
    unit names; the other units are drawn as one summary node each. ``failed``: the trace is a
    ``cnnviz.inspect.collapse`` one, cut at the layer of that name; its node is marked (kind
    ``FAILED``) and no output edge leaves the drawing. The units around it are always expanded:
    a collapsed summary would hide the layer the student is looking for.
    """
    expanded = _expanded_set(trace, expand, failed)
    if failed:
        expanded |= {u for u in units(trace) if failed.startswith(u + ".")}
    lay = _Layout(trace, expanded, lang, failed)
    lay.add_node("input", "input", t("dg.input", lang), 0.0, 1.6,
                 t("dg.hover.input", lang, shape=shape_text(trace.input_shape)), trace.input_shape)
    lay.y = 1
    lay.sequence("")
    if failed:  # the pass stopped at the failed layer: nothing leaves it
        return Diagram(tuple(lay.nodes), tuple(lay.edges), tuple(lay.frames), lay.y, tuple(units(trace)), expanded)
    # the network's output leaves the last node: an edge to nowhere, labelled with its shape
    lay.add_node("output", "output", "", 0.0, 0.0, "", lay.prev_shape, y=lay.y - 0.25)
    lay.edges.append(Edge(lay.prev, "output", shape_text(lay.prev_shape)))
    return Diagram(tuple(lay.nodes), tuple(lay.edges), tuple(lay.frames), lay.y, tuple(units(trace)), expanded)


