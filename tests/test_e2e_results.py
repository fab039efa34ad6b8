"""End to end: the Results view and the feature-map lab's link to a finished run, in the real server
(``streamlit run app.py``) driven by Debian's Chromium.

The store is a temporary one holding a finished run (LeNet, one epoch on Fashion-MNIST, trained
here by the worker's ``run_job``); the server reads it (``CNNVIZ_DB``) and starts no pool. Checks:
the training page with ``?run=<id>`` draws the Results view (the confusion heatmap, the mistakes)
without an exception box; an upload in "try your own" gives three predictions; the lab link the
view offers (``/featuremaps?weights=run&run=<id>&img=3``), opened in a fresh browser context (another
student, no session), reopens the same view: the same run, the same image, the maps drawn.

Chromium: ``/usr/bin/chromium`` (never ``playwright install``); skipped without it, failed in CI.
"""

from __future__ import annotations

import io
import os
import pathlib
import re
from urllib.parse import parse_qs, urljoin, urlparse

import numpy as np
import pytest
from conftest import SHARED_DATA
from PIL import Image
from test_e2e_browser import ARGS, _chromium, _no_exception, _settle
from test_page_results import train_runs

from classroom.procs import serve_app
from cnnviz.i18n import t
from cnnviz.runs.scheduler import Scheduler

ROOT = pathlib.Path(__file__).resolve().parents[1]
SHOTS = ROOT / "artifacts" / "screenshots"

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """(the server's base URL, the finished run's id)."""
    _chromium()
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not beside this checkout")
    folder = tmp_path_factory.mktemp("e2e-results")
    db = folder / "runs.sqlite"
    s = Scheduler(db, pool="external")
    try:
        rid = train_runs(s, "e2e-student-" + "0" * 12)[0]
    finally:
        s.close()
    env = dict(os.environ, CNNVIZ_DB=str(db), CNNVIZ_POOL="external")  # the run is done: no pool needed
    try:
        with serve_app(folder, env=env) as url:
            yield url, rid
    except RuntimeError as err:
        pytest.fail(f"streamlit did not start: {err}")


@pytest.fixture(scope="module")
def browser(finished):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=_chromium(), args=ARGS)
        try:
            yield b
        finally:
            b.close()


def _plot(page, title: str):
    """The plotly chart whose title is ``title``."""
    return page.locator(".js-plotly-plot").filter(has=page.locator(".gtitle", has_text=title))


def _png(w: int, h: int) -> bytes:
    a = np.zeros((h, w), dtype=np.uint8)
    a[h // 4: 3 * h // 4, w // 3: 2 * w // 3] = 230
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, "PNG")
    return buf.getvalue()


def test_results_view_try_your_own_and_the_lab_link(finished, browser):
    from playwright.sync_api import expect

    server, rid = finished
    SHOTS.mkdir(parents=True, exist_ok=True)
    ctx = browser.new_context(viewport={"width": 1400, "height": 1100})
    page = ctx.new_page()
    page.set_default_timeout(30_000)
    page.goto(f"{server}/training?run={rid}")
    page.get_by_role("heading", name=t("train.title", "en")).wait_for()
    page.get_by_text(t("resv.title", "en")).wait_for()
    _settle(page)
    cm = _plot(page, t("resv.cm.title", "en"))
    cm.wait_for()
    assert cm.locator(".hm image, .heatmaplayer image").count() >= 1  # the heatmap is drawn
    assert cm.locator(".textpoint, text").filter(has_text="T-shirt/top").count() >= 1  # class names on the axes
    _no_exception(page)

    page.get_by_role("tab", name=t("resv.tab.mistakes", "en")).click()  # reruns the page: only the open tab runs
    mistakes = page.locator(".js-plotly-plot").filter(has=page.locator(".gtitle", has_text="Misclassified"))
    mistakes.wait_for()
    assert mistakes.locator(".annotation-text").filter(has_text="→").count() >= 1
    assert mistakes.locator("image").count() >= 1  # the tiled images

    page.get_by_role("tab", name=t("resv.tab.try", "en")).click()
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').last.set_input_files(
        files=[{"name": "wide.png", "mimeType": "image/png", "buffer": _png(60, 30)}])
    page.get_by_text("letterboxed", exact=False).first.wait_for()
    top = _plot(page, t("resv.top.title", "en", k=3))
    top.wait_for()
    _settle(page)
    assert top.locator(".bars .point").count() == 3
    _no_exception(page)
    page.screenshot(path=str(SHOTS / "results_try.png"), full_page=True)

    # the feature maps of the trained network, then the lab link for image 3
    page.get_by_role("tab", name=t("resv.tab.maps", "en")).click()
    box = page.get_by_role("spinbutton", name=t("resv.maps.index", "en", last=299), exact=True)
    box.fill("3")
    box.press("Enter")
    _settle(page)
    link = page.get_by_role("link", name=t("resv.maps.open_lab", "en")).and_(page.locator('a[href*="img=3"]'))
    link.wait_for()  # the rerun of the new number has reached the browser
    href = urljoin(server + "/", link.get_attribute("href"))
    q = parse_qs(urlparse(href).query)
    assert q == {"weights": ["run"], "run": [rid], "img": ["3"]}
    _no_exception(page)

    # a fresh browser (another student, no session) opens the shared link: the same view
    other = browser.new_context(viewport={"width": 1400, "height": 1100})
    try:
        p2 = other.new_page()
        p2.set_default_timeout(30_000)
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
