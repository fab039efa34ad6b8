"""Predict the shape: quiz questions generated from real traces of the chapter's networks.

Every question is read off ``cnnviz.inspect.trace`` of one preset with a few of the
explorer's switches changed (input side, channels, BatchNorm, residual, width divisor), so
the answer is what the network really does, never a number typed in here. ``quiz(seed,
count)`` is deterministic: ``random.Random(seed)`` draws the networks, the switches and the
layers, and the traces are pure functions of their configs, so one seed is one quiz for the
whole class.

Kinds (``KINDS``):

* ``shape``: the output C×H×W of a conv or pool layer; the explanation chains
  ⌊(n + 2p − k)/s⌋ + 1 through every layer that resizes the map on the way.
* ``params``: a conv layer's parameters, k²·c_in·c_out + c_out.
* ``collapse``: at a too-small side, which layer is the first to have no output pixel
  (multiple choice; the answer is the ``ShapeError``'s layer).
* ``min_side``: the smallest square input the network accepts (``min_input_side``).
* ``rf``: the receptive field after a layer or block, r ← r + (k − 1)·j, j ← j·s.
* ``inception``: a GoogLeNet Inception block's output channels, c1 + c2 + c3 + c4.

Each explanation is a list of ``Step``s whose ``expr`` is plain integer arithmetic (``//``
for the floor), so a test can evaluate it and compare it with the answer.
"""

from __future__ import annotations

import ast
import operator
import random
import re
from dataclasses import dataclass
from typing import Any

from cnnviz.config import ConvNetConfig
from cnnviz.errors import CnnvizError, ShapeError
from cnnviz.i18n import t
from cnnviz.inspect.records import LayerRecord
from cnnviz.inspect.tracing import Trace, trace
from cnnviz.models.geometry import out_size
from cnnviz.models.registry import get_config, min_input_side
from cnnviz.safe import verbatim

KINDS = ("shape", "params", "collapse", "min_side", "rf", "inception")
MAX_COUNT = 30
MAX_SEED = 10**9
CHOICES = 4  # options of a multiple-choice question

# The networks and the sides each is asked at: all inside the explorer's slider (8..512) so
# the "open in the explorer" link shows the same network, and small enough to trace quickly.
SIDES = {
    "alexnet": (96, 128, 160, 224), "vgg11_small": (32, 64, 96, 128, 224), "nin": (96, 128, 160, 224),
    "googlenet": (64, 96, 128, 224), "lenet": (28, 32, 36, 48), "resnet18": (32, 64, 96, 224),
}
WIDTH_DIVS = {"alexnet": (1, 2, 4), "vgg11_small": (1, 2), "nin": (1, 2, 4), "googlenet": (1, 2, 4),
              "lenet": (1, 2), "resnet18": (1, 2, 4)}
# Nets whose receptive field is one chain of windows (a residual ResNet joins two paths: plain only).
SEQUENTIAL = ("alexnet", "vgg11_small", "nin", "lenet", "resnet18")
# Nets with a smallest side above 1 (GoogLeNet and ResNet pad every window: they accept side 1).
SHRINKING = ("alexnet", "vgg11_small", "nin", "lenet")
SPATIAL = ("conv", "pool")


@dataclass(frozen=True)
class Step:
    """One line of an explanation: ``what`` of ``layer`` is ``expr`` (integer arithmetic) = ``value``."""

    layer: str
    what: str  # "h", "w", "c", "params", "r", "j", "side", "sum"
    expr: str  # Python integer arithmetic: "(28+2*2-5)//1+1"
    value: int


