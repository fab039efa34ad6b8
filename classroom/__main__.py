"""``python -m classroom [--replicas K] [--port P] [--host H]``: cnnviz for a class, K replicas behind HAProxy.

Defaults: K = ``$REPLICAS`` or the CPU count, P = ``$PORT`` or 8501, H = 0.0.0.0 (every
interface: the students' machines must reach it; 127.0.0.1 keeps it on this machine). Stop
with Ctrl-C or SIGTERM. See docs/classroom.md.
"""

from __future__ import annotations

import argparse
import os
import sys

from .launcher import START_TIMEOUT_S, Classroom, LaunchError


def _int_env(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        sys.exit(f"classroom: error: {name}={raw!r} is not a whole number")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m classroom",
                                description="cnnviz for a class: K Streamlit replicas behind HAProxy on one port.")
    p.add_argument("--replicas", "-k", type=int, default=_int_env("REPLICAS", os.cpu_count() or 1),
                   help="Streamlit processes behind the proxy (default: $REPLICAS, else the CPU count)")
    p.add_argument("--port", "-p", type=int, default=_int_env("PORT", 8501),
                   help="the port students open (default: $PORT, else 8501)")
    p.add_argument("--host", default="0.0.0.0",
                   help="address to listen on (default 0.0.0.0 = every interface; 127.0.0.1 = this machine only)")
    p.add_argument("--run-dir", help="folder for haproxy.cfg and the logs (default: a new /tmp/cnnviz-classroom-*)")
    p.add_argument("--pin-cpus", action="store_true",
                   help="give each replica its own share of the CPU cores (training on one replica then "
                        "cannot slow down the others' students)")
    p.add_argument("--start-timeout", type=float, default=START_TIMEOUT_S,
                   help=f"seconds a replica may take to answer its first health check (default {START_TIMEOUT_S:.0f})")
    a = p.parse_args(argv)
    try:
        room = Classroom(a.replicas, host=a.host, port=a.port, run_dir=a.run_dir, pin_cpus=a.pin_cpus,
                         start_timeout=a.start_timeout)
    except LaunchError as err:
        print(f"classroom: error: {err}", file=sys.stderr)
        return 2
    return room.run()


if __name__ == "__main__":
    sys.exit(main())
