"""``quiz``: the predict-the-shape questions of one seed, with their answers.

    python -m cnnviz quiz --seed 7 --count 6
    python -m cnnviz quiz --seed 7 --count 6 --json

With ``--json`` one object ``{"seed", "count", "questions": [{"kind", "arch", "config",
"overrides", "layer", "prompt", "answer", "answer_text", "choices", "choice_types", "explanation",
"steps"}...]}``; otherwise each question, its choices, its answer and the answer's layer.
A teacher prints the answer key of the seed the class's link carries.
"""

from __future__ import annotations

import argparse
import json

from cnnviz.i18n import LANGS, t
from cnnviz.labs.quiz import KINDS, MAX_COUNT, MAX_SEED, quiz

COMMAND = "quiz"
HELP = "print the predict-the-shape quiz of a seed (questions from real traces) with its answers"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seed", type=int, default=0, help=f"quiz seed, 0 to {MAX_SEED} (default 0)")
    p.add_argument("--count", type=int, default=len(KINDS),
                   help=f"number of questions, 1 to {MAX_COUNT} (default {len(KINDS)}: one of each kind)")
    p.add_argument("--lang", choices=LANGS, default="en", help="language of the questions (default en)")
    p.add_argument("--json", action="store_true", help="print one JSON object with every question and answer")


def run(args: argparse.Namespace) -> int:
    questions = quiz(args.seed, args.count)  # a bad seed or count is a CnnvizError: one line, exit 2
    if args.json:
        print(json.dumps({"seed": args.seed, "count": len(questions),
                          "questions": [dict(index=i, **q.to_dict(args.lang)) for i, q in enumerate(questions, 1)]},
                         ensure_ascii=False))
        return 0
    lang = args.lang
    print(t("quiz.cli.title", lang, seed=args.seed, n=len(questions)))
    for i, q in enumerate(questions, 1):
        print(f"\n{i}. [{t(f'quiz.kind.{q.kind}', lang)}] {q.render(lang)}")
        if q.choices:
            print(t("quiz.cli.choices", lang, choices=", ".join(q.choice_label(c) for c in q.choices)))
        print(t("quiz.cli.answer", lang, answer=q.answer_text(), layer=q.layer))
    return 0
