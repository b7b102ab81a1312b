"""Which results of a concept are current, and whether one is beyond a limit.

The current results are those at the latest time within the lookback (with `ties: any`, all of
them; otherwise the one the ties rule puts last). With `including preliminary`, the latest
preliminary result within the lookback joins them when it is newer than they are. A limit
(`< low_potassium or below reference range`) holds for a result when its value meets the
threshold or lies beyond its own reference range (converted to the concept's unit, rounded as
values are); every comparison is in decimal. Nothing here names an analyte.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from decimal import ROUND_HALF_UP, Decimal

from . import units
from .clock import Duration, calendar_date, may_coincide
from .conditions import Compare, Limit, LimitName, NotRechecked, Op, ResultTest
from .evaluation import DataWarning
from .model import Concept, Ruleset
from .records import Quantity
from .summary import Reading, Summary, is_preferred, rounded
from .thresholds import meets, resolve_threshold


@dataclass(frozen=True, slots=True)
class Found:
    """A result that met a test: what it met, in words, and the reading."""

    words: str
    evidence: tuple[Reading, ...]


def current_results(summary: Summary) -> list[Reading]:
    """The current valued results: with `ties: any` every one at the latest time (or that may
    be: a date and a time on that day), else the latest alone."""
    latest = summary.latest
    if latest is None:
        return []
    if summary.concept.ties != "any" or latest.record.moment is None:
        return [latest]
    moment = latest.record.moment
    return [
        r
        for r in summary.valued
        if r.record.moment is not None and may_coincide(r.record.moment, moment)
    ]


def candidates(summary: Summary) -> list[Reading]:
    """The current results and, when newer than them (or there are none), the latest
    preliminary result within the lookback (with `ties: any`, every one at its time)."""
    found = current_results(summary)
    if not summary.preliminary:
        return found
    newest = summary.preliminary[-1]
    time, moment = newest.record.time, newest.record.moment
    if found and (time is None or not all(_newer(time, r) for r in found)):
        return found
    if summary.concept.ties != "any" or moment is None:
        return [*found, newest]
    tied = [
        r
        for r in summary.preliminary
        if r.record.moment is not None and may_coincide(r.record.moment, moment)
    ]
    return [*found, *tied]


def _newer(time: datetime, reading: Reading) -> bool:
    return reading.record.time is not None and time > reading.record.time


def favoured(readings: list[Reading], op: Op) -> Reading:
    """Of results a comparison reads, the one most in its favour: the lowest for `<`, `<=`,
    the highest for `>`, `>=`, `=` (the last of equal values)."""
    low = op in ("<", "<=")
    return min(readings, key=_value) if low else max(readings, key=_value)


def _value(reading: Reading) -> Decimal:
    assert reading.value is not None, "valued readings only"
    return Decimal(repr(reading.value))


def reference_limit(
    reading: Reading, concept: Concept, side: str, warnings: list[DataWarning]
) -> Decimal | None:
    """The result's own reference range limit (`low` or `high`) in the concept's unit,
    rounded as its values are; None without a usable one. A high limit that cannot be
    converted is named in a warning (a low one is, by `summarise`, for every result)."""
    record = reading.record
    limit: Quantity | None = record.reference_low if side == "low" else record.reference_high
    if limit is None or not math.isfinite(limit.value) or limit.value < 0:
        return None
    try:
        number = units.convert(
            float(limit.value),
            limit.unit,
            concept.unit or "1",
            molar_mass=concept.molar_mass,
            valence=concept.valence,
            same_as=concept.same_as,
            accepted=concept.accepted_units,
        )
    except units.UnitError:
        if side == "high":  # worded as `above reference range` words it
            message = (
                f"{concept.name} reference range high {limit} cannot be converted to "
                f"{concept.unit or 'a plain number'}; reference range ignored"
            )
            warning = DataWarning(message, record.source)
            if warning not in warnings:
                warnings.append(warning)
        return None
    if concept.decimals is not None:
        number = rounded(number, concept.decimals)
    return Decimal(repr(number))


Thresholds = dict[tuple[str, str], Decimal]  # (concept, threshold text): its resolved number


class Judge:
    """Tests results against limits for one ruleset, its thresholds resolved once. Pass the
    same `thresholds` dict (for that ruleset only) to Judges of many evaluations to resolve
    each threshold once in all; warnings go to each Judge's own `warnings`."""

    def __init__(
        self, ruleset: Ruleset, warnings: list[DataWarning], thresholds: Thresholds | None = None
    ) -> None:
        self.ruleset = ruleset
        self.warnings = warnings
        # shared between threads: a race resolves the same number twice, nothing worse
        self._thresholds: Thresholds = {} if thresholds is None else thresholds

    def threshold(self, concept: str, op: Op, text: str) -> Decimal:
        key = (concept, text)
        found = self._thresholds.get(key)
        if found is None:
            value = resolve_threshold(Compare(concept, "latest", op, text, text, ()), self.ruleset)
            found = self._thresholds[key] = Decimal(repr(value))
        return found

    def meets(self, reading: Reading, concept: Concept, clause: Limit | LimitName) -> str | None:
        """What the result met of `clause`, in words, or None when it does not."""
        limit = clause if isinstance(clause, Limit) else getattr(concept, clause)
        if limit is None:
            return None
        value = _value(reading)
        if limit.op is not None and limit.threshold is not None:
            threshold = self.threshold(concept.name, limit.op, limit.threshold)
            if meets(value, limit.op, threshold):
                shown = f"{_number(threshold)}{_unit(concept)}"
                return (
                    f"{clause} ({limit.op} {shown})"
                    if isinstance(clause, str)
                    else (f"{limit.op} {shown}")
                )
        if limit.reference is not None:
            side = "low" if limit.reference == "below" else "high"
            bound = reference_limit(reading, concept, side, self.warnings)
            beyond = bound is not None and (value < bound if side == "low" else value > bound)
            if beyond:
                assert bound is not None
                words = f"{limit.reference} its reference range ({side} {_number(bound)})"
                return f"{clause}: {words}" if isinstance(clause, str) else words
        return None

    def first_met(self, readings: list[Reading], atom: ResultTest) -> Found | None:
        """The result most in the test's favour that meets every clause of `atom`."""
        concept = self.ruleset.concepts[atom.concept]
        passing: list[tuple[Reading, list[str]]] = []
        for reading in readings:
            met = [self.meets(reading, concept, clause) for clause in atom.clauses]
            if all(words is not None for words in met):
                passing.append((reading, [w for w in met if w is not None]))
        if not passing:
            return None
        reading = favoured([r for r, _ in passing], _direction(atom))
        words = next(w for r, w in passing if r is reading)
        flag = " (preliminary)" if reading.record.preliminary else ""
        raw = reading.record.value
        if isinstance(raw, Quantity) and Decimal(repr(float(raw.value))) != _value(reading):
            written = f"{_number(Decimal(repr(float(raw.value))))} {units.display(raw.unit)}"
            flag = f" (reported as {written}){flag}"
        shown = f"{_number(_value(reading))}{_unit(concept)}{flag}, {', '.join(words)}"
        return Found(shown, (reading,))


