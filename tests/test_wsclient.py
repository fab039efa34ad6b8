"""``testkit.wsclient.Student`` against the real app, and its edge cases against tiny fake servers.

One ``streamlit run app.py`` on a free loopback port for the module (stopped in a finally);
three concurrent students on the explorer change the architecture and a toggle, and each
page must show its own choice, with no exception and no leak between sessions. An unknown
page name must come back as ``page_not_found``. Cookies on the upgrade request, a
``Set-Cookie`` in its response and a server that hangs up are checked against
``websockets`` servers made for the test.
"""

from __future__ import annotations

import asyncio
import os
import pathlib

import pytest
from conftest import WAIT_S, calibrated_store
from websockets.asyncio.server import serve

from cnnviz.supervisor import free_port
from testkit.procs import serve_app
from testkit.wsclient import Student, StudentError

ROOT = pathlib.Path(__file__).resolve().parents[1]
ARCH, BN, RES = "explorer.arch", "explorer.bn", "explorer.res"


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    """``streamlit run app.py`` on a free port, on a store of its own that holds this machine's
    calibration (its own pool queues none: ``conftest.calibrated_store``); its URL."""
    folder = tmp_path_factory.mktemp("wsclient")
    try:
        with serve_app(folder, env=dict(os.environ, CNNVIZ_DB=str(calibrated_store(folder))), timeout=WAIT_S) as url:
            yield url
    except RuntimeError as err:
        pytest.fail(str(err))


def _run(coro):
    return asyncio.run(asyncio.wait_for(coro, WAIT_S))


def _label(s: Student, arch_label_prefix: str) -> str:
    """The architecture selectbox's option that starts with ``arch_label_prefix``."""
    return next(o for o in s.widget(ARCH).options if o.startswith(arch_label_prefix))


@pytest.mark.slow
@pytest.mark.xdist_group("wsclient")
def test_three_students_each_see_their_own_page(app_url):
    async def scenario():
        students = [Student(app_url, page="explorer", query="arch=lenet", timeout=60) for _ in range(3)]
        try:
            await asyncio.gather(*(s.connect() for s in students))
            a, b, c = students
            assert len({s.session_id for s in students}) == 3 and None not in {s.session_id for s in students}
            for s in students:
                assert s.current_page == "explorer" and s.page_not_found is None
                assert {ARCH, BN, "explorer.side"} <= set(s.widget_keys())
                assert s.widget(ARCH).kind == "selectbox" and s.widget(BN).kind == "toggle"
                assert s.widget(ARCH).value.startswith("LeNet")
                assert s.last_run_deltas > 10 and s.exceptions == []

            # at the same time: two new architectures and one BatchNorm flip
            bn_before = c.widget(BN).value
            times = await asyncio.gather(a.set_widget(ARCH, _label(a, "ResNet-18")),
                                         b.set_widget(ARCH, _label(b, "GoogLeNet")),
                                         c.set_widget(BN, not bn_before))
            assert all(0 < t < 60 for t in times)
            assert "The idea of ResNet-18" in a.page_text() and "arch=resnet18" in a.query
            assert "The idea of GoogLeNet" in b.page_text() and "arch=googlenet" in b.query
            assert c.widget(ARCH).value.startswith("LeNet") and c.widget(BN).value is (not bn_before)
            # ResNet opens in the book's configuration (224 px) and has a residual switch
            assert a.widget("explorer.side").value == 224 and a.widget(RES).disabled is False

            # a toggle in one session; the server's own state, re-read by plain reruns, must
            # still be each session's own
            await a.set_widget(RES, False)
            assert a.widget(RES).value is False and "res=0" in a.query
            await asyncio.gather(*(s.rerun() for s in students))
            assert a.widget(ARCH).value == _label(a, "ResNet-18") and a.widget(RES).value is False
            assert b.widget(ARCH).value == _label(b, "GoogLeNet") and RES not in b.widget_keys()  # no ResNet
            assert c.widget(ARCH).value.startswith("LeNet") and c.widget(BN).value is (not bn_before)
            assert "The idea of LeNet" in c.page_text()
            for s in students:
                assert s.exceptions == [], s.exceptions
                assert s.last_run_status == 0

            # a run that repeats an earlier configuration gets its large elements from the
            # ForwardMsg cache (ref_hash): the client listed their hashes, the server skipped them
            hits = a.cache_hits
            await a.set_widget(RES, True)
            await a.set_widget(RES, False)
            assert a.cache_hits > hits and a.last_run_cache_hits >= 1
            assert "The idea of ResNet-18" in a.page_text() and a.exceptions == []
        finally:
            await asyncio.gather(*(s.close() for s in students))

    _run(scenario())


