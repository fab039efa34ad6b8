"""Tooling for the tests, the benchmarks and the docs' screenshots; never imported by the app.

* ``testkit.procs``: start the app as a real server on a free loopback port (``serve_app``),
  wait for its health check, stop it by process group;
* ``testkit.wsclient``: ``Student``, one real Streamlit browser session over the websocket
  (``/_stcore/stream``), dozens of them in one asyncio loop, for load tests.

``tests/``, ``bench/`` and ``docs/screenshots.py`` import it; ``cnnviz``, ``ui``, ``pages``
and ``classroom`` (what a class runs) never do. Free ports come from ``cnnviz.supervisor``.
"""
