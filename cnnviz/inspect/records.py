"""Per-layer records of a network, from one torchinfo pass on the meta device.

torchinfo runs the forward pass on PyTorch's meta device (no weights allocated, nothing
computed); ``_records`` turns its ``LayerInfo`` list into frozen ``LayerRecord``s and adds
what it lacks: kernel/stride/padding, receptive fields and path depth (carried along the
tensors by ``_PathFacts``' hooks, removed in ``finally``), and synthetic records for the
joins that are operations rather than modules (Inception's ``torch.cat``, ResNet's ``+``).
Totals come next (``totals``), rendering last (``render``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

import torch
from torch import nn
from torchinfo import summary

from cnnviz.config import BYTES_PER_VALUE, ConvNetConfig
from cnnviz.errors import ShapeError
from cnnviz.models.geometry import geometry_checks, shape_only, window
from cnnviz.models.layers import BatchNorm
from cnnviz.models.registry import build_meta, explain

_KINDS: list[tuple[type, str]] = [
    (nn.Conv2d, "conv"), (nn.MaxPool2d, "pool"), (nn.AvgPool2d, "pool"), (nn.AdaptiveAvgPool2d, "gap"),
    (nn.BatchNorm2d, "norm"), (nn.BatchNorm1d, "norm"), (BatchNorm, "norm"), (nn.ReLU, "act"),
    (nn.Sigmoid, "act"), (nn.Linear, "linear"), (nn.Dropout, "dropout"), (nn.Flatten, "flatten"),
]


class Window(NamedTuple):
    """A conv's or pool's window, each as (height, width)."""

    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]


@dataclass(frozen=True)
class LayerRecord:
    """One module (or one join) of the traced network. Shapes exclude the batch dimension."""

    name: str  # qualified module name, e.g. "features.3" or "2.0.p2.3"
    depth: int  # nesting depth; top-level children are 1
    type: str  # class name ("Conv2d"), or "Concat" / "Add" for joins
    kind: str  # conv, pool, gap, norm, act, linear, dropout, flatten, block, inception, branch, residual, concat, add
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    params: int  # for containers, the whole subtree
    macs: int  # multiply-accumulates per example (torchinfo's count), containers summed
    act_bytes: int  # output bytes per example (float32)
    is_leaf: bool
    parent: str  # qualified name of the enclosing record ("" at top level)
    kernel: tuple[int, int] | None = None
    stride: tuple[int, int] | None = None
    padding: tuple[int, int] | None = None
    rf: int | None = None  # receptive field side, in input pixels, of one output unit
    jump: int | None = None  # input pixels between neighbouring output units
    path_depth: int | None = None  # conv/linear layers on the longest path from the input to this output
    skip: str | None = None  # residual blocks: "identity", "conv1x1", or None when residual is off
    # joins: records whose outputs are concatenated or added (a block's own name = its input)
    inputs: tuple[str, ...] = ()
    synthetic: bool = False  # True for joins (torch.cat / +), which are operations, not modules

    @property
    def window(self) -> Window:
        """Kernel, stride and padding of a conv or pooling layer (the three are set together);
        only asked of a record that has them (``kernel`` is not None, ``kind`` conv or pool)."""
        assert self.kernel is not None and self.stride is not None and self.padding is not None, self.name
        return Window(self.kernel, self.stride, self.padding)


@functools.lru_cache(maxsize=128)
def _records(cfg: ConvNetConfig) -> tuple[LayerRecord, ...]:
    model = build_meta(cfg, check=False)  # the pass below checks the geometry
    paths = _PathFacts(model)
    try:
        # torchinfo counts parameters and MACs from weights and output shapes, so skipping
        # the arithmetic of shape-preserving layers changes no figure (tested against real weights)
        with geometry_checks(model), shape_only(model):
            stats = summary(
                model, input_size=(1, cfg.in_channels, *cfg.input_hw), device="meta", mode="eval",
                verbose=0, depth=64, col_names=("input_size", "output_size", "num_params", "mult_adds"),
            )
    except RuntimeError as err:  # torchinfo wraps what the forward raised
        cause = err.__cause__
        if isinstance(cause, ShapeError):
            raise explain(cause, cfg) from None
        raise
    finally:
        paths.remove()
    return tuple(_build_records(stats.summary_list, model, paths.by_module))


def _kind(module: nn.Module, parent: nn.Module | None) -> str:
    merge = getattr(module, "merge", None)
    if merge == "concat":
        return "inception"
    if merge == "add":
        return "residual"
    if parent is not None and getattr(parent, "merge", None) == "concat":
        return "branch"
    for cls, kind in _KINDS:
        if isinstance(module, cls):
            return kind
    return "block"


def _shape(size: Any) -> tuple[int, ...]:
    # torchinfo gives [1, C, H, W] (or a list of those); drop the batch dimension
    if isinstance(size, (list, tuple)) and size and isinstance(size[0], (list, tuple)):
        size = size[0]
    return tuple(int(v) for v in size[1:]) if size else ()


def _numel(shape: tuple[int, ...]) -> int:
    n = 1
    for v in shape:
        n *= v
    return n


def _build_records(infos, model: nn.Module, rfs: dict[int, tuple[int, int, int]]) -> list[LayerRecord]:
    names = {id(m): n for n, m in model.named_modules()}
    by_name = dict(model.named_modules())
    out: list[LayerRecord] = []
    # torchinfo lists layers in execution order, parents before children
    for info in infos:
        m = info.module
        name = names.get(id(m), "")
        if not name or isinstance(m, nn.Identity):
            continue  # the root, and toggles that are off
        parent_name = name.rsplit(".", 1)[0] if "." in name else ""
        parent_mod = by_name.get(parent_name)
        is_leaf = not any(m.children())
        win = window(m)
        r = rfs.get(id(m), (None, None, None))
        out_shape = _shape(info.output_size)
        skip = None
        if getattr(m, "merge", None) == "add" and getattr(m, "residual", False):
            skip = "identity" if isinstance(m.shortcut, nn.Identity) else "conv1x1"
        out.append(LayerRecord(
            name=name, depth=name.count(".") + 1, type=type(m).__name__, kind=_kind(m, parent_mod),
            input_shape=_shape(info.input_size), output_shape=out_shape,
            params=sum(p.numel() for p in m.parameters()), macs=max(int(info.macs), 0) if is_leaf else 0,
            act_bytes=_numel(out_shape) * BYTES_PER_VALUE, is_leaf=is_leaf, parent=parent_name,
            kernel=win[0] if win else None, stride=win[1] if win else None, padding=win[2] if win else None,
            rf=r[0], jump=r[1], path_depth=r[2], skip=skip,
        ))
    return _add_joins(_sum_container_macs(out))


def _sum_container_macs(records: list[LayerRecord]) -> list[LayerRecord]:
    totals: dict[str, int] = {}
    for r in records:
        if r.is_leaf:
            p = r.parent
            while p:
                totals[p] = totals.get(p, 0) + r.macs
                p = p.rsplit(".", 1)[0] if "." in p else ""
    return [r if r.is_leaf else replace(r, macs=totals.get(r.name, 0)) for r in records]


def _add_joins(records: list[LayerRecord]) -> list[LayerRecord]:
    """Insert a synthetic record where a block joins its paths: Inception's torch.cat, ResNet's +."""
    out: list[LayerRecord] = []
    by_name = {r.name: r for r in records}
    pending_concat: list[LayerRecord] = []
    for r in records:
        # an Inception block ends when a record outside it arrives
        while pending_concat and not r.name.startswith(pending_concat[-1].name + "."):
            out.append(_concat(pending_concat.pop(), by_name))
        if r.kind == "act" and r.name.endswith(".act2") and by_name.get(r.parent, None) and by_name[r.parent].skip:
            blk = by_name[r.parent]
            main = by_name[f"{blk.name}.conv2"]
            # an identity skip adds the block's own input, named here by the block itself
            sc = f"{blk.name}.shortcut" if blk.skip == "conv1x1" else blk.name
            out.append(LayerRecord(
                name=f"{blk.name}.add", depth=blk.depth + 1, type="Add", kind="add", input_shape=main.output_shape,
                output_shape=main.output_shape, params=0, macs=0, act_bytes=main.act_bytes, is_leaf=True,
                parent=blk.name, rf=r.rf, jump=r.jump, path_depth=r.path_depth,
                inputs=(by_name.get(f"{blk.name}.bn2", main).name, sc),
                synthetic=True,
            ))
        out.append(r)
        if r.kind == "inception":
            pending_concat.append(r)
    while pending_concat:
        out.append(_concat(pending_concat.pop(), by_name))
    return out


def _concat(blk: LayerRecord, by_name: dict[str, LayerRecord]) -> LayerRecord:
    branches = tuple(n for n in (f"{blk.name}.p{i}" for i in range(1, 5)) if n in by_name)
    return LayerRecord(
        name=f"{blk.name}.concat", depth=blk.depth + 1, type="Concat", kind="concat", input_shape=blk.input_shape,
        output_shape=blk.output_shape, params=0, macs=0, act_bytes=blk.act_bytes, is_leaf=True, parent=blk.name,
        rf=blk.rf, jump=blk.jump, path_depth=blk.path_depth, inputs=branches, synthetic=True,
    )


Facts = tuple[int, int, int]  # (receptive field, jump, weight layers on the longest path)


def _join(facts: list[Facts]) -> Facts:
    # a join (cat, +) sees the widest field and lies behind the longest path of its inputs
    return tuple(max(f[i] for f in facts) for i in range(3))  # type: ignore[return-value]


class _PathFacts:
    """Forward hooks that carry (receptive field, jump, path depth) along every tensor of one
    meta pass.

    r_out = r_in + (k − 1)·j_in and j_out = j_in·s for convs and pools; global pooling and
    flattening see the whole map; each conv or linear adds one to the path depth; a join
    (cat, +) takes the largest of its inputs, component by component. Tensors made outside
    modules (torch.cat, +) are resolved from their siblings.
    """

    def __init__(self, model: nn.Module):
        self.by_module: dict[int, Facts] = {}
        self._tensors: dict[int, Facts] = {}
        self._keep: list[torch.Tensor] = []  # keep ids unique while the pass runs
        self._stack: list[list[Facts]] = []
        self._handles = []
        try:
            for m in model.modules():
                self._handles.append(m.register_forward_pre_hook(self._pre))
                self._handles.append(m.register_forward_hook(self._post))
        except Exception:
            self.remove()
            raise

    def remove(self) -> None:
        for h in self._handles:
            h.remove()
        self._handles.clear()
        self._tensors.clear()
        self._keep.clear()

    def _pre(self, module, inputs) -> None:
        if not self._stack:  # the root: the image itself has rf 1, jump 1, no layer behind it
            self._tensors[id(inputs[0])] = (1, 1, 0)
            self._keep.append(inputs[0])
        self._stack.append([])

    def _post(self, module, inputs, output) -> None:
        children = self._stack.pop()
        if id(output) in self._tensors:
            r = self._tensors[id(output)]
        elif any(module.children()):
            r = _join(children) if children else self._lookup(inputs[0])
        else:
            r_in, j_in, d_in = self._lookup(inputs[0])
            d = d_in + isinstance(module, (nn.Conv2d, nn.Linear))
            win = window(module)
            x = inputs[0]
            if win:
                (k, _), (s, _), _ = win
                r = (r_in + (k - 1) * j_in, j_in * s, d)
            elif isinstance(module, (nn.AdaptiveAvgPool2d, nn.Flatten)) and x.dim() == 4:
                side = max(int(x.shape[-2]), int(x.shape[-1]))
                r = (r_in + (side - 1) * j_in, j_in * side, d)
            else:
                r = (r_in, j_in, d)
        self._tensors[id(output)] = r
        self._keep.append(output)
        self.by_module[id(module)] = r
        if self._stack:
            self._stack[-1].append(r)

    def _lookup(self, x: torch.Tensor) -> Facts:
        if id(x) in self._tensors:
            return self._tensors[id(x)]
        # made outside a module (the residual add): the join of its siblings so far
        return _join(self._stack[-1]) if self._stack and self._stack[-1] else (1, 1, 0)


