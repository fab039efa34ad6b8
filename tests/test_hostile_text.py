"""Text from outside (a URL value, a run id in a link, a student's display name) is shown as text,
never as markup (issue 19, items 2 and 6): every page's URL parameters filled with generated
payloads (links, images, HTML, backticks, control characters, very long), the training page
given a lab job's id, an unknown id and a malformed one, and a display name made of HTML in the
board's legend. Fast: AppTest on a store with no pool (rows written directly), a few examples
per page.

How "shown as text" is checked: every payload carries the marker ``qzx`` in each of its parts
(its links point at ``qzx.example``). In every Markdown-bearing element of the page (text,
captions, alerts, toasts, widget labels and help), the text left once the inline code spans are
removed (CommonMark's rule: a run of N backticks up to the next run of exactly N) must not
contain the marker: the value appears only inside code, where nothing is a link or markup. In a
plotly figure, a string carrying the marker must carry no ``<`` (HTML-escaped).
"""

from __future__ import annotations

import json
import re
import time

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as hs
from streamlit.testing.v1 import AppTest

from cnnviz import safe
from cnnviz.runs.store import RunStore
from cnnviz.status import Status
from cnnviz.train.events import EpochEvent, StepEvent

from training_helpers import tiny

TIMEOUT = 120
MARK = "qzx"
TOKEN = "hostile-text-token-000001"  # a browser's cookie token (22+ URL-safe characters)

# the building blocks of a payload: each carries the marker, so any of them leaking out of a
# code span shows; the generated text between them adds backtick runs, spaces, unicode...
SNIPPETS = (
    f"[{MARK}](http://{MARK}.example/x)",
    f"![{MARK}](http://{MARK}.example/i.png)",
    f"<img src=http://{MARK}.example/i.png>",
    f"<a href='http://{MARK}.example'>{MARK}</a>",
    f"http://{MARK}.example/",
    f"www.{MARK}.example",
    f"`{MARK}`",
    f"```{MARK}",
    f"**{MARK}**",
    f":red[{MARK}]",
    f"${MARK}$",
    f"<b>{MARK}</b><br>",
    f"\n# {MARK}\n",
    f"{MARK}\x00\x1b\u202e\u200b",
    f"{MARK} 汉字 ✓",
    MARK * 120,
)
GLUE = hs.text(alphabet=hs.sampled_from("` \\*_[]()<>!:$#\n\t\x07é漢😀a1"), max_size=6)


def payloads(n: int):
    """``n`` payloads for one page's fields: field i starts from snippet ``(k + i)``, so even the
    simplest example spreads every kind of snippet over the fields."""
    return hs.tuples(hs.integers(0, len(SNIPPETS) - 1), hs.lists(GLUE, min_size=n, max_size=n),
                     hs.lists(hs.sampled_from(SNIPPETS), min_size=n, max_size=n)).map(
        lambda a: [MARK + SNIPPETS[(a[0] + i) % len(SNIPPETS)] + a[1][i] + a[2][i] for i in range(n)])


# --- reading what a page shows ----------------------------------------------------------------------
def outside_code(text: str) -> str:
    """``text`` with its Markdown inline code spans removed (an unmatched backtick run stays text)."""
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\" and text[i + 1: i + 2] == "`":  # an escaped backtick is text, not a fence
            out.append(text[i: i + 2])
            i += 2
            continue
        if text[i] != "`":
            out.append(text[i])
            i += 1
            continue
        n = len(text[i:]) - len(text[i:].lstrip("`"))
        close = next((m for m in re.finditer(r"`+", text[i + n:]) if len(m.group()) == n), None)
        if close is None:
            out.append("`" * n)
            i += n
        else:
            i += n + close.end()
    return "".join(out)


def test_outside_code_follows_commonmark():
    assert outside_code("a `b` c") == "a  c"
    assert outside_code("a ``b`c`` d") == "a  d"  # a single backtick inside a double fence
    assert outside_code("a `` b ` c") == "a `` b ` c"  # no closing run of the same length
    assert outside_code("x ``` y `` z ``` w") == "x  w"
    assert outside_code(safe.md("a``b`c")) == ""