@pytest.mark.slow
@pytest.mark.xdist_group("wsclient")
def test_unknown_page_gets_page_not_found(app_url):
    async def scenario():
        s = Student(app_url, page="no-such-page", timeout=60)
        try:
            await s.connect()
            assert s.page_not_found == "no-such-page"
            assert s.current_page == ""  # the default page (home) was run instead
            assert s.exceptions == [] and s.last_run_status == 0
            with pytest.raises(StudentError, match="no widget"):
                s.widget(ARCH)
        finally:
            await s.close()

    _run(scenario())


@pytest.mark.slow
@pytest.mark.xdist_group("wsclient")
def test_bad_values_are_refused_before_sending(app_url):
    async def scenario():
        s = Student(app_url, page="explorer", query="arch=lenet", timeout=60)
        try:
            await s.connect()
            sent = s.bytes_sent
            with pytest.raises(StudentError, match="not one of"):
                await s.set_widget(ARCH, "LeNet-9000")
            with pytest.raises(StudentError, match="outside"):
                await s.set_widget("explorer.side", 100_000)
            with pytest.raises(StudentError, match="disabled"):
                await s.set_widget("ex.res.na", True)  # LeNet has no residual switch
            assert s.bytes_sent == sent
        finally:
            await s.close()

    _run(scenario())


# --- forged widget values: what a websocket client can send that no browser would ----------------
# Streamlit passes a choice widget's value to the script as it came when it is none of the options
# (and formats it before the page can look at it); numbers and sliders it bounds itself. Every
# page must survive any string in any of its choice widgets, and out-of-range numbers.
FORGE_PAGES = ("explorer", "designer", "compare", "training", "board", "featuremaps", "gradflow", "batchnorm",
               "costlab", "convarith", "quiz", "teacher", "")


def _forged(info, text: str):
    """The WidgetState a hostile client would send ``info``'s widget: ``text`` where a choice
    goes, numbers out of every range; None for kinds that take no value (buttons)."""
    from streamlit.proto.WidgetStates_pb2 import WidgetState

    s, kind = WidgetState(), info.kind
    if kind in ("selectbox", "radio", "text_input", "text_area"):
        s.string_value = text
    elif kind in ("select_slider", "multiselect", "button_group"):
        s.string_array_value.data.extend([text, text[::-1]])
    elif kind == "slider":
        s.double_array_value.data.extend([1e308, -1e308])
    elif kind == "number_input":
        if info.data_type == "INT":
            s.int_value = 2**62
        else:
            s.double_value = float("nan")
    elif kind in ("checkbox", "toggle"):
        s.string_value = text  # the wrong type altogether
    else:
        return None
    return s


@pytest.mark.slow
@pytest.mark.xdist_group("wsclient")
def test_forged_widget_values_never_break_a_page(app_url):
    """Each page, each of its widgets in turn, on one session per page: a generated string
    (markup, links, control characters, long) in every choice, numbers out of range. The page
    must answer every rerun without an exception element and stay connected."""
    hyp = pytest.importorskip("hypothesis")
    from hypothesis import strategies as hst

    markup = hst.sampled_from(["<b>x</b>](http://e.example/x.png)", "![x](http://e.example/i.png)", "`` ` ``",
                               "<img src=x onerror=alert(1)>", ":red[x] $x$", "\u202e\u0000\n", "x" * 400])
    payloads = hst.one_of(markup, hst.text(min_size=0, max_size=60))

    @hyp.settings(max_examples=2, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(hyp.HealthCheck))
    @hyp.given(text=payloads)
    def one(text):
        async def scenario():
            for page in FORGE_PAGES:
                s = Student(app_url, page=page, timeout=60)
                try:
                    await s.connect()
                    for key in [w.key or w.id for w in s.widgets() if not w.disabled]:
                        if not s.connected or key not in [w.key or w.id for w in s.widgets()]:
                            continue  # the last value changed the page: that widget is gone
                        state = _forged(s.widget(key), text)
                        if state is None:
                            continue
                        await s.set_widget(key, state)
                        assert s.exceptions == [], (page, key, text, s.exceptions)
                finally:
                    await s.close()

        _run(scenario())

    one()