def _direction(atom: ResultTest) -> Op:
    """Which way the test leans, to pick the result its text shows: its last clause's."""
    clause = atom.clauses[-1]
    if isinstance(clause, str):
        return "<" if clause == "low" else ">"
    if clause.op is not None:
        return clause.op
    return "<" if clause.reference == "below" else ">"


def result_test(summary: Summary, atom: ResultTest, judge: Judge) -> Found | None:
    """`atom` for the patient: a current result (or candidate) that meets every clause."""
    readings = candidates(summary) if atom.preliminary else current_results(summary)
    return judge.first_met(readings, atom)


def not_rechecked(
    atom: NotRechecked,
    summaries: Mapping[str, Summary],
    as_of: datetime,
    zone: tzinfo,
    judge: Judge,
) -> Found | None:
    """No current result of the group, and the group's latest result dated within the window
    (before each concept's lookback) is `atom.concept`'s and beyond its low or high limit."""
    group = [summaries[name] for name in atom.group if name in summaries]
    if any(s.valued for s in group):
        return None
    length = atom.window.length
    assert isinstance(length, Duration), "resolved by measure_of"
    start = length.before(as_of, zone)
    old: list[tuple[datetime, int, int, Reading]] = []
    for summary in group:
        order = atom.group.index(summary.concept.name)
        for reading in summary.earlier:
            time = reading.record.time
            if (
                reading.record.present
                and reading.value is not None
                and not reading.record.preliminary
                and time is not None
                and time >= start
            ):
                # at one time: the group's order, then a concept's preferred codes first
                rank = int(is_preferred(reading, summary.concept, judge.ruleset))
                old.append((time, -order, rank, reading))
    if not old:
        return None
    *_, reading = max(old, key=lambda entry: entry[:3])
    if reading.record.concept != atom.concept:
        return None
    concept = judge.ruleset.concepts[atom.concept]
    sides: tuple[LimitName, ...] = ("low", "high")
    for side in sides:
        met = judge.meets(reading, concept, side)
        if met is not None:
            time = reading.record.time
            assert time is not None
            day = calendar_date(time, zone, reading.record.date_only).isoformat()
            number = _number(_value(reading))
            if concept.shown_decimals is not None:  # written as cards write it: "3.10"
                step = Decimal(1).scaleb(-concept.shown_decimals)
                number = f"{_value(reading).quantize(step, rounding=ROUND_HALF_UP):f}"
            value = f"{number}{_unit(concept)}"
            words = f"last {concept.label} {value} on {day} was {side}{NOT_RECHECKED_SINCE}"
            return Found(words, (reading,))
    return None


NOT_RECHECKED_SINCE = ", not rechecked since"  # ends the words of an old value not rechecked


def reads_one_result(atom: object) -> bool:
    """Whether an atom's measure rests on one result it chose: a test of single results, an
    old result not rechecked, or a comparison of the latest among tied results."""
    if isinstance(atom, ResultTest | NotRechecked):
        return True
    return isinstance(atom, Compare) and atom.attribute == "latest" and atom.window is None


def _unit(concept: Concept) -> str:
    return f" {units.display(concept.unit)}" if concept.unit else ""


def _number(value: Decimal) -> str:
    return f"{value.normalize():f}"


__all__ = [
    "NOT_RECHECKED_SINCE",
    "Found",
    "Judge",
    "Thresholds",
    "candidates",
    "current_results",
    "favoured",
    "not_rechecked",
    "reads_one_result",
    "reference_limit",
    "result_test",
]
