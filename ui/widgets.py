"""Widgets bound to the URL: a page's configuration lives in its query string.

A page declares a ``cnnviz.urlstate.Schema`` and wraps it in a ``PageState``::

    state = PageState("explorer", schema)
    state.start()                       # URL (or the last visit) → widgets; warns about bad values
    side = state.slider("side", tr("explore.side"))
    bn = state.toggle("bn", tr("explore.bn"))
    state.sync()                        # widgets → URL (only values that differ from the defaults)

Why it works this way:

* Widgets read their value from ``st.session_state`` under ``"<page>.<field>"`` keys, seeded
  once per visit; a widget is never given ``value=`` too (Streamlit warns about both).
* Streamlit drops a widget's state when a run does not draw it, i.e. when the reader visits
  another page. ``PageState`` keeps a copy of the last values under a key no widget owns, so
  coming back through the sidebar restores the page as it was. A link that carries this
  page's fields (a shared URL, a ``st.page_link`` with ``query_params``) wins over that copy.
* Values from a URL are cleaned by the schema (clamped, defaulted) before any widget sees
  them, so a crafted link can neither crash a widget nor ask for a 100,000-pixel input.
* So are values from the browser. Streamlit hands a choice widget's value to the script as it
  came when it is not one of the options (a forged websocket message: any string); ``get``
  reads such a value as the field's default (a widget callback runs before the page does),
  and ``start`` puts the default back before any widget is drawn. A choice widget whose
  options the page computes (runs, layers) is guarded with ``keep_choices``.

List fields (``IntListField``) map to one widget per element, keyed ``"<page>.<field>.<i>"``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import streamlit as st

from cnnviz import urlstate
from cnnviz.urlstate import BoolField, ChoiceField, FloatField, IntChoiceField, IntField, IntListField

from .common import lang

_MEMORY = "_pagestate"  # session key of the per-page copies; no widget uses it


def keep_choices(key: str, options: Iterable[Any], multi: bool = False) -> None:
    """Before drawing the choice widget ``key`` whose options the page computes (runs, layers,
    identities): a remembered value that is no longer among ``options`` (a run deleted, the
    class cleared) or never was (a forged message: Streamlit passes it on as it came) is
    dropped, so the widget starts from its default (``multi``: the valid ones kept)."""
    if key not in st.session_state:
        return
    opts = set(options)
    value = st.session_state[key]
    if multi:
        kept = [v for v in value if v in opts] if isinstance(value, list) else []
        if kept != value:
            st.session_state[key] = kept
    elif value is not None and value not in opts:
        del st.session_state[key]


def label_of(labels: Mapping[Any, str]) -> Callable[[Any], str]:
    """A choice widget's ``format_func`` over ``labels`` that has a label for any value: Streamlit
    formats the value the browser sent before the page can drop it (``keep_choices``), and a
    forged one would otherwise format as None and fail the run. Unknown values show as text."""
    return lambda v: labels.get(v, str(v))


def field(kind: str, name: str, label: str, **options: Any) -> tuple[str, str, str, dict[str, Any]]:
    """One widget of ``PageState.row``: the method that draws it, the field, its label, its options."""
    return kind, name, label, options


class PageState:
    """One page's configuration, bound to its widgets and to the URL."""

    def __init__(self, page: str, schema: urlstate.Schema,
                 parse: Callable[[Mapping[str, Any]], tuple[dict[str, Any], list[urlstate.Problem]]] | None = None):
        """``parse`` replaces ``schema.parse`` when defaults depend on other fields (the explorer's
        architecture decides its default input side)."""
        self.page, self.schema = page, schema
        self._parse = parse or schema.parse
        self.problems: list[urlstate.Problem] = []

    # --- keys ---------------------------------------------------------------------------------
    def key(self, name: str, i: int | None = None) -> str:
        """The session-state key of field ``name`` (element ``i`` of a list field)."""
        return f"{self.page}.{name}" if i is None else f"{self.page}.{name}.{i}"

    def _seeded(self) -> bool:
        return any(self._has(f) for f in self.schema.fields)

    def _has(self, f) -> bool:
        if isinstance(f, IntListField):
            return self.key(f.name, 0) in st.session_state
        return self.key(f.name) in st.session_state

    # --- URL → widgets ------------------------------------------------------------------------
    def start(self) -> list[urlstate.Problem]:
        """Seed the widgets' state on the first run of a visit, from the URL if it carries this
        page's fields, else from the last visit, else the defaults; show a translated warning
        listing what the link got wrong. Later runs only put back values Streamlit dropped.
        A choice the browser sent that is none of the field's choices goes back to the default."""
        self._drop_forged()
        memory = st.session_state.get(_MEMORY, {}).get(self.page)
        if self._seeded():
            self._restore(memory)
            self._reassert()
            return []
        qp = {k: st.query_params.get_all(k) for k in self.schema.names if k in st.query_params}
        if qp or memory is None:
            values, self.problems = self._parse(qp)
        else:
            values, self.problems = dict(memory), []
        self.set(values)
        if self.problems:
            st.warning(urlstate.problems_text(self.problems, lang()), icon=":material/link_off:")
        return self.problems

    def _restore(self, memory: Mapping[str, Any] | None) -> None:
        """Put back the last completed run's value of any widget whose state is gone.

        A run cut short by a newer one (``runner.fastReruns``: a student dragging a slider
        fires several) can leave Streamlit without the state of widgets that run never
        reached; they would come back at their constructor default (a toggle: off) and the
        URL would follow. List elements beyond the remembered length are the page's business
        (the designer seeds new blocks itself).
        """
        if not memory:
            return
        for f in self.schema.fields:
            value = memory.get(f.name)
            if value is None:
                continue
            if isinstance(f, IntListField):
                for i, v in enumerate(value):
                    st.session_state.setdefault(self.key(f.name, i), int(v))
            else:
                st.session_state.setdefault(self.key(f.name), value)

    def _reassert(self) -> None:
        """Write every widget's current value back to its key before the widget is drawn.

        Streamlit sends a widget's value to the browser only when the script set it this run;
        otherwise the browser keeps its own. When a reader acts before the page's first run
        has reached the browser, the browser mounts the widgets from later runs and, knowing
        no value, shows their constructor default (a toggle: off) and sends it back. Setting
        the value again every run makes each run tell the browser what it holds. The value
        is the browser's latest already (it arrives with the rerun), so nothing is undone.
        """
        for f in self.schema.fields:
            keys = [self.key(f.name)]
            if isinstance(f, IntListField):
                keys = [self.key(f.name, i) for i in range(f.max_len)]
            for k in keys:
                if k in st.session_state:
                    st.session_state[k] = st.session_state[k]

    def set(self, values: Mapping[str, Any]) -> None:
        """Put ``values`` into the widgets' state (call before the widgets are drawn, or from a
        widget callback); list fields fill one key per element."""
        for name, value in values.items():
            f = self.schema.field(name)
            if isinstance(f, IntListField):
                for i, v in enumerate(value):
                    st.session_state[self.key(name, i)] = int(v)
            else:
                st.session_state[self.key(name)] = value

    def get(self, name: str, default: Any = None) -> Any:
        """The current value of a scalar field (a choice field's default for a value that is
        none of its choices: see the module docstring)."""
        value = st.session_state.get(self.key(name), default)
        choices = self._fixed_choices(name)
        if choices is not None and name in self.schema.names and value not in choices:
            return self.schema.field(name).default
        return value

    def _fixed_choices(self, name: str) -> tuple[Any, ...] | None:
        """A field's fixed choices (a choice field, a list field with choices), else None."""
        if name not in self.schema.names:
            return None
        f = self.schema.field(name)
        if isinstance(f, (ChoiceField, IntChoiceField)) or (isinstance(f, IntListField) and f.choices):
            return tuple(f.choices)
        return None

    def _drop_forged(self) -> None:
        """Every choice widget's value that is none of its choices → the field's default (list
        fields: the element's default, else the first choice). Runs before any widget is drawn."""
        for f in self.schema.fields:
            choices = self._fixed_choices(f.name)
            if choices is None:
                continue
            if isinstance(f, IntListField):
                for i in range(f.max_len):
                    k = self.key(f.name, i)
                    if k in st.session_state and st.session_state[k] not in choices:
                        st.session_state[k] = f.default[i] if i < len(f.default) else choices[0]
            else:
                k = self.key(f.name)
                if k in st.session_state and st.session_state[k] not in choices:
                    st.session_state[k] = f.default

    def get_list(self, name: str, n: int) -> list[Any]:
        """The first ``n`` elements of a list field (missing ones repeat the last present one)."""
        out: list[Any] = []
        for i in range(n):
            k = self.key(name, i)
            if k in st.session_state:
                out.append(st.session_state[k])
            elif out:
                out.append(out[-1])
        return out

    def values(self, list_lengths: Mapping[str, int] | None = None) -> dict[str, Any]:
        """Every field's current value; list fields take their length from ``list_lengths``."""
        out: dict[str, Any] = {}
        for f in self.schema.fields:
            if isinstance(f, IntListField):
                n = (list_lengths or {}).get(f.name, f.max_len)
                out[f.name] = tuple(self.get_list(f.name, n)) or tuple(f.default)
            else:
                out[f.name] = self.get(f.name, f.default)
        return out

    # --- widgets → URL ------------------------------------------------------------------------
    def sync(self, values: Mapping[str, Any] | None = None, defaults: Mapping[str, Any] | None = None) -> None:
        """Write the page's values to the query string (non-default ones only; the rest are
        removed) and remember them for the next visit. Keys of other pages and ``lang`` stay."""
        values = dict(values if values is not None else self.values())
        st.session_state.setdefault(_MEMORY, {})[self.page] = values
        encoded = self.schema.encode(values, defaults)
        for name in self.schema.names:
            if name in encoded:
                if st.query_params.get(name) != encoded[name]:
                    st.query_params[name] = encoded[name]
            elif name in st.query_params:
                del st.query_params[name]

    # --- widget helpers (labels come translated from the page) ----------------------------------
    def slider(self, name: str, label: str, i: int | None = None, **kw: Any) -> Any:
        """``st.slider`` over an ``IntField``/``FloatField``'s range (or a list field's element range)."""
        f = self.schema.field(name)
        if isinstance(f, FloatField):
            kw = dict(min_value=float(f.lo), max_value=float(f.hi), step=float(f.step)) | kw
        elif isinstance(f, (IntField, IntListField)):  # an IntStepField's grid is the slider's step
            kw = dict(min_value=f.lo, max_value=f.hi, step=getattr(f, "step", 1)) | kw
        return st.slider(label, key=self.key(name, i), **kw)

    def slider_box(self, name: str, label: str, box_label: str, box_help: str | None = None,
                   widths: Sequence[float] = (3, 1.25), **kw: Any) -> int:
        """An ``IntField``'s slider with a number box beside it, for an exact value (side 16 is
        hard to hit on a 280-pixel slider, on a phone hardest). One value: the slider's key is
        the field's (URL, memory, ``get``); the box (key ``"<page>.<field>.box"``, no field of its
        own) is set from it before it is drawn, and its ``on_change`` writes back to the slider's
        key, which a callback may do because callbacks run before the script draws anything."""
        f = self.schema.field(name)
        assert isinstance(f, IntField)
        key, box = self.key(name), self.key(name) + ".box"

        def from_box() -> None:
            typed = st.session_state.get(box)
            if isinstance(typed, (int, float)) and not isinstance(typed, bool):  # cleared or forged: the slider's
                st.session_state[key] = min(max(int(typed), f.lo), f.hi)

        left, right = st.columns(list(widths), gap="small", vertical_alignment="bottom")
        with left:
            value = self.slider(name, label, **kw)
        if isinstance(value, bool) or not isinstance(value, int) or not f.lo <= value <= f.hi:
            value = f.default  # a forged slider value (a crafted message): the field's default, box and page alike
        st.session_state[box] = value  # the box is not drawn yet this run: setting it is allowed
        with right:
            st.number_input(box_label, min_value=f.lo, max_value=f.hi, step=1, key=box, on_change=from_box,
                            help=box_help, disabled=kw.get("disabled", False))
        return value

    def select_slider(self, name: str, label: str, i: int | None = None, **kw: Any) -> Any:
        """``st.select_slider`` over a choice field's choices."""
        return st.select_slider(label, options=list(self._choices(name)), key=self.key(name, i), **kw)

    def number(self, name: str, label: str, **kw: Any) -> Any:
        """``st.number_input`` over an ``IntField``'s range."""
        f = self.schema.field(name)
        return st.number_input(label, min_value=f.lo, max_value=f.hi, step=1, key=self.key(name), **kw)

    def toggle(self, name: str, label: str, **kw: Any) -> bool:
        """``st.toggle`` for a ``BoolField``."""
        assert isinstance(self.schema.field(name), BoolField)
        return st.toggle(label, key=self.key(name), **kw)

    def selectbox(self, name: str, label: str, options: Sequence[Any] | None = None, **kw: Any) -> Any:
        """``st.selectbox`` over a choice field's choices (or ``options``, when they depend on
        the page, e.g. the blocks of the current network)."""
        opts = list(options if options is not None else self._choices(name))
        if self.get(name) not in opts:  # a stale value (another architecture's block): back to the first
            st.session_state[self.key(name)] = opts[0]
        return st.selectbox(label, opts, key=self.key(name), **kw)

    def radio(self, name: str, label: str, **kw: Any) -> Any:
        """A horizontal ``st.radio`` over a choice field's choices."""
        return st.radio(label, list(self._choices(name)), key=self.key(name), horizontal=True, **kw)

    def segmented(self, name: str, label: str, **kw: Any) -> Any:
        """``st.segmented_control`` (single choice, never empty) over a choice field's choices."""
        opts = list(self._choices(name))
        value = st.segmented_control(label, opts, selection_mode="single", key=self.key(name), **kw)
        if value is None:  # clicking the selected segment again clears it; keep the page well-defined
            value = self.schema.field(name).default
        return value

    def row(self, *fields: tuple[str, str, str, dict[str, Any]], widths: Sequence[float] | None = None) -> list[Any]:
        """A row of bound widgets, one per column, left to right; their values in that order.

        Each of ``fields`` is ``field(kind, name, label, **options)``, ``kind`` being the method
        that draws it (``"slider"``, ``"select_slider"``, ``"selectbox"``, ``"number"``...)::

            steps, lr = state.row(field("slider", "steps", tr("lab.steps")), field("select_slider", "lr", tr("lab.lr")))
        """
        values = []
        for col, (kind, name, label, options) in zip(st.columns(list(widths or [1] * len(fields))), fields):
            with col:
                values.append(getattr(self, kind)(name, label, **options))
        return values

    def _choices(self, name: str) -> tuple[Any, ...]:
        f = self.schema.field(name)
        if isinstance(f, (ChoiceField, IntChoiceField)) or (isinstance(f, IntListField) and f.choices):
            return f.choices
        raise TypeError(f"{name} has no fixed choices")
