"""A student's quiz progress, kept in the run store so that a reload (a new session with the same
cookie) finds it again: the question each student was on, per seed, and every checked answer.

Two tables of the store's SQLite file, created here (``CREATE TABLE IF NOT EXISTS``, like
``cnnviz.runs.guard`` keeps its own) and written through ``RunStore.write()``/``read()``:

* ``quiz_answers``: one row per (student, seed, question): whether the last checked answer was
  right, and that answer as typed (at most ``MAX_ANSWER`` characters), so the page can show the
  feedback again;
* ``quiz_position``: one row per (student, seed): the question shown last.

A student is ``ui.sched.student()``'s id (a hash of the browser's cookie token); the store
never sees the token itself.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from cnnviz.runs.store import RunStore

MAX_ANSWER = 200  # characters of a typed answer kept (the page quotes at most 40 back)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS quiz_answers (
    student TEXT NOT NULL, seed INTEGER NOT NULL, question INTEGER NOT NULL,
    right INTEGER NOT NULL, answer TEXT NOT NULL, at REAL NOT NULL,
    PRIMARY KEY (student, seed, question)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS quiz_position (
    student TEXT NOT NULL, seed INTEGER NOT NULL, pos INTEGER NOT NULL, at REAL NOT NULL,
    PRIMARY KEY (student, seed)
) WITHOUT ROWID;
"""


@dataclass(frozen=True)
class Answer:
    """One checked answer: right or not, and the text the student gave."""

    right: bool
    text: str


class QuizProgress:
    """Quiz progress in one run store (see the module docstring)."""

    def __init__(self, store: RunStore):
        self.store = store
        with store.write() as conn:
            for stmt in _SCHEMA.split(";"):
                if stmt.strip():
                    conn.execute(stmt)

    def answers(self, student: str, seed: int) -> dict[int, Answer]:
        """``{question index: Answer}`` of ``student``'s checked answers on ``seed``'s quiz."""
        rows = self.store.read("SELECT question, right, answer FROM quiz_answers WHERE student=? AND seed=?",
                               (student, seed))
        return {int(i): Answer(bool(ok), str(text)) for i, ok, text in rows}

    def record(self, student: str, seed: int, question: int, right: bool, text: str) -> None:
        """Keep the last checked answer of one question (a later check replaces it)."""
        with self.store.write() as conn:
            conn.execute(
                "INSERT INTO quiz_answers (student, seed, question, right, answer, at) VALUES (?,?,?,?,?,?) "
                "ON CONFLICT(student, seed, question) DO UPDATE SET right=excluded.right, "
                "answer=excluded.answer, at=excluded.at",
                (student, seed, question, int(right), text[:MAX_ANSWER], time.time()))

    def position(self, student: str, seed: int) -> int:
        """The question ``student`` was on in ``seed``'s quiz (0: none kept)."""
        rows = self.store.read("SELECT pos FROM quiz_position WHERE student=? AND seed=?", (student, seed))
        return int(rows[0][0]) if rows else 0

    def move(self, student: str, seed: int, pos: int) -> None:
        """Remember the question ``student`` is on."""
        with self.store.write() as conn:
            conn.execute("INSERT INTO quiz_position (student, seed, pos, at) VALUES (?,?,?,?) "
                         "ON CONFLICT(student, seed) DO UPDATE SET pos=excluded.pos, at=excluded.at",
                         (student, seed, pos, time.time()))