_TABS_APP = """
import streamlit as st
labels = ["One", "Two", "Three"]
tabs = st.tabs(labels, key="box", on_change="rerun")
st.markdown("open: " + ", ".join(label for label, tab in zip(labels, tabs) if tab.open))
st.tabs(["Plain", "Tabs"])  # no key: no state, not listed
st.checkbox("a checkbox", key="tick")
"""


def test_a_stateful_tab_is_chosen_and_kept_across_reruns(tmp_path):
    """``tabs()`` lists a keyed ``st.tabs`` (a block, not a widget) with its labels; ``select_tab``
    opens a tab as a click does, and the choice survives later reruns (another widget's too)."""
    script = tmp_path / "tabs_app.py"
    script.write_text(_TABS_APP)

    async def scenario(url):
        s = Student(url, timeout=60)
        try:
            await s.connect()
            (box,) = s.tabs()
            assert (box.key, box.labels, box.index) == ("box", ["One", "Two", "Three"], 0)
            assert s.tab_container(box.id) == box and "open: One" in s.page_text()
            await s.select_tab("box", "Two")
            assert "open: Two" in s.page_text()
            await s.set_widget("tick", True)
            await s.rerun()
            assert "open: Two" in s.page_text() and s.widget("tick").value is True
            with pytest.raises(StudentError, match="no tab 'Four'"):
                await s.select_tab("box", "Four")
            with pytest.raises(StudentError, match="no tab container 'nope'"):
                s.tab_container("nope")
            assert s.exceptions == []
        finally:
            await s.close()

    try:
        with serve_app(tmp_path, script=script) as url:
            _run(scenario(url))
    except RuntimeError as err:
        pytest.fail(str(err))


# --- fake servers ------------------------------------------------------------------------------
def test_cookies_go_out_on_the_upgrade_and_set_cookie_comes_back():
    seen = {}

    def add_cookie(connection, request, response):
        response.headers["Set-Cookie"] = "SRV=r2; path=/"
        return response

    async def handler(ws):
        seen["cookie"] = ws.request.headers.get("Cookie")
        seen["protocol"] = ws.request.headers.get("Sec-WebSocket-Protocol")
        seen["origin"] = ws.request.headers.get("Origin")
        await ws.recv()
        await ws.close(1011, "bye")

    async def scenario():
        async with serve(handler, "127.0.0.1", 0, subprotocols=["streamlit"], process_response=add_cookie) as server:
            port = server.sockets[0].getsockname()[1]
            s = Student(f"http://127.0.0.1:{port}", page="explorer", cookies={"SRV": "r1", "lang": "en"}, timeout=5)
            with pytest.raises(StudentError, match="closed by the server.*1011.*bye"):
                await s.connect()
            await s.close()
            assert seen["cookie"] == "SRV=r1; lang=en"
            assert seen["protocol"] == "streamlit" and seen["origin"] == f"http://127.0.0.1:{port}"
            assert s.set_cookies == ["SRV=r2; path=/"] and s.cookies["SRV"] == "r2"
            assert s.response_headers["Set-Cookie"] == "SRV=r2; path=/"
            assert s.closed_by_server and s.close_code == 1011

    _run(scenario())


def test_a_run_that_never_finishes_times_out():
    async def handler(ws):
        await ws.recv()
        await ws.wait_closed()  # never answers; returns when the client hangs up

    async def scenario():
        async with serve(handler, "127.0.0.1", 0, subprotocols=["streamlit"]) as server:
            port = server.sockets[0].getsockname()[1]
            s = Student(f"http://127.0.0.1:{port}", timeout=0.5)
            with pytest.raises(StudentError, match="timeout"):
                await s.connect()
            await s.close()

    _run(scenario())


