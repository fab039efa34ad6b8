"""Every setting of cnnviz, read and validated in one place: the ``CNNVIZ_*`` environment.

Torch-free and import-light (the classroom launcher and the store read it before anything
heavy is imported). Each variable is a ``Setting`` in ``SETTINGS``: its name, a parser that
turns the raw text into a value or raises ``SettingError`` naming the variable, what an
unset variable means, and one line for the README's table (a test checks the README against
this table, both ways).

Values are read when asked for, not at import: a test or a launcher that sets a variable
before starting a process (or within one, with ``monkeypatch``) is obeyed. A value that
cannot work is an error with one clear message, never silently replaced by the default.

    from cnnviz import settings
    settings.data_dir()            # pathlib.Path
    settings.db_path()             # the run store
    settings.get("CNNVIZ_MAX_LIVE")   # 1
"""

from __future__ import annotations

import os
import pathlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cnnviz.errors import CnnvizError

DB_NAME = "cnnviz-runs.sqlite"
MB = 1 << 20


class SettingError(CnnvizError):
    """A ``CNNVIZ_*`` variable whose value cannot work (``CNNVIZ_MAX_LIVE=abc``)."""


# --- parsers: raw text → value, or SettingError ------------------------------------------------
def _positive_int(name: str, raw: str) -> int:
    try:
        value = int(raw.strip())
    except ValueError:
        raise SettingError("err.setting", name=name, raw=raw[:40], expected="a whole number ≥ 1") from None
    if value < 1:
        raise SettingError("err.setting", name=name, raw=raw[:40], expected="a whole number ≥ 1")
    return value


def _choice(*choices: str) -> Callable[[str, str], str]:
    def parse(name: str, raw: str) -> str:
        value = raw.strip().lower()
        if value not in choices:
            raise SettingError("err.setting", name=name, raw=raw[:40], expected=" | ".join(choices))
        return value

    return parse


def _path(name: str, raw: str) -> pathlib.Path:
    return pathlib.Path(raw.strip()).expanduser()


def _text(name: str, raw: str) -> str:
    return raw.strip()


def _class_url(name: str, raw: str) -> str:
    """An http(s) address with a host (and port, base path) only: what the class's QR code holds."""
    from urllib.parse import urlsplit

    value = raw.strip().rstrip("/")
    parts = urlsplit(value)
    if (parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment
            or "@" in parts.netloc or any(c.isspace() or c in "<>\"'`" for c in value) or len(value) > 200):
        raise SettingError("err.setting", name=name, raw=raw[:40], expected="an address such as http://10.0.0.5:8501")
    return value


@dataclass(frozen=True)
class Setting:
    """One environment variable: how to read it and what it means when unset."""

    name: str
    parse: Callable[[str, str], Any]  # (name, raw text) → value; SettingError when it cannot work
    default: Any  # the value when unset or empty (None: "not set", the code decides)
    meaning: str  # the README's line (English; the settings are for the teacher at a console)


