"""Small readings helpers shared by measures: readings in a window, their values, times,
dates and words."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, tzinfo
from decimal import Decimal

from .. import units
from ..clock import calendar_date
from ..model import Concept
from ..summary import Reading, Summary
from .context import Context, Interval
from .definition import Measured, MeasuredAtom


def in_window(
    readings: Iterable[Reading], interval: Interval | None, zone: tzinfo
) -> list[Reading]:
    """The dated readings whose time the window admits (all of them without a window)."""
    if interval is None:
        return list(readings)
    return [
        r for r in readings if r.record.time is not None and interval.contains(r.record.time, zone)
    ]


def overlapping(
    readings: Iterable[Reading], interval: Interval | None, context: Context, kind: str
) -> list[Reading]:
    """The readings a window holds: an event (a procedure, an encounter) while it lasts, so an
    ongoing dialysis counts; anything else by its date, so an active Condition counts in the
    window of its onset, not in every window after it."""
    if interval is None:
        return list(readings)
    found = []
    for reading in readings:
        record = reading.record
        if record.time is None:
            continue
        if kind != "event":
            end = record.time
        elif record.ongoing:
            end = context.as_of
        else:
            end = min(record.end or record.time, context.as_of)
        if interval.overlaps(record.time, max(end, record.time), context.zone):
            found.append(reading)
    return found


def valued(summary: Summary, interval: Interval | None) -> list[Reading]:
    """The readings with a value an atom reads: a window reaches past the lookback."""
    return summary.history_valued if interval is not None else summary.ordered


def present_in(summary: Summary, interval: Interval | None) -> list[Reading]:
    """The readings saying present: the current ones, or every one when a window reaches back."""
    if interval is None:
        return summary.present
    return [r for r in summary.history if r.record.present]


def unit_of(concept: Concept) -> str:
    """The concept's unit as a card shows it, after a space ("" when it has none)."""
    return f" {units.display(concept.unit)}" if concept.unit else ""


def number_text(value: Decimal) -> str:
    """A decimal as text: no trailing zeros on a whole number, at most 3 places."""
    text = f"{value.normalize():f}" if value == value.to_integral_value() else f"{value:f}"
    if "." in text and len(text.split(".")[1]) > 3:
        text = f"{round(value, 3).normalize():f}"
    return text


def yes(words: str, evidence: Iterable[Reading]) -> Measured:
    """A yes/no measure that holds, in `words`, resting on `evidence`."""
    return Measured(Decimal(1), words, tuple(evidence))


def window_words(atom: MeasuredAtom) -> str:
    """The atom's window in words, a parameter's length shown beside its name."""
    window = getattr(atom, "window", None)
    if window is None:
        return ""
    length = str(window.length) if window.length is not None else None
    # a length given as a parameter is shown with its value
    return (
        f" {window.text} ({length})" if length and length not in window.text else f" {window.text}"
    )


def value_of(reading: Reading) -> float:
    """A valued reading's value."""
    assert reading.value is not None, "valued readings only"
    return reading.value


def time_of(reading: Reading) -> datetime:
    """A dated reading's time."""
    assert reading.record.time is not None, "dated readings only"
    return reading.record.time


def median(values: list[Decimal]) -> Decimal:
    """The median of `values` (of an even count, the mean of the middle two)."""
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def previous(readings: list[Reading]) -> Reading | None:
    """The latest of `readings` (in time order) dated before the last one."""
    if not readings or readings[-1].record.time is None:
        return None
    earlier = [
        r for r in readings if r.record.time is not None and time_of(r) < time_of(readings[-1])
    ]
    return earlier[-1] if earlier else None


def reading_date(reading: Reading, context: Context) -> date:
    """The calendar date of a dated reading (a date-only value is its own date)."""
    return calendar_date(time_of(reading), context.zone, reading.record.date_only)