def code_content(span: str) -> str:
    """What a renderer shows for one code span (CommonMark: the fence removed; content that begins
    and ends with a space, and is not all spaces, loses one space on each side)."""
    n = len(span) - len(span.lstrip("`"))
    body = span[n:-n]
    return body[1:-1] if len(body) >= 2 and body[0] == body[-1] == " " and body.strip(" ") else body


@settings(max_examples=300, deadline=None)
@given(hs.text())
def test_md_shows_any_text_verbatim_as_one_code_span(text):
    span = safe.md(text, limit=None)
    assert outside_code(span) == ""  # one span, nothing outside it
    assert code_content(span) == (safe.clean(text) or " ")  # exactly the text (control characters replaced)
    assert not any(ch in safe.clean(text) for ch in "\n\r\x00\u202e\u200b")  # nothing breaks a line or hides


def test_safe_html_file_name_and_verbatim():
    assert safe.html("<a href='x'>&</a>") == "&lt;a href='x'&gt;&amp;&lt;/a&gt;"
    assert safe.clean("a\nb\u202ec", limit=2) == "a\ufffd…"
    assert safe.file_name("../../etc/passwd") == "etc_passwd" and safe.file_name(".x<b>.csv") == "x_b_.csv"
    assert safe.file_name("") == "download" and safe.file_name("-rf") == "rf"
    from cnnviz.errors import CnnvizError
    from cnnviz.i18n import t

    v = safe.verbatim("[x](http://e)`")
    assert t("train.runs.unknown", "en", run_id=v) == "there is no run `` [x](http://e)` `` (it may have been deleted)"
    err = CnnvizError("train.runs.unknown", run_id=v)
    assert str(err) == "there is no run '[x](http://e)`' (it may have been deleted)"  # the CLI: plain text
    assert err.render("en") == t("train.runs.unknown", "en", run_id=v)  # a page: Markdown code


def _nodes(node):
    yield node
    for child in getattr(node, "children", {}).values():
        yield from _nodes(child)


MARKDOWN_KINDS = ("markdown", "caption", "title", "header", "subheader", "error", "warning", "info", "success",
                  "toast", "exception")


def markdown_texts(at) -> list[str]:
    """Every piece of Markdown the page shows: elements' bodies, widgets' labels, help and (radio)
    options."""
    texts = [str(e.value) for kind in MARKDOWN_KINDS for e in at.get(kind)]
    for node in _nodes(at._tree):
        proto = getattr(node, "proto", None)
        if proto is None:
            continue
        for name in ("label", "help"):
            if name in type(proto).DESCRIPTOR.fields_by_name:
                texts.append(getattr(proto, name))
        if node.type == "radio":
            texts += list(proto.options)
    return texts


def plotly_strings(at) -> list[str]:
    def strings(v):
        if isinstance(v, str):
            yield v
        elif isinstance(v, dict):
            for x in v.values():
                yield from strings(x)
        elif isinstance(v, list):
            for x in v:
                yield from strings(x)

    return [s for c in at.get("plotly_chart") for s in strings(json.loads(c.proto.spec))]


def assert_only_as_text(at) -> None:
    """No exception; the marker only inside code spans in Markdown, only escaped in plotly."""
    assert not at.exception, [e.value for e in at.exception]
    for text in markdown_texts(at):
        assert MARK not in outside_code(text).lower(), text
    for s in plotly_strings(at):
        assert MARK not in s.lower() or "<" not in s, s


# --- the pages and their URL parameters -------------------------------------------------------------
def _page_params() -> dict[str, tuple[str, ...]]:
    import pathlib

    from ui import schemas

    def fields_in(page: str) -> tuple[str, ...]:  # a page that declares its own schema (the convolution lab)
        src = (pathlib.Path(__file__).parents[1] / "pages" / f"{page}.py").read_text()
        return tuple(dict.fromkeys(re.findall(r'Field\("(\w+)"', src)))

    return {
        "explorer": schemas.explorer_schema().names, "designer": schemas.designer_schema().names,
        "compare": schemas.compare_schema().names, "training": schemas.training_schema().names + ("run",),
        "gradflow": schemas.gradflow_schema().names, "batchnorm": schemas.batchnorm_schema().names,
        "costlab": schemas.costlab_schema().names, "featuremaps": schemas.featuremaps_schema().names,
        "convarith": fields_in("convarith"), "quiz": fields_in("quiz"), "board": (),
    }


