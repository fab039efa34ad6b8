"""What the paired lab jobs share (gradient flow: plain vs residual; BatchNorm: without vs with):
their progress, the mean over the variants of their fraction done."""

from __future__ import annotations

from collections.abc import Callable

from cnnviz.train.events import EndEvent, Event, StartEvent, StepEvent


def pair_progress(names: tuple[str, ...]) -> Callable[[dict, Event], float | None]:
    """A kind's ``progress`` for a job whose events carry one of ``names`` as their variant."""

    def progress(s: dict, ev: Event) -> float | None:
        name = ev.name
        if name not in names:
            return None
        if isinstance(ev, StartEvent):
            s.setdefault("total_steps", {})[name] = ev.total_steps
        elif isinstance(ev, StepEvent):
            s.setdefault("steps", {})[name] = ev.step
        elif isinstance(ev, EndEvent):
            s.setdefault("ended", {})[name] = ev.status.value
        else:
            return None
        total, steps, ended = s.get("total_steps", {}), s.get("steps", {}), s.get("ended", {})
        fracs = [1.0 if n in ended else steps.get(n, 0) / max(1, total.get(n) or 1) for n in names]
        s["step"] = min(steps.get(n, 0) for n in names)
        return min(1.0, sum(fracs) / len(fracs))

    return progress