@dataclass(frozen=True)
class Question:
    """One question: which network, which layer, what is asked, and the answer read off its trace."""

    kind: str
    arch: str
    overrides: tuple[tuple[str, Any], ...]  # preset fields changed, sorted by name: hashable
    layer: str  # the layer the answer belongs to
    prompt: str  # string-table key, translated at render
    params: tuple[tuple[str, Any], ...]
    answer: tuple[int, ...] | int | str
    choices: tuple[str, ...] = ()  # multiple-choice kinds only
    steps: tuple[Step, ...] = ()
    # multiple-choice kinds: each choice's layer type and window, "MaxPool2d 3×3/2", in ``choices``' order
    choice_types: tuple[str, ...] = ()

    def choice_label(self, choice: str) -> str:
        """A choice as the page lists it: the layer's name and its type, "features.4 (MaxPool2d 3×3/2)"."""
        types = dict(zip(self.choices, self.choice_types))
        return f"{choice} ({types[choice]})" if types.get(choice) else choice

    @property
    def config(self) -> ConvNetConfig:
        """The traced config: the preset with ``overrides``."""
        return get_config(self.arch, **dict(self.overrides))

    def render(self, lang: str = "en") -> str:
        """The question in ``lang``."""
        setup = setup_text(self.config, self.arch, lang, with_side=self.kind != "min_side")  # no hint
        return t(self.prompt, lang, **dict(self.params), setup=setup)

    def answer_text(self) -> str:
        """The answer as a student would type it: "64×28×28", "1,234", or a layer name."""
        if isinstance(self.answer, tuple):
            return "×".join(map(str, self.answer))
        if isinstance(self.answer, int):
            return f"{self.answer:,}"
        return self.answer

    def explain(self, lang: str = "en") -> list[str]:
        """The arithmetic behind the answer, one markdown line per step, numbers filled in."""
        lines = [t(f"quiz.why.{self.kind}", lang, **dict(self.params))]
        for s in self.steps:
            lines.append(t(f"quiz.step.{s.what}", lang, layer=s.layer, expr=pretty(s.expr), value=f"{s.value:,}"))
        lines.append(t("quiz.why.answer", lang, answer=self.answer_text(), layer=self.layer))
        return lines

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        """JSON-ready: the question, its answer and layer, the explanation and its steps."""
        return {
            "kind": self.kind, "arch": self.arch, "config": self.config.to_dict(), "overrides": dict(self.overrides),
            "layer": self.layer, "prompt": self.render(lang),
            "answer": list(self.answer) if isinstance(self.answer, tuple) else self.answer,
            "answer_text": self.answer_text(), "choices": list(self.choices),
            "choice_types": list(self.choice_types),
            "explanation": self.explain(lang),
            "steps": [{"layer": s.layer, "what": s.what, "expr": s.expr, "value": s.value} for s in self.steps],
        }


def setup_text(cfg: ConvNetConfig, arch: str, lang: str, with_side: bool = True) -> str:
    """"AlexNet, input 1×128×128, BatchNorm on, channels ÷ 2": the switches a question depends on."""
    shape = "×".join(map(str, (cfg.in_channels, *cfg.input_hw)))
    parts = [t(f"arch.{arch}", lang), t("quiz.setup.input", lang, shape=shape) if with_side
             else t("quiz.setup.channels", lang, c=cfg.in_channels)]
    parts.append(t("quiz.setup.bn_on" if cfg.batch_norm else "quiz.setup.bn_off", lang))
    if hasattr(cfg, "residual"):
        parts.append(t("quiz.setup.res_on" if cfg.residual else "quiz.setup.res_off", lang))
    if cfg.width_div != 1:
        parts.append(t("quiz.setup.wd", lang, wd=cfg.width_div))
    return ", ".join(parts)


def pretty(expr: str) -> str:
    """A step's Python arithmetic as the book writes it: ⌊(28+2·2−5)/1⌋+1, 3²·64·128+128."""
    out = re.sub(r"\(([^()]*)\)//(\d+)", r"⌊(\1)/\2⌋", expr)
    return out.replace("**2", "²").replace("*", "·").replace("-", "−")


# --- evaluating a step (tests and the page's self-check use it) -----------------------------------
_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.FloorDiv: operator.floordiv,
        ast.Pow: operator.pow}


def evaluate(expr: str) -> int:
    """The value of a step's integer arithmetic (+, −, ·, //, **2 and parentheses only)."""

    def ev(node: ast.AST) -> int:
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool):
            return node.value
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            return _OPS[type(node.op)](ev(node.left), ev(node.right))
        raise ValueError(f"not integer arithmetic: {expr!r}")

    return ev(ast.parse(expr, mode="eval"))