PAGE_PARAMS = _page_params()


def test_every_page_with_url_state_is_covered():
    import pathlib

    pages = {p.stem for p in (pathlib.Path(__file__).parents[1] / "pages").glob("*.py")}
    reads_url = {p for p in pages
                 if re.search(r"PageState\(|st\.query_params", (pathlib.Path(__file__).parents[1] / "pages" /
                                                                f"{p}.py").read_text())}
    assert reads_url <= set(PAGE_PARAMS), reads_url - set(PAGE_PARAMS)
    assert "layer" in PAGE_PARAMS["convarith"] and "seed" in PAGE_PARAMS["quiz"]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """A fresh run store, and the pages' scheduler on it with no pool (nothing here is trained)."""
    from ui import sched

    mp = pytest.MonkeyPatch()
    db = tmp_path_factory.mktemp("hostile") / "runs.sqlite"
    mp.setenv("CNNVIZ_DB", str(db))
    mp.setenv("CNNVIZ_POOL", "external")
    sched._scheduler.clear()
    s = RunStore(db)
    try:
        yield s
    finally:
        s.close()
        sched._scheduler.clear()
        mp.undo()


def page(name: str, params: dict[str, str] | None = None, token: str = TOKEN) -> AppTest:
    at = AppTest.from_file(f"../pages/{name}.py", default_timeout=TIMEOUT)
    at.session_state["_student_token"] = token
    for k, v in (params or {}).items():
        at.query_params[k] = v
    return at.run()


@pytest.mark.parametrize("name", sorted(PAGE_PARAMS))
@settings(max_examples=1, deadline=None, database=None, phases=(Phase.generate,),  # no shrinking: each run is ~1 s
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=hs.data())
def test_url_values_are_shown_only_as_code(store, name, data):
    fields = PAGE_PARAMS[name] + ("lang",)
    values = data.draw(payloads(len(fields)))
    at = page(name, dict(zip(fields, values)))
    assert_only_as_text(at)
    if PAGE_PARAMS[name] and name != "training":  # a page with URL state says what it could not use
        assert at.warning, name


# --- ids on the training page ----------------------------------------------------------------------
def _job(store: RunStore, kind: str, status: Status, owner: str = "someone" + "0" * 17) -> str:
    rid = f"{kind[:4]}{int(time.monotonic_ns()) % 10**8:08d}"
    store.create(rid, "lenet", kind, {"steps": 5}, owner, kind=kind, status=Status.QUEUED)
    store.append(rid, 0, [], status=status)
    return rid


@pytest.mark.parametrize("kind,status", [("gradflow", Status.COMPLETED), ("bnpair", Status.RUNNING),
                                         ("featuremaps", Status.STOPPED)])
def test_a_lab_jobs_id_on_the_training_page_is_one_sentence(store, kind, status):
    rid = _job(store, kind, status)
    for lang, words in (("en", "not a training run"), ("zh", "不是训练运行")):
        at = page("training", {"run": rid, "lang": lang})
        assert_only_as_text(at)
        assert len(at.error) == 1 and words in at.error[0].value and rid in at.error[0].value
        assert not at.get("plotly_chart")  # no curves, no Results view of a job that has none


def test_an_unknown_run_id_on_the_training_page_is_one_sentence(store):
    at = page("training", {"run": "deadbeef0000"})
    assert_only_as_text(at)
    assert [e.value for e in at.error] == ["there is no run `deadbeef0000` (it may have been deleted)"]


@pytest.mark.parametrize("raw", ["x" * 5000, "abc\x00\x1b[2Jdef", f"[{MARK}](http://{MARK}.example)",
                                 f"<img src=http://{MARK}.example/i.png>", "www.qzx.example", "run 1", "ab`c"])
