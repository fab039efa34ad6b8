"""How fast do the explorer and the VGG designer answer a widget change?

Target: a rerun after a widget change takes at most 300 ms for every architecture at input
sides up to 224, on the classroom server (2 CPU cores here). Each rerun goes through
Streamlit's AppTest, i.e. the real script with the real widgets, minus the browser.

For every architecture the explorer is measured three ways, each the median of a few runs:

* cold (the baseline): every cache cleared first (Streamlit's ``cache_resource``, the
  library's trace and smallest-side caches), so the rerun traces the network from scratch;
* warm: the BatchNorm switch flipped back and forth once both configurations are cached:
  what a class sees while it plays with the switches;
* new side: the input side moved to values never seen before (a fresh trace of a network
  whose smallest valid side is already known): what a student sees dragging the slider;
* new config (one run, for information): the input switched to 3 channels, a configuration
  no one has traced yet, so the library also searches its smallest valid input side. The
  first student to flip a switch pays this once; the caches are shared by every session,
  so the rest of the class gets the warm figure.

The verdict is on warm and new-side reruns; the ratio cold/warm is what caching buys. The
designer is measured the same way on its preset buttons.

Run: ``.venv/bin/python bench/bench_ui.py`` (about a minute and a half).
"""

from __future__ import annotations

import logging
import os
import pathlib
import platform
import statistics
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402
import streamlit.logger  # noqa: E402
import torch  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from cnnviz import list_models
from cnnviz.inspect import records  # noqa: E402
from cnnviz.models import registry  # noqa: E402
from ui import schemas

from machine import cpu_model, usable_cores  # noqa: E402

BUDGET_MS = 300
WARM_RUNS = 5
COLD_RUNS = 3
SIDES = (200, 192, 176)  # "new side" targets, all ≤ 224 and unseen before


streamlit.logger.set_log_level("error")  # AppTest is chatty about running in bare mode
# ...and Streamlit warns "missing ScriptRunContext" thousands of times when cached functions run
# outside a script; a filter survives the level resets that AppTest runs do.
logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").addFilter(
    lambda record: "missing ScriptRunContext" not in record.getMessage())


def machine_info() -> str:
    cpu, avail = cpu_model(), usable_cores()
    return (f"machine: {platform.node()} · {platform.system()} {platform.release()} · {cpu}\n"
            f"cpus: {os.cpu_count()} (usable {avail}) · torch threads {torch.get_num_threads()} · "
            f"python {platform.python_version()} · streamlit {st.__version__} · torch {torch.__version__}")


def clear_caches() -> None:
    """Forget every trace: Streamlit's shared cache and the library's own."""
    st.cache_resource.clear()
    records._records.cache_clear()
    registry._min_side_cached.cache_clear()


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1000


def check(at: AppTest) -> None:
    if at.exception:
        raise SystemExit(f"the page raised: {at.exception[0].value}")


def page(name: str, **query: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    for k, v in query.items():
        at.query_params[k] = v
    at.run()
    at.switch_page(f"pages/{name}.py").run()
    check(at)
    return at


def bench_explorer(arch: str) -> dict[str, float]:
    at = page("explorer", arch=arch)
    toggle = at.toggle(key="explorer.bn")
    on = bool(toggle.value)

    def flip() -> None:
        nonlocal on
        on = not on
        at.toggle(key="explorer.bn").set_value(on).run()
        check(at)

    cold = []
    for _ in range(COLD_RUNS):
        clear_caches()
        cold.append(timed(flip))
    flip()  # both configurations cached from here on
    warm = [timed(flip) for _ in range(WARM_RUNS)]
    side = []
    for s in SIDES:
        side.append(timed(lambda s=s: at.slider(key="explorer.side").set_value(s).run()))
        check(at)
    new = timed(lambda: at.radio(key="explorer.ch").set_value(3).run())
    check(at)
    return dict(cold=statistics.median(cold), warm=statistics.median(warm), side=statistics.median(side), new=new)


def bench_designer() -> dict[str, dict[str, float]]:
    at = page("designer")
    out: dict[str, dict[str, float]] = {}
    presets = list(schemas.designer_presets())

    def click(name: str) -> None:
        at.button(key=f"designer.preset.{name}").click().run()
        check(at)

    for name in presets:
        clear_caches()
        cold = timed(lambda name=name: click(name))
        other = presets[(presets.index(name) + 1) % len(presets)]
        click(other)
        warm = []
        for _ in range(WARM_RUNS // 2 + 1):  # back and forth between two cached presets
            warm.append(timed(lambda name=name: click(name)))
            click(other)
        out[name] = dict(cold=cold, warm=statistics.median(warm))
    return out


def verdict(*ms: float) -> str:
    return "PASS" if all(m <= BUDGET_MS for m in ms) else "FAIL"


def main() -> int:
    started = time.perf_counter()
    print(machine_info())
    print(f"budget: {BUDGET_MS} ms per rerun after a widget change; medians of {WARM_RUNS} warm, "
          f"{COLD_RUNS} cold, {len(SIDES)} new-side reruns (AppTest, real scripts); verdict on warm and new side\n")
    page("explorer")  # imports, first trace: not part of any measurement
    failures = 0
    print("explorer: BatchNorm switch flipped; input side moved")
    head = (f"{'architecture':<14}{'cold ms':>9}{'warm ms':>9}{'cold/warm':>11}{'new side ms':>13}"
            f"{'new config ms':>15}  verdict")
    print(head + "\n" + "-" * len(head))
    for arch in list_models():
        r = bench_explorer(arch)
        v = verdict(r["warm"], r["side"])
        failures += v == "FAIL"
        print(f"{arch:<14}{r['cold']:>9.0f}{r['warm']:>9.0f}{r['cold'] / r['warm']:>10.1f}×{r['side']:>13.0f}"
              f"{r['new']:>15.0f}  {v}")
    print("\ndesigner: preset buttons")
    head = f"{'preset':<14}{'cold ms':>9}{'warm ms':>9}{'cold/warm':>11}  verdict"
    print(head + "\n" + "-" * len(head))
    for name, r in bench_designer().items():
        v = verdict(r["warm"])
        failures += v == "FAIL"
        print(f"{name:<14}{r['cold']:>9.0f}{r['warm']:>9.0f}{r['cold'] / r['warm']:>10.1f}×  {v}")
    print(f"\n{'all PASS' if not failures else f'{failures} FAIL'} · bench took {time.perf_counter() - started:.0f} s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
