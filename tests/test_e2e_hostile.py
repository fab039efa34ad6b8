"""End to end: text from outside is shown as text in the real browser (issue 19, items 2 and 6).

One server on a store holding two finished runs of a student whose display name is HTML; Debian's
Chromium opens the training page with a run id made of Markdown links, an image and HTML, the
explorer with such values in its URL, and the class board with both runs overlaid (the name in
the legend). Each payload carries a marker of its own: no ``<a>``, ``<img>`` or SVG link/image
whose address carries a marker may exist in the page, the payload must show as literal text, and
no request (the page, its scripts, images, websockets) may go to any host but 127.0.0.1, which
an image from ``![x](http://…)`` or ``<img src>`` would.

Chromium: ``/usr/bin/chromium`` (never ``playwright install``); skipped without it, failed in CI.
"""

from __future__ import annotations

import os
from urllib.parse import quote, urlparse

import pytest
from conftest import WAIT_S
from test_e2e_browser import _chromium, _no_exception, _recording_page, _settle, browser  # noqa: F401
from test_hostile_text import _train_run

from cnnviz.i18n import t
from cnnviz.runs.store import RunStore
from testkit.procs import serve_app

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group("e2e_hostile")]

NAME = "<a href='http://qzxname.example'>N</a><b>B</b><br><img src=http://qzxname.example/n.png>"
RUN_ID = "[L](http://qzxrun.example/l)![I](http://qzxrun.example/i.png)<img src=http://qzxrun.example/j.png>"
ARCH = "![I](http://qzxu.ex/i)"  # within the 24 characters a warning quotes
SIDE = "<a href=http://qzxu.ex>x</a>"  # longer: quoted cut, with an ellipsis
MARKED = """() => [...document.querySelectorAll('a, img, image, link, iframe, script')].map(
    e => ['href', 'src', 'xlink:href'].map(a => e.getAttribute(a) || '').join(' ')).filter(s => s.includes('qzx'))"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The app (no pool) on a store with two finished runs of the student whose name is ``NAME``."""
    _chromium()
    folder = tmp_path_factory.mktemp("e2e-hostile")
    store = RunStore(folder / "runs.sqlite")
    try:
        owner = "htmlname" + "0" * 16
        store.touch(owner, name=NAME)
        runs = [_train_run(store, owner, 1), _train_run(store, owner, 2)]
    finally:
        store.close()
    env = dict(os.environ, CNNVIZ_DB=str(folder / "runs.sqlite"), CNNVIZ_POOL="external")
    try:
        with serve_app(folder, env=env, timeout=WAIT_S) as url:
            yield url, runs
    except RuntimeError as err:
        pytest.fail(f"streamlit did not start: {err}")


def test_markup_from_a_link_or_a_name_stays_text(server, browser):  # noqa: F811 (the fixture)
    from playwright.sync_api import expect

    base, runs = server
    ctx, page, urls = _recording_page(browser)
    try:
        # the training page with a crafted run id: one error, the id as code
        page.goto(f"{base}/training?run={quote(RUN_ID)}")
        page.get_by_role("heading", name=t("train.title", "en")).wait_for()
        _settle(page)
        alert = page.locator('[data-testid="stAlertContentError"]')
        expect(alert).to_have_count(1)
        assert "is not a run id" in alert.inner_text()
        assert alert.locator("code").inner_text().startswith(RUN_ID[:24])  # shown literally, as code
        assert page.evaluate(MARKED) == []
        _no_exception(page)

        # the explorer with markup in its values: the warning quotes them as code
        page.goto(f"{base}/explorer?arch={quote(ARCH)}&side={quote(SIDE)}")
        page.get_by_role("heading", name=t("ex.title", "en")).wait_for()
        _settle(page)
        warning = page.locator('[data-testid="stAlertContentWarning"]').first
        warning.wait_for()
        codes = warning.locator("code").all_inner_texts()
        assert ARCH in codes and SIDE[:24] + "…" in codes, codes
        assert page.evaluate(MARKED) == []
        _no_exception(page)

        # the board, both runs overlaid: the name in the legend is text, not a link, bold or a break
        page.goto(f"{base}/board")
        page.get_by_role("heading", name=t("board.title", "en")).wait_for()
        _settle(page)
        picker = page.locator('[data-testid="stMultiSelect"]').filter(has_text=t("board.overlay", "en"))
        for rid in runs:
            picker.get_by_role("combobox").click()
            page.get_by_role("option").filter(has_text=f"({rid[:6]})").click()  # "title · who (id)"
            page.keyboard.press("Escape")
            _settle(page)
        legend = page.locator(".js-plotly-plot .legend")
        legend.first.wait_for()
        text = legend.first.text_content() or ""
        assert "<a href='http://qzxname.example'>N</a><b>B</b><br>" in text, text  # literally, as typed
        assert page.evaluate(MARKED) == []
        _no_exception(page)
    finally:
        ctx.close()
    away = [u for u in urls if urlparse(u).scheme not in ("data", "blob") and urlparse(u).hostname != "127.0.0.1"]
    assert not away, away
