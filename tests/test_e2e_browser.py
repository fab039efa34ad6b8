"""End to end: the real server (``streamlit run app.py``) driven by Debian's Chromium.

Visits every page of ``ui.nav.PAGES``, checks that no exception box appears and that each
page shows its content, drags the explorer's input-side slider with the keyboard and checks
that the page and the URL follow. Screenshots go to ``artifacts/screenshots/``.

Chromium: ``/usr/bin/chromium`` (never ``playwright install``). Without it the test is
skipped on a workstation and fails in CI (``CI`` set), where a missing browser is a
broken set-up, not a reason to pass.
"""

from __future__ import annotations

import os
import pathlib

import pytest
from conftest import WAIT_MS, WAIT_S, calibrated_store, in_ci, need

from cnnviz.i18n import t
from testkit.procs import serve_app
from ui.nav import PAGES

ROOT = pathlib.Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
SHOTS = ROOT / "artifacts" / "screenshots"
ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
# Titles of the pages this area owns; other pages are checked for a heading and no exception.
TITLES = {"pages/home.py": "app.title", "pages/explorer.py": "ex.title", "pages/designer.py": "de.title",
          "pages/compare.py": "cmp.page.title"}

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group("e2e_browser")]


def _chromium() -> str:
    if not os.path.exists(CHROMIUM):
        if in_ci():
            pytest.fail(f"{CHROMIUM} is missing: CI must install Debian's chromium (make browser)")
        pytest.skip(f"{CHROMIUM} is not installed")
    return CHROMIUM


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``streamlit run app.py`` on a free port, as a teacher starts it (the app starts its own pool),
    on a store of its own that already holds this machine's calibration; yields its base URL;
    always stopped."""
    _chromium()
    folder = tmp_path_factory.mktemp("server")
    env = dict(os.environ, CNNVIZ_DB=str(calibrated_store(folder)))
    try:
        with serve_app(folder, env=env, timeout=WAIT_S) as url:
            yield url
    except RuntimeError as err:
        pytest.fail(f"streamlit did not start: {err}")


@pytest.fixture(scope="module")
def browser(server):
    """Chromium, with every Playwright wait (``wait_for``, ``expect``) a generous deadline."""
    need("playwright")
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=WAIT_MS)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=_chromium(), args=ARGS)
        try:
            yield b
        finally:
            b.close()


def _recording_page(browser):
    """A new context and page (1400 × 1100) that record every URL they ask for, websockets
    included: (context, page, urls), for the tests that check nothing leaves the server."""
    ctx = browser.new_context(viewport={"width": 1400, "height": 1100})
    urls: list[str] = []
    ctx.on("request", lambda r: urls.append(r.url))
    page = ctx.new_page()
    page.on("websocket", lambda ws: urls.append(ws.url))
    page.set_default_timeout(WAIT_MS)
    return ctx, page, urls


def _settle(page, timeout: float = WAIT_S) -> None:
    """Wait until the script run is over: Streamlit's status widget shows while it runs."""
    page.wait_for_selector('[data-testid="stMain"]', timeout=timeout * 1000)
    page.wait_for_timeout(300)  # a rerun triggered by the last input starts within this
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=timeout * 1000)


def _student(browser, height: int = 1000):
    """A new browser context (another student: no cookie, no session) and its page; close the context."""
    ctx = browser.new_context(viewport={"width": 1400, "height": height})
    page = ctx.new_page()
    page.set_default_timeout(WAIT_MS)
    return ctx, page


def _fill_number(page, label: str, value: str) -> None:
    """Type ``value`` into the number input ``label`` and wait for the rerun it causes."""
    box = page.get_by_role("spinbutton", name=label, exact=True)
    box.fill(value)
    box.press("Enter")
    _settle(page)


def _no_exception(page) -> None:
    boxes = page.locator('[data-testid="stException"]')
    assert boxes.count() == 0, boxes.first.inner_text()


def _url(base: str, path: str, i: int) -> str:
    return base + "/" if i == 0 else f"{base}/{pathlib.Path(path).stem}"


