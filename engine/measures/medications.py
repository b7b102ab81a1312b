"""A medication concept's state on the evaluation date: active, on hold, started or ended
within a window, confirmed."""

from __future__ import annotations

from datetime import date

from ..clock import Duration, local_date
from ..conditions import MedicationState
from ..summary import Summary
from .context import Context, Interval
from .definition import Measure, Measured
from .readings import window_words, yes

ENDED = frozenset({"completed", "stopped"})
CONFIRMED_FOR = Duration(12, "months")


def medication_state(
    measure: Measure, summary: Summary, context: Context, interval: Interval | None
) -> Measured | None:
    """A medication atom's state (active, on hold, confirmed, started, ended) on the
    evaluation date, with the records it rests on; None when it does not hold."""
    atom = measure.atom
    assert isinstance(atom, MedicationState)
    records = [r for r in summary.history if r.record.present]
    active = [r for r in records if context.active(r.record)]
    where = window_words(atom)
    if atom.state == "active":
        return yes("active", active) if active else None
    if atom.state == "confirmed":
        since = CONFIRMED_FOR.before(context.as_of, context.zone)
        confirmed = [
            r
            for r in active
            if r.record.asserted is None
            or local_date(r.record.asserted, context.zone) >= local_date(since, context.zone)
        ]
        return yes("active and confirmed", confirmed) if confirmed else None
    if atom.state == "started":
        started = [
            (records_, start)
            for records_, start in context.groups(summary)
            if start is not None and _on_a_day_in(context.date_of(start), interval, context)
        ]
        if not started:
            return None
        evidence = [r for r in records if any(r.record in group for group, _ in started)]
        return yes(f"started{where}", evidence)
    if active:
        return None
    if atom.state == "on-hold":
        held = [r for r in records if r.record.status == "on-hold"]
        return yes("on hold", held) if held else None
    ended = []
    for reading in records:
        record = reading.record
        end = record.end or (record.time if record.status in ENDED else None)
        if (
            end is not None
            and end <= context.as_of
            and _on_a_day_in(local_date(end, context.zone), interval, context)
        ):
            ended.append(reading)
    return yes(f"ended{where}", ended) if ended else None


def _on_a_day_in(day: date, interval: Interval | None, context: Context) -> bool:
    """Whether the calendar date `day` is within the window's dates (in the ruleset's zone)."""
    if interval is None:
        return True
    if interval.after is not None:
        return day > interval.after and day <= local_date(interval.end, context.zone)
    first = local_date(interval.start, context.zone) if interval.start else date.min
    return first <= day <= local_date(interval.end, context.zone)