# --- the steps of each kind ------------------------------------------------------------------------
def _side_step(r: LayerRecord, n: int, axis: int = 0, what: str = "h") -> Step:
    kernel, stride, padding = r.window
    k, s, p = kernel[axis], stride[axis], padding[axis]
    pad = f"+2*{p}" if p else ""
    return Step(r.name, what, f"({n}{pad}-{k})//{s}+1", out_size(n, k, s, p))


def _resize_chain(tr: Trace, target: LayerRecord) -> list[LayerRecord]:
    """The layers that brought the map from the input side to ``target``'s input side, in order.

    Walking back from ``target``: the latest earlier conv/pool whose output side is the side
    still to explain, then its own input side, until the input's side is reached. On a
    branching net (Inception, ResNet) several layers may resize alike; any of them is a true
    step of the arithmetic.
    """
    leaves = [r for r in tr.leaves() if r.kind in SPATIAL]
    idx = leaves.index(target)
    chain, need, start = [], target.input_shape[1], tr.input_shape[1]
    for r in reversed(leaves[:idx]):
        if need == start:
            break
        if r.output_shape[1] == need and r.input_shape[1] != need:
            chain.append(r)
            need = r.input_shape[1]
    return list(reversed(chain))


def _shape_steps(tr: Trace, target: LayerRecord) -> list[Step]:
    steps = [_side_step(r, r.input_shape[1]) for r in _resize_chain(tr, target)]
    steps.append(_side_step(target, target.input_shape[1], 0, "h"))
    kh, kw = target.window.kernel
    if target.input_shape[2] != target.input_shape[1] or kh != kw:
        steps.append(_side_step(target, target.input_shape[2], 1, "w"))
    c_in = target.input_shape[0]
    expr = str(target.output_shape[0]) if target.kind == "conv" else str(c_in)  # a pool keeps the channels
    steps.append(Step(target.name, "c_conv" if target.kind == "conv" else "c_pool", expr, target.output_shape[0]))
    return steps


def _params_steps(r: LayerRecord) -> list[Step]:
    (k, kw), cin, cout = r.window.kernel, r.input_shape[0], r.output_shape[0]
    ksq = f"{k}**2" if k == kw else f"{k}*{kw}"
    return [Step(r.name, "params", f"{ksq}*{cin}*{cout}+{cout}", r.params)]


def _rf_steps(tr: Trace, target: LayerRecord) -> list[Step]:
    """r ← r + (k − 1)·j and j ← j·s over every window up to ``target`` (a sequential net)."""
    leaves = [r for r in tr.leaves() if r.kind in SPATIAL]
    last = target if target.is_leaf else [r for r in leaves if r.name.startswith(target.name + ".")][-1]
    rf, jump = 1, 1
    steps: list[Step] = []
    for r in leaves[: leaves.index(last) + 1]:
        (k, _), (s, _), _ = r.window
        steps.append(Step(r.name, "r", f"{rf}+({k}-1)*{jump}", rf + (k - 1) * jump))
        steps.append(Step(r.name, "j", f"{jump}*{s}", jump * s))
        rf, jump = rf + (k - 1) * jump, jump * s
    return steps


def _rf_blocks(tr: Trace, spatial: list[LayerRecord]) -> list[LayerRecord]:
    """Blocks whose field is their last window's (not a head whose Flatten sees the whole map)."""
    out = []
    for r in tr.layers:
        inner = [s for s in spatial if s.name.startswith(r.name + ".")]
        if not r.is_leaf and r.rf is not None and inner and inner[-1].rf == r.rf:
            out.append(r)
    return out


def _fail_chain(tr_ok: Trace, side: int) -> list[Step]:
    """The side arithmetic of a sequential net at ``side`` (traced at a valid side for its
    windows), up to and including the first layer whose output would be empty."""
    n = side
    steps: list[Step] = []
    for r in (r for r in tr_ok.leaves() if r.kind in SPATIAL):
        step = _side_step(r, n)
        if step.value < 1:
            return steps + [step]
        if step.value != n:  # a window that keeps the side (3×3, padding 1) adds a line, not a step
            steps.append(step)
        n = step.value
    raise RuntimeError(f"{tr_ok.config} does not collapse at {side}")  # the caller traced a ShapeError: a bug