def test_every_page_in_the_browser(server, browser):
    from playwright.sync_api import expect

    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(WAIT_MS)

    # A fresh server whose first visitor opens a shared link to a page other than Home: the
    # page must still come with the app's navigation and language switch.
    page.goto(f"{server}/explorer?arch=googlenet")
    page.get_by_role("heading", name=t("ex.title", "en")).wait_for()
    _settle(page)
    sidebar = page.locator('[data-testid="stSidebar"]')
    expect(sidebar.get_by_text(t("nav.designer", "en"))).to_have_count(1)  # drawn once the first run reaches it
    expect(sidebar.get_by_text(t("common.language", "en"))).to_have_count(1)
    page.locator(".js-plotly-plot").first.wait_for()
    _no_exception(page)

    for i, (path, _title, _icon, _section) in enumerate(PAGES):
        page.goto(_url(server, path, i))
        if path in TITLES:
            page.get_by_role("heading", name=t(TITLES[path], "en")).wait_for()
        else:
            page.locator('[data-testid="stMain"] h1, [data-testid="stMain"] h2').first.wait_for()
        _settle(page)
        if path in ("pages/home.py", "pages/explorer.py", "pages/designer.py", "pages/compare.py"):
            page.locator(".js-plotly-plot").first.wait_for()  # the page's charts are drawn
        _no_exception(page)
        page.screenshot(path=str(SHOTS / f"{pathlib.Path(path).stem}.png"))


def test_explorer_slider_moves_with_the_keyboard(server, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(WAIT_MS)
    page.goto(f"{server}/explorer?arch=resnet18")
    page.get_by_role("heading", name=t("ex.title", "en")).wait_for()
    _settle(page)
    slider = page.locator('[data-testid="stSlider"]').filter(has_text=t("ex.side", "en"))
    thumb = slider.get_by_role("slider")  # the slider's range input, which takes the keyboard
    assert thumb.input_value() == "224"
    for side in (223, 222, 221, 220):  # one step at a time, as a reader would: each press reruns the page
        thumb.focus()
        thumb.press("ArrowLeft")
        page.wait_for_url(f"**side={side}**")
        _settle(page)
    assert thumb.input_value() == "220"
    assert "bn=" not in page.url and "res=" not in page.url  # the switches kept their values
    # the metrics follow: ResNet-18's parameters do not depend on the side, its compute does
    params = page.locator('[data-testid="stMetric"]').filter(has_text=t("ex.m.params", "en"))
    assert "11.18M" in params.inner_text()
    page.locator(".js-plotly-plot").first.wait_for()
    _no_exception(page)

    # a collapsed map: the error panel, not a traceback
    page.goto(f"{server}/explorer?arch=alexnet&side=32")
    page.get_by_role("heading", name=t("ex.title", "en")).wait_for()
    _settle(page)
    alert = page.locator('[data-testid="stAlertContentError"]')
    alert.wait_for()
    assert "65×65" in alert.inner_text()
    _no_exception(page)
    page.screenshot(path=str(SHOTS / "explorer_error.png"))


def test_a_recipe_button_says_what_it_set(server, browser):
    """Pressing a recipe whose values the form already holds must still answer: a toast names
    what was set. (AppTest does not record toasts of pages under st.navigation: hence here.)"""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(WAIT_MS)
    page.goto(f"{server}/training")
    page.get_by_role("heading", name=t("train.title", "en")).wait_for()
    _settle(page)
    page.get_by_role("button", name=t("train.f.recipe_class", "en")).click()
    toast = page.locator('[data-testid="stToast"]')
    toast.wait_for()
    assert t("arch.lenet", "en") in toast.inner_text() and "28 px" in toast.inner_text()
    _no_exception(page)




def test_a_run_from_the_browser_is_trained_by_the_apps_own_pool_and_stays_the_students(server, browser):
    """``streamlit run app.py`` alone starts its worker pool: a run started in the browser is
    trained by a worker process and finishes; the student's cookie survives a reload (the run
    is still in their list), and another browser (another student) sees it read-only."""
    from playwright.sync_api import expect

    ctx, page = _student(browser)
    page.goto(f"{server}/training")
    page.get_by_role("heading", name=t("train.title", "en")).wait_for()
    _settle(page)
    for label, value in ((t("train.f.subset", "en"), "300"), (t("train.f.epochs", "en"), "1")):
        _fill_number(page, label, value)
    page.get_by_role("button", name=t("train.start", "en")).click()
    page.wait_for_url("**run=**")
    page.locator('[data-testid="stAlertContentSuccess"]').first.wait_for()  # completed
    assert any(c["name"] == "cnnviz_student" for c in ctx.cookies())
    url = page.url
    page.reload()
    _settle(page)
    pick = page.get_by_role("combobox", name=t("train.hist.pick", "en"), exact=True)  # "My runs" lists it
    pick.wait_for()
    _no_exception(page)

    other, p2 = _student(browser)
    try:
        p2.goto(url)
        p2.get_by_text(t("sched.not_yours", "en")).wait_for()
        assert p2.get_by_role("button", name=t("train.stop", "en")).count() == 0
        expect(p2.get_by_text(t("train.hist.empty", "en"))).to_have_count(1)  # not in their list
        _no_exception(p2)
    finally:
        other.close()
        ctx.close()
