"""End to end: the Results view and the feature-map lab's link to a finished run, in the real server
(``streamlit run app.py``) driven by Debian's Chromium.

The store is a temporary one holding a finished run (LeNet, one epoch on Fashion-MNIST, trained
here by the worker's ``run_job``); the server reads it (``CNNVIZ_DB``) and starts no pool. Checks:
the training page with ``?run=<id>`` draws the Results view (the confusion heatmap, the mistakes)
without an exception box; an upload in "try your own" gives three predictions; the lab link the
view offers (``/featuremaps?weights=run&run=<id>&img=3``), opened in a fresh browser context (another
student, no session), reopens the same view: the same run, the same image, the maps drawn. The
drawing canvas (streamlit-drawable-canvas): three strokes with the mouse give three predictions;
another tab and back keeps "draw" and gives a blank canvas without guesses; one stroke gives them
again and the toolbar's bin clears it ("draw something first" again); every request the page made,
the component's script and the tab's icon included, went to the server on 127.0.0.1 (the classroom
has no internet).

Chromium: ``/usr/bin/chromium`` (never ``playwright install``); skipped without it, failed in CI.
"""

from __future__ import annotations

import os
import pathlib
import re
from urllib.parse import parse_qs, urljoin, urlparse

import pytest
from conftest import WAIT_S, need_data
from test_e2e_browser import _chromium, _fill_number, _no_exception, _recording_page, _settle, _student, browser  # noqa: F401
from test_page_results import png, train_runs

from cnnviz.i18n import t
from cnnviz.runs.scheduler import Scheduler
from testkit.procs import serve_app

ROOT = pathlib.Path(__file__).resolve().parents[1]
SHOTS = ROOT / "artifacts" / "screenshots"

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group("e2e_results")]


@pytest.fixture(scope="module")
def stored_run(tmp_path_factory) -> tuple[pathlib.Path, str]:
    """A temporary store holding one finished run: (its folder, the run id)."""
    _chromium()
    need_data()
    folder = tmp_path_factory.mktemp("e2e-results")
    s = Scheduler(folder / "runs.sqlite", pool="external")
    try:
        return folder, train_runs(s, "e2e-student-" + "0" * 12)[0]
    finally:
        s.close()


@pytest.fixture(scope="module")
def server(stored_run):
    """The app on that store (the browser fixture's server); the run is done: no pool needed."""
    folder, _ = stored_run
    env = dict(os.environ, CNNVIZ_DB=str(folder / "runs.sqlite"), CNNVIZ_POOL="external")
    try:
        with serve_app(folder, env=env, timeout=WAIT_S) as url:
            yield url
    except RuntimeError as err:
        pytest.fail(f"streamlit did not start: {err}")


def _plot(page, title: str):
    """The plotly chart whose title is ``title``."""
    return page.locator(".js-plotly-plot").filter(has=page.locator(".gtitle", has_text=title))


def test_results_view_try_your_own_and_the_lab_link(server, stored_run, browser):  # noqa: F811 (the fixture)
    from playwright.sync_api import expect

    rid = stored_run[1]
    SHOTS.mkdir(parents=True, exist_ok=True)
    ctx, page = _student(browser, height=1100)
    page.goto(f"{server}/training?run={rid}")
    page.get_by_role("heading", name=t("train.title", "en")).wait_for()
    page.get_by_text(t("resv.title", "en")).wait_for()
    _settle(page)
    cm = _plot(page, t("resv.cm.title", "en"))
    cm.wait_for()
    cm.screenshot(path=str(SHOTS / "results_confusion.png"))
    assert cm.locator(".hm image, .heatmaplayer image").count() >= 1  # the heatmap is drawn
    assert cm.locator(".textpoint, text").filter(has_text="T-shirt/top").count() >= 1  # class names on the axes
    _no_exception(page)

    page.get_by_role("tab", name=t("resv.tab.mistakes", "en")).click()  # reruns the page: only the open tab runs
    mistakes = page.locator(".js-plotly-plot").filter(has=page.locator(".gtitle", has_text="Misclassified"))
    mistakes.wait_for()
    assert mistakes.locator(".annotation-text").filter(has_text="→").count() >= 1
    assert mistakes.locator("image").count() >= 1  # the tiled images
    mistakes.screenshot(path=str(SHOTS / "results_mistakes.png"))

    page.get_by_role("tab", name=t("resv.tab.try", "en")).click()
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').last.set_input_files(
        files=[{"name": "wide.png", "mimeType": "image/png", "buffer": png(60, 30)}])
    page.get_by_text("letterboxed", exact=False).first.wait_for()
    top = _plot(page, t("resv.top.title", "en", k=3))
    top.wait_for()
    _settle(page)
    expect(top.locator(".bars .point")).to_have_count(3)
    _no_exception(page)
    page.screenshot(path=str(SHOTS / "results_try.png"), full_page=True)

    # the feature maps of the trained network, then the lab link for image 3
    page.get_by_role("tab", name=t("resv.tab.maps", "en")).click()
    _fill_number(page, t("resv.maps.index", "en", last=299), "3")
    link = page.get_by_role("link", name=t("resv.maps.open_lab", "en")).and_(page.locator('a[href*="img=3"]'))
    link.wait_for()  # the rerun of the new number has reached the browser
    href = urljoin(server + "/", link.get_attribute("href"))
    q = parse_qs(urlparse(href).query)
    assert q == {"weights": ["run"], "run": [rid], "img": ["3"]}
    _no_exception(page)

    # a fresh browser (another student, no session) opens the shared link: the same view
    other, p2 = _student(browser, height=1100)
    try:
        p2.goto(href)
        p2.get_by_role("heading", name=t("lab.fm.title", "en")).wait_for()
        _settle(p2)
        p2.get_by_text("come from the run").wait_for()
        # the number input mounts before the session's value reaches it: wait for the value, not a moment
        expect(p2.get_by_role("spinbutton", name=t("lab.fm.index", "en"), exact=True)).to_have_value("3")
        expect(p2.get_by_role("combobox", name=t("resv.fm.run", "en"))).to_have_value(re.compile(rf"\({rid[:6]}\)"))
        p2.wait_for_function("() => document.querySelectorAll('.js-plotly-plot').length >= 3")  # input + 2 convs
        assert p2.locator('[data-testid="stAlertContentWarning"]').count() == 0
        q2 = parse_qs(urlparse(p2.url).query)
        assert q2["weights"] == ["run"] and q2["run"] == [rid] and q2["img"] == ["3"]
        _no_exception(p2)
        p2.screenshot(path=str(SHOTS / "featuremaps_run.png"), full_page=True)
    finally:
        other.close()
        ctx.close()