# --- generating ----------------------------------------------------------------------------------
def _config(rng: random.Random, arch: str, residual: bool | None = None) -> tuple[tuple[str, Any], ...]:
    side = rng.choice(SIDES[arch])
    over: dict[str, Any] = dict(input_hw=(side, side), in_channels=rng.choice((1, 3)),
                                batch_norm=rng.random() < 0.5, width_div=rng.choice(WIDTH_DIVS[arch]))
    if arch == "resnet18":
        over["residual"] = rng.random() < 0.5 if residual is None else residual
    return tuple(sorted(over.items()))


def _question(kind: str, rng: random.Random) -> Question:
    if kind == "inception":
        arch = "googlenet"
    elif kind == "rf":
        arch = rng.choice(SEQUENTIAL)
    elif kind in ("collapse", "min_side"):
        arch = rng.choice(SHRINKING)
    else:
        arch = rng.choice(tuple(SIDES))
    over = _config(rng, arch, residual=False if kind == "rf" else None)
    cfg = get_config(arch, **dict(over))
    tr = trace(cfg)
    spatial = [r for r in tr.leaves() if r.kind in SPATIAL]
    if kind == "shape":
        r = rng.choice(spatial)
        (k, _), (s, _), (p, _) = r.window
        return Question(kind, arch, over, r.name, "quiz.q.shape",
                        (("layer", r.name), ("type", r.type), ("k", k), ("s", s), ("p", p)),
                        tuple(r.output_shape), steps=tuple(_shape_steps(tr, r)))
    if kind == "params":
        r = rng.choice([r for r in spatial if r.kind == "conv"])
        return Question(kind, arch, over, r.name, "quiz.q.params", (("layer", r.name), ("k", r.window.kernel[0]),
                        ("cin", r.input_shape[0]), ("cout", r.output_shape[0])), r.params,
                        steps=tuple(_params_steps(r)))
    if kind == "inception":
        blk = rng.choice([r for r in tr.layers if r.kind == "inception"])
        branches = [next(r for r in tr.layers if r.name == f"{blk.name}.p{i}") for i in range(1, 5)]
        expr = "+".join(str(b.output_shape[0]) for b in branches)
        return Question(kind, arch, over, blk.name, "quiz.q.inception", (("layer", blk.name),),
                        blk.output_shape[0], steps=(Step(blk.name, "sum", expr, blk.output_shape[0]),))
    if kind == "rf":
        r = rng.choice(spatial + _rf_blocks(tr, spatial))
        assert r.rf is not None  # a conv's, a pool's, a block's whose field is its last window's
        return Question(kind, arch, over, r.name, "quiz.q.rf", (("layer", r.name),), r.rf,
                        steps=tuple(_rf_steps(tr, r)))
    m = min_input_side(cfg)
    if kind == "min_side":
        fail = _shape_error(cfg.replace(input_hw=(m - 1, m - 1)))
        at_min = trace(cfg.replace(input_hw=(m, m)))
        steps = _fail_chain(at_min, m - 1)
        windows = [r for r in at_min.leaves() if r.kind in SPATIAL]
        windows = windows[: [r.name for r in windows].index(fail.layer) + 1]
        # at the smallest side, the windows that resize the map up to the one that would vanish below it
        ok_steps = [_side_step(r, r.input_shape[1]) for r in windows
                    if r.output_shape[1] != r.input_shape[1] or r.name == fail.layer]
        if steps[-1].layer != fail.layer:  # the hand arithmetic and the library disagree: a bug
            raise RuntimeError(f"min side of {cfg}: arithmetic says {steps[-1].layer}, the trace {fail.layer}")
        return Question(kind, arch, over, fail.layer, "quiz.q.min_side", (("side_fail", m - 1), ("side", m)), m,
                        steps=tuple([Step(s.layer, "side_fail", s.expr, s.value) for s in steps] + ok_steps))
    # collapse: a side the net refuses; the answer is the layer the library names
    side = rng.randint(8, m - 1)
    bad = cfg.replace(input_hw=(side, side))
    fail = _shape_error(bad)
    steps = _fail_chain(tr, side)
    if steps[-1].layer != fail.layer:  # the hand arithmetic and the library disagree: a bug, never a quiz
        raise RuntimeError(f"collapse of {bad}: arithmetic says {steps[-1].layer}, the trace {fail.layer}")
    names = [r.name for r in spatial]
    others = rng.sample([n for n in names if n != fail.layer], CHOICES - 1)
    choices = tuple(n for n in names if n in others or n == fail.layer)  # in execution order
    by_name = {r.name: r for r in spatial}
    types = tuple(_window_type(by_name[n]) for n in choices)
    over = tuple(sorted(dict(over, input_hw=(side, side)).items()))
    return Question(kind, arch, over, fail.layer, "quiz.q.collapse", (("side", side),), fail.layer, choices,
                    tuple(steps), types)


