"""Predict the shape: a quiz drawn from real traces of the chapter's networks.

Layout only: the seed (in the URL, ``?seed=7``) → ``cnnviz.labs.quiz`` → one question at a
time, an answer box (or a choice of layers, each with its type) in a form, so Enter checks it
as the Check button does. A wrong answer shows the arithmetic and a link that opens the same
network, at the same input, in the explorer (an input too small for it opens on the layers up
to the one that fails). Each student's answers and the question they are on are kept per seed
in the run store (``cnnviz.labs.quizprogress``), so a reload finds them again; "New quiz" draws
a new seed, so the link changes with it. Without a store (it cannot be opened) the session
keeps them, as before.
"""

from __future__ import annotations

import random
from urllib.parse import urlencode

import streamlit as st
from streamlit.errors import StreamlitPageNotFoundError

from cnnviz import urlstate
from cnnviz.errors import CnnvizError
from cnnviz.labs import quiz as qz
from cnnviz.labs.quizprogress import QuizProgress
from cnnviz.urlstate import IntField
from cnnviz.viz import diagram
from ui import figures, sched
from ui.common import lang, show_error, tr, try_trace
from ui.widgets import PageState

COUNT = 10  # questions per quiz: every kind once, then four more
DEFAULT_SEED = 1
POS, RESULTS, FEEDBACK = "quiz.pos", "quiz.results", "quiz.feedback"  # session keys no widget owns
POS_SEED = "quiz.pos.seed"  # the seed whose stored position POS holds

# The page's URL schema, declared here: the seed is this page's only setting.
state = PageState("quiz", urlstate.Schema((IntField("seed", DEFAULT_SEED, lo=0, hi=qz.MAX_SEED),)))


@st.cache_resource(max_entries=64, show_spinner=False)
def questions(seed: int) -> tuple[qz.Question, ...]:
    """The quiz of ``seed`` (frozen questions, shared by every session on that seed: a class)."""
    return qz.quiz(seed, COUNT)


@st.cache_resource(show_spinner=False, max_entries=4)
def _progress_at(db: str, store_id: int, _store) -> QuizProgress:
    """The quiz's tables in the store object ``_store`` (created once per store object: a store the
    app reopened, ``ui.sched.forget_store``, is a new key)."""
    return QuizProgress(_store)


def progress() -> QuizProgress | None:
    """This server's quiz progress, or None when the store cannot be opened (the session keeps it)."""
    try:
        store = sched.scheduler().store
        return _progress_at(str(store.path), id(store), store)
    except Exception:  # a broken or locked store: the quiz still works, for this session
        return None


def new_quiz() -> None:
    """Draw a fresh seed (the link follows) and go back to its first question."""
    state.set({"seed": random.SystemRandom().randrange(qz.MAX_SEED + 1)})
    st.session_state.pop(POS_SEED, None)  # the new seed's kept position (0 for a new one) is read next run


def move(step: int, seed: int) -> None:
    pos = min(max(st.session_state.get(POS, 0) + step, 0), COUNT - 1)
    st.session_state[POS] = pos
    store = progress()
    if store is not None:
        store.move(sched.student(), seed, pos)


def answer_key(seed: int, i: int) -> str:
    return f"quiz.answer.{seed}.{i}"


def on_check(q: qz.Question, seed: int, i: int) -> None:
    """Mark the answer: right or wrong is kept per (seed, question), in the store when there is
    one; unreadable text is a message (never kept: a reload forgets a typo)."""
    typed = st.session_state.get(answer_key(seed, i))
    feedback = st.session_state.setdefault(FEEDBACK, {})
    if typed is None or not str(typed).strip():
        feedback[(seed, i)] = ("empty", "")
        return
    try:
        right = qz.check(q, str(typed))
    except CnnvizError as err:
        feedback[(seed, i)] = ("error", err)
        return
    st.session_state.setdefault(RESULTS, {})[(seed, i)] = right
    feedback[(seed, i)] = ("right" if right else "wrong", str(typed).strip())
    store = progress()
    if store is not None:
        store.record(sched.student(), seed, i, right, str(typed).strip())


def load(seed: int) -> None:
    """This student's kept answers and position on ``seed``'s quiz into the session: on the first
    run of a session (a reload) and whenever the seed changes. The session's own feedback (an
    empty box, a typo) stays."""
    store = progress()
    if store is None:
        if st.session_state.get(POS_SEED) != seed:
            st.session_state[POS], st.session_state[POS_SEED] = 0, seed
        return
    sid = sched.student()
    results = st.session_state.setdefault(RESULTS, {})
    feedback = st.session_state.setdefault(FEEDBACK, {})
    for i, ans in store.answers(sid, seed).items():
        results[(seed, i)] = ans.right
        feedback.setdefault((seed, i), ("right" if ans.right else "wrong", ans.text))
        st.session_state.setdefault(answer_key(seed, i), ans.text)  # the box shows what was answered
    if st.session_state.get(POS_SEED) != seed:
        st.session_state[POS] = min(store.position(sid, seed), COUNT - 1)
        st.session_state[POS_SEED] = seed