def test_draw_on_the_canvas_gives_three_guesses_and_nothing_leaves_the_server(server, stored_run, browser):  # noqa: F811
    from playwright.sync_api import expect

    rid = stored_run[1]
    SHOTS.mkdir(parents=True, exist_ok=True)
    ctx, page, urls = _recording_page(browser)
    try:
        page.goto(f"{server}/training?run={rid}")
        page.get_by_text(t("resv.title", "en")).wait_for()
        _settle(page)
        page.get_by_role("tab", name=t("resv.tab.try", "en")).click()
        _settle(page)
        page.get_by_role("radiogroup", name=t("resv.try.source", "en")).get_by_text(
            t("resv.try.source.draw", "en"), exact=True).click()
        page.get_by_text(t("resv.try.draw_first", "en")).wait_for()
        canvas = page.locator(".canvas-root canvas.upper-canvas")  # fabric's top layer takes the mouse
        canvas.wait_for()
        box = canvas.bounding_box()
        assert round(box["width"]) == 280 and round(box["height"]) == 280
        # a "7" and its bar: three strokes (each stroke's end reruns the page)
        for start, end in (((70, 60), (210, 60)), ((210, 60), (120, 230)), ((110, 150), (200, 150))):
            _stroke(page, canvas, start, end)
        top = _plot(page, t("resv.top.title", "en", k=3))
        top.wait_for()
        _settle(page)
        expect(top.locator(".bars .point")).to_have_count(3)
        assert page.get_by_text(t("resv.try.draw_first", "en")).count() == 0
        assert page.get_by_text(t("res.fit.inverted", "en")).count() == 0  # white on black: as trained
        _no_exception(page)
        page.screenshot(path=str(SHOTS / "results_draw.png"))
        # another tab and back: the radio keeps "draw", the canvas comes back blank and so do the guesses
        page.get_by_role("tab", name=t("resv.tab.maps", "en")).click()
        _settle(page)
        page.get_by_role("tab", name=t("resv.tab.try", "en")).click()
        page.get_by_text(t("resv.try.draw_first", "en")).wait_for()
        _settle(page)
        expect(top).to_have_count(0)
        _stroke(page, canvas, (140, 40), (140, 240))  # a "1"
        top.wait_for()
        _settle(page)
        expect(top.locator(".bars .point")).to_have_count(3)
        # the component's own toolbar: the bin clears the canvas, and the guesses go with the drawing
        page.get_by_role("button", name="Reset canvas & history").click()
        page.get_by_text(t("resv.try.draw_first", "en")).wait_for()
        _settle(page)
        expect(top).to_have_count(0)
        _no_exception(page)
    finally:
        ctx.close()
    assert any("bidi-components/streamlit-drawable-canvas" in u for u in urls)  # its frontend, from our server
    away = [u for u in urls if urlparse(u).scheme not in ("data", "blob") and urlparse(u).hostname != "127.0.0.1"]
    assert not away, away


def _stroke(page, canvas, start: tuple[int, int], end: tuple[int, int]) -> None:
    """One stroke on ``canvas`` from ``start`` to ``end`` (canvas pixels): down, ten moves, up; then
    the rerun it causes."""
    canvas.scroll_into_view_if_needed()  # the mouse draws only inside the viewport
    box = canvas.bounding_box()
    (x0, y0), (x1, y1) = start, end
    page.mouse.move(box["x"] + x0, box["y"] + y0)
    page.mouse.down()
    for k in range(1, 11):
        page.mouse.move(box["x"] + x0 + (x1 - x0) * k / 10, box["y"] + y0 + (y1 - y0) * k / 10)
    page.mouse.up()
    _settle(page)