def _window_type(r: LayerRecord) -> str:
    """A conv's or pool's type and window as the explorer's table writes it: "Conv2d 3×3/1"."""
    (kh, kw), (s, _), _ = r.window
    return f"{r.type} {kh}×{kw}/{s}"


def _shape_error(cfg: ConvNetConfig) -> ShapeError:
    try:
        trace(cfg)
    except ShapeError as err:
        return err
    raise RuntimeError(f"{cfg} was expected to be too small")


def quiz(seed: int, count: int = len(KINDS)) -> tuple[Question, ...]:
    """``count`` questions for ``seed``; the same seed gives the same quiz. Every kind comes
    once, in a seeded order, before any comes again; ``quiz(s, 3)`` is the start of ``quiz(s, 10)``
    (the page's ten and the CLI's answer key agree)."""
    seed, count = _whole(seed, "seed", 0, MAX_SEED), _whole(count, "count", 1, MAX_COUNT)
    rng = random.Random(seed)
    out: list[Question] = []
    while len(out) < count:  # one round at a time, so a shorter quiz is the start of a longer one
        kinds = list(KINDS)
        rng.shuffle(kinds)
        out += [_question(k, rng) for k in kinds[: count - len(out)]]
    return tuple(out)


def _whole(v: Any, field: str, lo: int, hi: int) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
        raise CnnvizError("err.quiz_range", field=field, lo=lo, hi=hi, value=str(v)[:40])
    return v


# --- checking a student's answer -------------------------------------------------------------------
_SEPARATORS = re.compile(r"[x×X*,;\s]+")
_THOUSANDS = re.compile(r"[,_\s\u00a0\u2009\u202f'’]")


def parse_answer(question: Question, text: str) -> tuple[int, ...] | int | str:
    """A student's typed answer in the form the question's answer has; ``CnnvizError`` if it
    cannot be read ("64x28x28", "64 × 28 × 28", "(64, 28, 28)" for shapes; "1,234" for counts)."""
    raw = str(text).strip()
    shown = verbatim(raw, 40) if raw else "∅"  # the student's text quoted back: Markdown code, never markup
    if question.choices:
        for c in question.choices:
            if raw.lower() == c.lower():
                return c
        raise CnnvizError("err.quiz_choice", raw=shown, choices=", ".join(question.choices))
    if isinstance(question.answer, tuple):
        body = raw.strip("()[]{} ")
        parts = [p for p in _SEPARATORS.split(body) if p]
        if len(parts) != len(question.answer) or not all(p.isdigit() for p in parts):
            raise CnnvizError("err.quiz_shape", raw=shown, n=len(question.answer))
        return tuple(int(p) for p in parts)
    digits = _THOUSANDS.sub("", raw)
    if not digits.isdigit():
        raise CnnvizError("err.quiz_number", raw=shown)
    return int(digits)


def check(question: Question, text: str) -> bool:
    """Whether ``text`` is the right answer; unreadable text is a ``CnnvizError`` saying what to type."""
    return parse_answer(question, text) == question.answer