def explorer_link(q: qz.Question) -> None:
    """Open the question's network in the explorer, the block around its layer expanded."""
    cfg = q.config
    params = {"arch": q.arch, "side": str(cfg.input_hw[0]), "ch": str(cfg.in_channels),
              "bn": "1" if cfg.batch_norm else "0", "wd": str(cfg.width_div), "view": "structure"}
    if hasattr(cfg, "residual"):
        params["res"] = "1" if cfg.residual else "0"
    traced, _ = try_trace(cfg)
    if traced is None:  # a too-small side: the explorer draws the layers up to the one that fails
        cut = figures.collapse(cfg, 1)
        traced = cut.trace if cut is not None else None
    if traced is not None:
        around = [u for u in diagram.units(traced) if q.layer == u or q.layer.startswith(u + ".")]
        if around:
            params["expand"] = around[-1]  # the innermost unit holding the layer
    label = tr("quiz.explorer", layer=q.layer)
    try:
        st.page_link("pages/explorer.py", label=label, icon=":material/account_tree:", query_params=params)
    except StreamlitPageNotFoundError:  # the page run on its own, outside app.py's navigation: the same address
        st.markdown(f"[{label}](/explorer?{urlencode(params)})")


def show_feedback(q: qz.Question, seed: int, i: int) -> None:
    status, detail = st.session_state.get(FEEDBACK, {}).get((seed, i), (None, None))
    if status == "empty":
        st.warning(tr("quiz.empty"), icon=":material/edit:")
    elif status == "error":
        show_error(detail)
    elif status == "right":
        st.success(tr("quiz.right", answer=q.answer_text()), icon=":material/check_circle:")
    elif status == "wrong":
        st.error(tr("quiz.wrong", given=detail, answer=q.answer_text()), icon=":material/cancel:")
        with st.container(border=True):
            st.markdown(f"**{tr('quiz.how')}**")
            if q.kind in ("shape", "collapse", "min_side"):
                st.latex(r"n_\text{out} = \left\lfloor \frac{n + 2p - k}{s} \right\rfloor + 1")
            elif q.kind == "params":
                st.latex(r"\text{params} = k^2\,c_\text{in}\,c_\text{out} + c_\text{out}")
            elif q.kind == "rf":
                st.latex(r"r \leftarrow r + (k - 1)\,j, \qquad j \leftarrow j\,s")
            st.markdown("\n".join(f"- {line}" for line in q.explain(lang())))
            explorer_link(q)


# --- page ----------------------------------------------------------------------------------------------
st.title(tr("quiz.title"))
st.caption(tr("quiz.intro"))
state.start()  # ?seed=abc is a warning and the default seed, never a crash
top = st.columns([1.4, 1, 1], gap="medium", vertical_alignment="bottom")
with top[0]:
    state.number("seed", tr("quiz.seed"), help=tr("quiz.seed.help"))
with top[1]:
    st.button(tr("quiz.new"), on_click=new_quiz, key="quiz.new", icon=":material/casino:")
seed = int(state.get("seed", DEFAULT_SEED))
state.sync()
try:
    qs = questions(seed)
except CnnvizError as err:
    show_error(err)
    st.stop()
load(seed)
results = {i: ok for (s, i), ok in st.session_state.get(RESULTS, {}).items() if s == seed}
with top[2]:
    st.metric(tr("quiz.score"), tr("quiz.score.value", right=sum(results.values()), n=len(qs)),
              help=tr("quiz.score.help"))

i = min(st.session_state.get(POS, 0), len(qs) - 1)
q = qs[i]
st.subheader(tr("quiz.progress", i=i + 1, n=len(qs), kind=tr(f"quiz.kind.{q.kind}")))
st.markdown(q.render(lang()))
key = answer_key(seed, i)
if q.choices and st.session_state.get(key) not in (None, *q.choices):  # a kept text that is no choice
    del st.session_state[key]
# a form: Enter in the answer box submits it, as the Check button does (the box's value reaches
# the script only then, so typing reruns nothing)
with st.form("quiz.form", border=False, enter_to_submit=True):
    if q.choices:
        st.radio(tr("quiz.pick"), q.choices, index=None, key=key, format_func=q.choice_label)
    else:
        st.text_input(tr("quiz.answer"), key=key, help=tr("quiz.answer.help"))
    st.form_submit_button(tr("quiz.check"), on_click=on_check, args=(q, seed, i), key="quiz.check",
                          type="primary", icon=":material/task_alt:", help=tr("quizfix.enter"))
nav = st.columns([1, 1, 4])
nav[0].button(tr("quiz.prev"), on_click=move, args=(-1, seed), key="quiz.prev", disabled=i == 0,
              icon=":material/arrow_back:")
nav[1].button(tr("quiz.next"), on_click=move, args=(1, seed), key="quiz.next", disabled=i == len(qs) - 1,
              icon=":material/arrow_forward:")
show_feedback(q, seed, i)
if progress() is not None:
    st.caption(tr("quizfix.saved"))