def test_nothing_listening_is_a_student_error():
    async def scenario():
        s = Student(f"http://127.0.0.1:{free_port()}", timeout=5)
        with pytest.raises(StudentError, match="cannot open"):
            await s.connect()

    _run(scenario())


# --- uploads, Components v2 values, forms --------------------------------------------------------
def test_multipart_file_is_what_starlette_parses_back():
    """The PUT body ``upload`` sends parses, with Starlette's own form parser (the server's), to one
    file of that name, type and bytes; a quote in the name is escaped, not ending the header."""
    from starlette.datastructures import UploadFile
    from starlette.requests import Request

    from testkit.wsclient import multipart_file

    data = bytes(range(256)) * 3 + b"\r\n--not-a-boundary\r\n"

    async def parse(name: str):
        body, ctype = multipart_file(name, data, "image/png")
        sent = {"done": False}

        async def receive():
            if sent["done"]:
                return {"type": "http.request", "body": b"", "more_body": False}
            sent["done"] = True
            return {"type": "http.request", "body": body, "more_body": False}

        scope = {"type": "http", "method": "PUT", "headers": [(b"content-type", ctype.encode())]}
        form = await Request(scope, receive).form()
        files = [v for v in form.values() if isinstance(v, UploadFile)]
        assert len(files) == 1
        return files[0].filename, files[0].content_type, await files[0].read()

    assert _run(parse("wide.png")) == ("wide.png", "image/png", data)
    assert _run(parse('a"b.png'))[0] == "a%22b.png"


_UPLOAD_APP = """
import hashlib
import streamlit as st
comp = st.components.v2.component("wsclient_test.box", html="<div></div>")
up = st.file_uploader("a picture", key="up")
if up is not None:
    st.markdown(f"got {up.name} {len(up.getvalue())} {hashlib.sha256(up.getvalue()).hexdigest()[:16]}")
res = comp(key="box", default={"drawing": {"data": None}}, on_drawing_change=lambda: None)
st.markdown(f"drawing: {(st.session_state.get('box') or {}).get('drawing')}")
with st.form("f"):
    st.text_input("name", key="name")
    go = st.form_submit_button("Go")
st.markdown(f"submitted: {go} {st.session_state.get('name')!r}")
"""


@pytest.mark.slow
def test_upload_component_value_and_form_reach_the_script(tmp_path):
    """``upload`` puts the bytes into ``st.file_uploader`` through the real URL request and PUT (the
    script reads the same name, size and hash); an upload over ``server.maxUploadSize`` is refused
    with its HTTP status; ``set_component`` gives a Components v2 element its JSON state;
    ``set_widget(rerun=False)`` sends nothing until the form's button is pressed."""
    import hashlib

    script = tmp_path / "upload_app.py"
    script.write_text(_UPLOAD_APP)
    data = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40

    async def scenario(url):
        s = Student(url, timeout=60, preflight=True)
        try:
            await s.connect()
            assert s.widget("up").kind == "file_uploader" and s.widget("box").kind == "bidi_component"
            await s.upload("up", "pic.png", data, "image/png")
            assert s.last_upload_status == 204
            assert f"got pic.png {len(data)} {hashlib.sha256(data).hexdigest()[:16]}" in s.page_text()
            with pytest.raises(StudentError, match="HTTP 413"):
                await s.upload("up", "big.png", b"\0" * (1024 * 1024 + 1), "image/png")
            assert s.last_upload_status == 413
            await s.set_component("box", {"drawing": {"data": "data:image/png;base64,AAAA"}})
            assert "drawing: {'data': 'data:image/png;base64,AAAA'}" in s.page_text()
            runs = s.runs
            assert await s.set_widget("name", "<b>x</b>", rerun=False) == 0.0 and s.runs == runs
            assert "submitted: False ''" in s.page_text()
            go = next(w for w in s.widgets() if w.kind == "button" and w.label == "Go")
            await s.click(go.id)
            assert "submitted: True '<b>x</b>'" in s.page_text()
            assert s.exceptions == []
        finally:
            await s.close()

    try:
        with serve_app(tmp_path, script=script, args=["--server.maxUploadSize", "1"]) as url:
            _run(scenario(url))
    except RuntimeError as err:
        pytest.fail(str(err))