SETTINGS: dict[str, Setting] = {s.name: s for s in (
    Setting("CNNVIZ_DATA_DIR", _path, None,
            "where Fashion-MNIST and MNIST live (torchvision's raw layout); downloaded there when online"),
    Setting("CNNVIZ_DB", _path, None, "the SQLite store of every job, its metrics and the queue"),
    Setting("CNNVIZ_TEACHER_KEY", _text, "", "the key of the teacher's page"),
    Setting("CNNVIZ_MAX_LIVE", _positive_int, 1, "training runs one student may have queued or running"),
    Setting("CNNVIZ_MAX_LAB_LIVE", _positive_int, 1,
            "lab jobs (gradient flow, BatchNorm pair, feature maps) one student may have queued or running"),
    Setting("CNNVIZ_JOIN_CODE", _text, "",
            "the class's join code: a browser becomes a student only by typing it (wins over the teacher page's)"),
    Setting("CNNVIZ_MAX_NEW_IDS", _positive_int, 3,
            "new student identities (and wrong join codes) one client address may make per 10 minutes"),
    Setting("CNNVIZ_WORKERS", _positive_int, None, "the pool's worker processes (clamped: workers × threads ≤ cores)"),
    Setting("CNNVIZ_WORKER_THREADS", _positive_int, None, "torch threads of each worker"),
    Setting("CNNVIZ_POOL", _choice("auto", "external", "none"), "auto",
            "`auto`: the app starts a pool when none serves the store; `external`: another process runs it "
            "(`make classroom` sets this); `none`: never (tests that drive workers themselves)"),
    Setting("CNNVIZ_POOL_LOG", _path, None, "the log file of a pool the app starts"),
    Setting("CNNVIZ_RAY_ADDRESS", _text, "", "run the pool's jobs on this Ray cluster"),
    Setting("CNNVIZ_WEIGHTS_MAX_RUN_MB", _positive_int, 256, "trained weights kept per run, in MB"),
    Setting("CNNVIZ_WEIGHTS_MAX_MB", _positive_int, 2048,
            "trained weights kept in all, in MB (beside the store; see CNNVIZ_WEIGHTS_STUDENT_MB for who is evicted)"),
    Setting("CNNVIZ_WEIGHTS_STUDENT_MB", _positive_int, None,
            "trained weights one student may keep, in MB (a student past it loses their own oldest first; "
            "the teacher's pre-warmed runs are never evicted)"),
    Setting("CNNVIZ_LANG", _choice("en", "zh"), "en", "the language of `make classroom`'s console messages"),
    Setting("CNNVIZ_STUDENT_MAX_S", _positive_int, 300,
            "the longest a student's run may be estimated to take, in seconds (the teacher page can change it "
            "for the class); a run past it is refused at Start, and one that overruns is stopped at 1.5 times it"),
    Setting("CNNVIZ_TEACHER_MAX_S", _positive_int, 14400,
            "the same bound for the teacher's own runs and pre-warm, in seconds"),
    Setting("CNNVIZ_JOBS_MEMORY_MB", _positive_int, None,
            "memory the pool's running jobs may reserve in all, in MB (default: the machine's memory less "
            "CNNVIZ_RESERVE_MB); a job waits in the queue rather than start into a shortage"),
    Setting("CNNVIZ_RESERVE_MB", _positive_int, 3072,
            "memory kept for the app's replicas, the workers' own processes and a margin, in MB"),
    Setting("CNNVIZ_CLASS_URL", _class_url, "",
            "the class's address on the teacher's and the home page (its QR code and the short link), when the "
            "address the teacher's browser used is not the one students reach (a proxy's public name)"),
    Setting("CNNVIZ_WARM", _choice("on", "off"), "on",
            "`on`: `make classroom` says ready only once one session has loaded home, explorer, training and "
            "board on each replica (imports and shared figures done), and `make run` warms its server the same "
            "way; `off`: no warm-up, the first students wait for them"),
)}


def get(name: str, environ: Mapping[str, str] | None = None) -> Any:
    """The value of setting ``name`` now (its default when unset or blank); ``SettingError``
    for a value that cannot work; ``KeyError`` for a name that is not a setting."""
    s = SETTINGS[name]
    raw = (os.environ if environ is None else environ).get(name, "")
    return s.default if not raw.strip() else s.parse(name, raw)


def check(environ: Mapping[str, str] | None = None) -> list[SettingError]:
    """Every setting's error (empty: all good): what a launcher reports at start, all at once."""
    errors = []
    for name in SETTINGS:
        try:
            get(name, environ)
        except SettingError as err:
            errors.append(err)
    return errors


