"""Refresh the README's screenshots: ``.venv/bin/python docs/screenshots.py``.

Starts the app on a free loopback port, opens the explorer (GoogLeNet) and the VGG designer
(VGG-16) in Debian's headless Chromium, in English, and writes
``docs/screenshots/{explorer,designer}.png``. A docs script, not a test: it asserts nothing
about the pages beyond "no exception box" (the browser test does the checking).
"""

from __future__ import annotations

import pathlib
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from cnnviz.i18n import t  # noqa: E402
from testkit.procs import serve_app  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
SHOTS = (("explorer", "arch=googlenet", 1900, "ex.title"), ("designer", "convs=2,2,3,3,3", 1250, "de.title"))


def main() -> int:
    out = ROOT / "docs" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, serve_app(tmp) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            for name, query, height, title in SHOTS:
                page = browser.new_page(viewport={"width": 1400, "height": height})
                page.goto(f"{base}/{name}?{query}")
                page.get_by_role("heading", name=t(title, "en")).wait_for()
                page.locator(".js-plotly-plot").first.wait_for()
                page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')")
                page.wait_for_timeout(1500)  # plotly draws after it mounts
                if page.locator('[data-testid="stException"]').count():
                    print(f"{name}: the page shows an exception; no screenshot taken", file=sys.stderr)
                    return 1
                page.screenshot(path=str(out / f"{name}.png"))
                print(out / f"{name}.png")
                page.close()
        finally:
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
