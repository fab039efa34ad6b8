"""``python -m classroom [--replicas K] [--port P] [--host H] [--warm-timeout S] [--lang en|zh]``: cnnviz for a class,
K replicas behind HAProxy.

Defaults: K = ``$REPLICAS`` or the CPU count, P = ``$PORT`` or 8501, H = 0.0.0.0 (every
interface: the students' machines must reach it; 127.0.0.1 keeps it on this machine), the
language of its messages ``$CNNVIZ_LANG`` when that is en or zh, else en (``--help`` and the
errors about ``$REPLICAS`` / ``$PORT`` come before ``--lang`` is read, so they follow
``$CNNVIZ_LANG``). Stop with Ctrl-C or SIGTERM. See docs/classroom.md.
"""

from __future__ import annotations

import argparse
import os
import sys

from cnnviz import settings
from cnnviz.i18n import LANGS, t

from .launcher import START_TIMEOUT_S, WARM_TIMEOUT_S, Classroom, LaunchError


def _env_lang() -> str:
    try:
        return settings.console_lang()
    except settings.SettingError:
        return "en"  # --lang is read after --help; argparse names a bad value there


def _int_env(name: str, default: int, lang: str) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        sys.exit(t("room.error", lang, err=t("room.not_int", lang, name=name, raw=raw)))


def main(argv: list[str] | None = None) -> int:
    lang = _env_lang()
    p = argparse.ArgumentParser(prog="python -m classroom", description=t("room.description", lang))
    p.add_argument("--replicas", "-k", type=int, default=_int_env("REPLICAS", os.cpu_count() or 1, lang),
                   help=t("room.h.replicas", lang))
    p.add_argument("--port", "-p", type=int, default=_int_env("PORT", 8501, lang), help=t("room.h.port", lang))
    p.add_argument("--host", default="0.0.0.0", help=t("room.h.host", lang))
    p.add_argument("--run-dir", help=t("room.h.run_dir", lang))
    p.add_argument("--pin-cpus", action="store_true", help=t("room.h.pin_cpus", lang))
    p.add_argument("--start-timeout", type=float, default=START_TIMEOUT_S,
                   help=t("room.h.start_timeout", lang, secs=START_TIMEOUT_S))
    p.add_argument("--warm-timeout", type=float, default=WARM_TIMEOUT_S,
                   help=t("warm.room.h.timeout", lang, secs=WARM_TIMEOUT_S))
    p.add_argument("--lang", choices=LANGS, default=lang, help=t("room.h.lang", lang))
    a = p.parse_args(argv)
    try:
        room = Classroom(a.replicas, host=a.host, port=a.port, run_dir=a.run_dir, pin_cpus=a.pin_cpus,
                         start_timeout=a.start_timeout, lang=a.lang, warm_timeout=a.warm_timeout)
    except LaunchError as err:
        print(t("room.error", a.lang, err=err), file=sys.stderr)
        return 2
    return room.run()


if __name__ == "__main__":
    sys.exit(main())