def _cache_home(environ: Mapping[str, str] | None = None) -> pathlib.Path:
    env = os.environ if environ is None else environ
    return pathlib.Path(env.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"))


def data_dir(environ: Mapping[str, str] | None = None) -> pathlib.Path:
    """The data folder: ``$CNNVIZ_DATA_DIR``, else ``$XDG_CACHE_HOME/cnnviz``, else ``~/.cache/cnnviz``."""
    return get("CNNVIZ_DATA_DIR", environ) or _cache_home(environ) / "cnnviz"


def db_path(environ: Mapping[str, str] | None = None) -> pathlib.Path:
    """The run store: ``$CNNVIZ_DB``, else the data folder's, else the user cache's (when the
    data folder is read-only, e.g. a shared dataset folder). ``environ``: another process's
    environment (the classroom launcher settles its children's store)."""
    env = get("CNNVIZ_DB", environ)
    if env is not None:
        return env
    folder = data_dir(environ)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if os.access(folder, os.W_OK):
            return folder / DB_NAME
    except OSError:
        pass
    return _cache_home(environ) / "cnnviz" / DB_NAME


def pool_log(db: pathlib.Path) -> pathlib.Path:
    """The log of a pool the app starts: ``$CNNVIZ_POOL_LOG``, else beside the store."""
    return get("CNNVIZ_POOL_LOG") or db.with_name(db.stem + ".pool.log")


def max_live() -> int:
    return int(get("CNNVIZ_MAX_LIVE"))


def max_lab_live() -> int:
    return int(get("CNNVIZ_MAX_LAB_LIVE"))


def join_code() -> str:
    """The join code set in the environment ("" when none: the teacher page's, if any, applies)."""
    return str(get("CNNVIZ_JOIN_CODE"))


def max_new_ids() -> int:
    return int(get("CNNVIZ_MAX_NEW_IDS"))


def pool_mode() -> str:
    return str(get("CNNVIZ_POOL"))


def ray_address() -> str | None:
    return get("CNNVIZ_RAY_ADDRESS") or None


def teacher_key() -> str:
    """The key the teacher set ("" when none: the app generates one at start)."""
    return str(get("CNNVIZ_TEACHER_KEY"))


def weights_caps() -> tuple[int, int]:
    """(bytes one run's weights may take, bytes all weights may take)."""
    return int(get("CNNVIZ_WEIGHTS_MAX_RUN_MB")) * MB, int(get("CNNVIZ_WEIGHTS_MAX_MB")) * MB


def student_weights_cap() -> int:
    """Bytes one student's kept weights may take: ``$CNNVIZ_WEIGHTS_STUDENT_MB``, else a fifth of
    the class cap but never less than one run's cap (a student can always keep one run: 2048 MB
    in all → 409 MB each, with 20-40 students sharing the class cap by eviction)."""
    own = get("CNNVIZ_WEIGHTS_STUDENT_MB")
    if own is not None:
        return int(own) * MB
    run_cap, total_cap = weights_caps()
    return max(run_cap, total_cap // 5)


def worker_plan_overrides() -> tuple[int | None, int | None]:
    """(``$CNNVIZ_WORKERS``, ``$CNNVIZ_WORKER_THREADS``): None where unset (the pool plans)."""
    return get("CNNVIZ_WORKERS"), get("CNNVIZ_WORKER_THREADS")


def run_time_limits() -> tuple[int, int]:
    """(a student's, the teacher's) longest estimated run, in seconds (the class's own student
    limit, set on the teacher page, wins over the first: ``cnnviz.runs.admission``)."""
    return int(get("CNNVIZ_STUDENT_MAX_S")), int(get("CNNVIZ_TEACHER_MAX_S"))


def jobs_memory(total_bytes: int | None) -> int | None:
    """Bytes the running jobs may reserve in all: ``$CNNVIZ_JOBS_MEMORY_MB``, else ``total_bytes``
    (the machine's memory) less ``$CNNVIZ_RESERVE_MB``, at least 256 MB; None when neither is
    known (no bound)."""
    own = get("CNNVIZ_JOBS_MEMORY_MB")
    if own is not None:
        return int(own) * MB
    if total_bytes is None:
        return None
    return max(256 * MB, total_bytes - int(get("CNNVIZ_RESERVE_MB")) * MB)


def console_lang() -> str:
    return str(get("CNNVIZ_LANG"))


def warm_up() -> bool:
    """Whether a server is warmed before its class arrives (``classroom.warm``)."""
    return get("CNNVIZ_WARM") == "on"


def class_url() -> str:
    """The class's address the teacher set ("" when none: the page finds it from its request)."""
    return str(get("CNNVIZ_CLASS_URL"))