def test_a_malformed_run_id_on_the_training_page_is_one_sentence(store, raw):
    at = page("training", {"run": raw})
    assert_only_as_text(at)
    assert len(at.error) == 1 and "is not a run id" in at.error[0].value
    assert any(b.label == "Start training" for b in at.button)  # the page goes on without a run


def test_a_lab_jobs_id_in_the_results_view_is_one_sentence(store):
    """``ui.results.view`` itself refuses a lab job (it read a training config: ``KeyError: 'data'``)."""
    rid = _job(store, "gradflow", Status.COMPLETED)

    def script(rid: str) -> None:
        from ui import results

        results.view(rid, "x")

    at = AppTest.from_function(script, args=(rid,), default_timeout=TIMEOUT).run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.error) == 1 and "is a lab job (gradflow), not a training run" in at.error[0].value


# --- display names ----------------------------------------------------------------------------------
HOSTILE_NAME = f"<a href='http://{MARK}.example'>{MARK}</a><b>b</b><br>"


def _train_run(store: RunStore, owner: str, seed: int) -> str:
    """A completed training run with a few epochs of curves, written straight into the store."""
    cfg = tiny(seed=seed)
    rid = f"tr{seed:02d}{int(time.monotonic_ns()) % 10**8:08d}"
    store.create(rid, "lenet", f"lenet-{seed}", cfg.to_dict(), owner, status=Status.QUEUED)
    events = [StepEvent(step=i, epoch=i / 4, loss=1.0 / i, epoch_loss=1.0 / i, train_acc=0.2 * i, lr=0.1,
                        examples_per_s=100.0, elapsed_s=float(i), grad_norms={"c1": 0.1}) for i in (1, 2, 3, 4)]
    events.append(EpochEvent(step=4, epoch=1.0, train_loss=0.25, train_acc=0.8, test_acc=0.7, test_loss=0.3,
                             examples_per_s=100.0, elapsed_s=4.0))
    store.append(rid, 0, [], status=Status.RUNNING)
    store.append(rid, 0, events, status=Status.COMPLETED, summary={"test_acc": 0.7, "epoch": 1.0})
    return rid


def test_curves_figure_escapes_its_labels():
    from cnnviz.viz.training import curves_figure

    ev = [StepEvent(step=1, epoch=0.5, loss=1.0, epoch_loss=1.0, train_acc=0.5, lr=0.1, examples_per_s=1.0,
                    elapsed_s=1.0)]
    fig = curves_figure([(HOSTILE_NAME, ev), ("plain", ev)])
    names = [tr.name for tr in fig.data]
    assert names[0].startswith("&lt;a href='http://qzx.example'&gt;qzx&lt;/a&gt;&lt;b&gt;b&lt;/b&gt;&lt;br&gt;: ")
    assert all("<" not in n for n in names)


def test_a_display_name_of_html_is_escaped_in_the_boards_legend(store):
    owner = "htmlname" + "0" * 16
    store.touch(owner, name=HOSTILE_NAME)
    rids = [_train_run(store, owner, 1), _train_run(store, owner, 2)]
    at = page("board")
    assert_only_as_text(at)
    at.multiselect(key="board.overlay").set_value(rids).run()
    assert_only_as_text(at)
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    names = [tr["name"] for tr in spec["data"]]
    assert names and all(n.startswith(safe.html(HOSTILE_NAME)) for n in names), names
    assert not any("<a" in n or "<b>" in n or "<br>" in n for n in names)


def test_a_saved_display_name_is_quoted_as_code(store):
    at = page("board", token="hostile-text-token-000002")
    name = f"[{MARK}](http://{MARK}.ex) `www.{MARK}.ex"
    assert len(name) <= 32  # the box's max_chars (ui.board.NAME_MAX): longer input is refused
    at.text_input(key="board.name").input(name)
    next(b for b in at.button if b.label == "Save name").click().run()  # the form sends both at once
    assert_only_as_text(at)
    assert at.success and MARK in at.success[0].value  # said, as code
