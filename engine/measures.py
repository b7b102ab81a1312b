"""Measures: what the general language's atoms read from a patient's summaries.

Each distinct measure an atom asks for (its kind, concept, attribute, window, ...) is one
attribute of the concept's fact, keyed `m_` + 10 hex digits of the sha256 of its canonical
text, computed here before the session and compared by durable_rules as an integer scaled by
SCALE. Numbers are computed in Decimal from each value's shortest decimal text (values are
already rounded by `Concept.decimals`), so a rise of exactly 0.50 is not > 0.5 and 150 is
1.5 x 100; a number is scaled rounding towards the side on which its comparison stays exact.
A yes/no measure is 1 when it holds. A measure with no value (nothing in its window, no anchor)
is left out of the fact: its atom is false and `not` it is true.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, tzinfo
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from functools import cached_property
from typing import Literal, TypeAlias

from . import regions, units
from .clock import Duration, calendar_date, completed_years, from_ucum, local_date, zone_of
from .codes import parse_code
from .conditions import (
    ATTRIBUTES,
    AboveReference,
    Atom,
    CodedIs,
    Compare,
    Marked,
    MedicationState,
    NotRechecked,
    Op,
    Presence,
    RegionState,
    ResultTest,
    Streak,
    Trend,
    TrendMeasure,
    Window,
)
from .errors import CodeError
from .evaluation import DataWarning
from .evidence import on_or_after
from .model import Concept, ReviewDate, Ruleset
from .records import Record, is_active_on
from .results import Judge, current_results, favoured, not_rechecked, result_test
from .summary import Reading, Summary, rounded
from .thresholds import ThresholdError, is_difference, resolve_multiple, resolve_threshold

SCALE = 1_000_000  # numbers durable_rules compares are in millionths
MEASURE_PREFIX = "m_"  # a fact attribute that is a measure
Rounding = Literal["floor", "ceil", "exact"]
MeasuredAtom: TypeAlias = (
    Compare
    | Presence
    | AboveReference
    | Trend
    | Streak
    | MedicationState
    | CodedIs
    | Marked
    | RegionState
    | ResultTest
    | NotRechecked
)
# which way an inexact value may be rounded without changing the comparison's outcome:
# v >= T and v < T hold exactly when floor(v) does; v > T and v <= T when ceil(v) does
_ROUNDING: dict[str, Rounding] = {
    "<": "floor",
    ">=": "floor",
    ">": "ceil",
    "<=": "ceil",
    "=": "exact",
}
_ENDED = frozenset({"completed", "stopped"})
_CONFIRMED_FOR = Duration(12, "months")
_TREND_WORDS = {
    "rise": "rise",
    "rise-from-median": "rise from median",
    "rise-from-previous": "rise from previous",
    "fall": "fall",
    "ratio-to-lowest": "ratio to lowest",
    "ratio-to-median": "ratio to median",
    "percent-change": "percent change",
}


@dataclass(frozen=True, slots=True)
class Measure:
    """One measure a rule reads: the atom (with its durations resolved) and, for a number,
    how its value is rounded to an integer (None: a yes/no measure)."""

    key: str
    atom: MeasuredAtom
    rounding: Rounding | None
    threshold: Decimal | None = None  # a streak's threshold, which it tests itself
    multiple: Decimal | None = None  # above `multiple` times a reference range
    fallback: Decimal | None = None  # ... or the fallback limit, in the concept's unit
    start: Decimal | None = None  # a held comparison's start threshold


@dataclass(frozen=True, slots=True)
class Measured:
    """A measure's value for one patient, in words, with the readings it rests on."""

    value: Decimal
    words: str
    evidence: tuple[Reading, ...]


def is_measured(atom: Atom, ruleset: Ruleset) -> bool:
    """Whether `atom` reads a measure (anything beyond the summary's plain attributes)."""
    if isinstance(atom, Compare):
        concept = ruleset.concepts[atom.concept]
        return (
            atom.window is not None
            or atom.attribute not in ATTRIBUTES
            or (concept.kind == "demographic" and concept.field == "age")
            or (concept.ties == "any" and atom.attribute == "latest")
        )
    if isinstance(atom, Presence):
        return (
            atom.window is not None
            or atom.state == "recorded-absent"
            or atom.evidence is not None
            or atom.until is not None
        )
    return isinstance(
        atom,
        AboveReference
        | Trend
        | Streak
        | MedicationState
        | CodedIs
        | Marked
        | RegionState
        | ResultTest
        | NotRechecked,
    )


def measure_of(atom: MeasuredAtom, ruleset: Ruleset) -> tuple[Measure, int | None]:
    """The measure `atom` reads and the scaled integer it is compared with (None: the measure
    is yes/no and the atom holds when it is 1). Raises ThresholdError in clinical words."""
    resolved = _resolved(atom, ruleset)
    threshold: Decimal | None = None
    rounding: Rounding | None = None
    number: int | None = None
    multiple: Decimal | None = None
    fallback: Decimal | None = None
    start: Decimal | None = None
    if isinstance(atom, Streak):
        threshold = _decimal(_value_threshold(atom.concept, atom.op, atom.threshold, ruleset))
        if atom.start_op is not None and atom.start_threshold is not None:
            given = atom.start_threshold
            start = _decimal(_value_threshold(atom.concept, atom.start_op, given, ruleset))
    elif isinstance(atom, Compare | Trend):
        rounding = _ROUNDING[atom.op]
        number = round(_threshold(atom, ruleset) * SCALE)
    elif isinstance(atom, AboveReference):
        if atom.multiple is not None:
            multiple = _decimal(resolve_multiple(atom.multiple, ruleset))
        if atom.fallback is not None:
            fallback = _decimal(_value_threshold(atom.concept, ">", atom.fallback, ruleset))
    canonical = _canonical(resolved, rounding, threshold, (multiple, fallback, start))
    if isinstance(atom, Compare) and ruleset.concepts[atom.concept].ties == "any":
        # of tied results, the one most in the comparison's favour is read: its direction
        canonical += favoured_side(atom.op)
    key = MEASURE_PREFIX + hashlib.sha256(canonical.encode()).hexdigest()[:10]
    return Measure(key, resolved, rounding, threshold, multiple, fallback, start), number


def favoured_side(op: Op) -> str:
    return "lowest" if op in ("<", "<=") else "highest"


def concepts_read(measure: Measure) -> tuple[str, ...]:
    """The concepts whose readings `measure` reads: its own, its window's anchor, the
    medication a percent change follows, the group of an old result."""
    atom = measure.atom
    if isinstance(atom, NotRechecked):
        return atom.group
    window = getattr(atom, "window", None)
    since = atom.since if isinstance(atom, Trend) else None
    anchor = window.anchor if window is not None else None
    unstarted = atom.unstarted if isinstance(atom, Streak) else ()
    return tuple(name for name in (atom.concept, anchor, since, *unstarted) if name is not None)


def _canonical(
    atom: MeasuredAtom,
    rounding: Rounding | None,
    threshold: Decimal | None,
    limits: tuple[Decimal | None, ...],
) -> str:
    fields = {
        name: getattr(atom, name)
        for name in atom.__dataclass_fields__
        if name not in ("text", "path", "op", "threshold", "multiple", "fallback")
        and name != "start_threshold"
    }
    if isinstance(atom, Streak):
        fields["op"] = atom.op
    window = fields.get("window")
    if isinstance(window, Window):
        fields["window"] = (window.relation, str(window.length), window.anchor, str(window.near))
    extra = (threshold, *limits) if any(limit is not None for limit in limits) else threshold
    return repr((type(atom).__name__, sorted(fields.items(), key=str), rounding, extra))


def _resolved(atom: MeasuredAtom, ruleset: Ruleset) -> MeasuredAtom:
    """`atom` with every duration parameter it names replaced by its Duration."""
    window = getattr(atom, "window", None)
    if window is not None:
        resolved = replace(
            window, length=duration(window.length, ruleset), near=duration(window.near, ruleset)
        )
        atom = replace(atom, window=resolved)
    if isinstance(atom, Trend):
        atom = replace(
            atom,
            over=duration(atom.over, ruleset),
            gap=duration(atom.gap, ruleset),
            else_over=duration(atom.else_over, ruleset),
            else_gap=duration(atom.else_gap, ruleset),
        )
    if isinstance(atom, Streak) and atom.lasting is not None:
        atom = replace(
            atom,
            lasting=duration(atom.lasting, ruleset),
            lasting_most=duration(atom.lasting_most, ruleset),
        )
    return atom


def duration(length: Duration | str | None, ruleset: Ruleset) -> Duration | None:
    """A window's or trend's length: as written, or the value of the duration parameter it
    names. Raises ThresholdError for a name that is no duration parameter."""
    if length is None or isinstance(length, Duration):
        return length
    parameter = ruleset.parameters.get(length)
    if parameter is None:
        raise ThresholdError(f"{length!r} is neither a duration nor a parameter")
    try:
        return from_ucum(parameter.value, parameter.unit)
    except ValueError as error:
        raise ThresholdError(f"parameter {length} ({parameter.text}): {error}") from None


def _threshold(atom: Compare | Trend, ruleset: Ruleset) -> float:
    concept = ruleset.concepts[atom.concept]
    if isinstance(atom, Trend) and not is_difference(atom.measure):
        value, unit = _quantity(atom.threshold, ruleset)
        if unit not in ("1", "%"):
            raise ThresholdError(
                f"{atom.concept} {_TREND_WORDS[atom.measure]} is a plain number; "
                f"{atom.threshold} has a unit ({unit})"
            )
        return value
    if isinstance(atom, Compare) and concept.field == "age":
        value, unit = _quantity(atom.threshold, ruleset)
        if unit == "1":
            return value
        try:
            return units.convert(value, unit, "a")
        except units.UnitError:
            raise ThresholdError(
                f"{atom.concept} is an age in years; {atom.threshold} is not"
            ) from None
    if isinstance(atom, Trend):
        return _value_threshold(atom.concept, atom.op, atom.threshold, ruleset)
    return resolve_threshold(atom, ruleset)


def _value_threshold(concept: str, op: Op, threshold: str, ruleset: Ruleset) -> float:
    return resolve_threshold(Compare(concept, "latest", op, threshold, threshold, ()), ruleset)


def _quantity(threshold: str, ruleset: Ruleset) -> tuple[float, str]:
    parameter = ruleset.parameters.get(threshold)
    if parameter is not None:
        return parameter.value, parameter.unit
    try:
        return units.parse_quantity(threshold)
    except units.UnitError:
        raise ThresholdError(f"{threshold!r} is neither a parameter nor a number") from None


def scaled_value(value: Decimal, rounding: Rounding) -> int | None:
    """`value` in millionths, rounded as `rounding` says; None when an exact value is wanted
    and it has more places (it then equals no threshold)."""
    scaled = value * SCALE
    if rounding == "floor":
        return int(scaled.to_integral_value(ROUND_FLOOR))
    if rounding == "ceil":
        return int(scaled.to_integral_value(ROUND_CEILING))
    return int(scaled) if scaled == scaled.to_integral_value() else None


def _decimal(value: float) -> Decimal:
    """A value as the decimal it was written as (its shortest text), not its binary value."""
    return Decimal(repr(value))


def _meets(value: Decimal, op: str, threshold: Decimal) -> bool:
    if op == "<":
        return value < threshold
    if op == "<=":
        return value <= threshold
    if op == ">":
        return value > threshold
    if op == ">=":
        return value >= threshold
    return value == threshold


# -- windows -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Interval:
    """The times a window admits: [start, end] (end excluded when `open_end`), or, after a
    medication's start, those whose calendar date is after `after`, up to `end`."""

    start: datetime | None
    end: datetime
    open_end: bool = False
    after: date | None = None
    begins_after: bool = False  # (start, end]: a reading must begin after the start
    undated: bool = False  # only readings with no date

    def contains(self, time: datetime, zone: tzinfo) -> bool:
        return self.overlaps(time, time, zone)

    def overlaps(self, first: datetime, last: datetime, zone: tzinfo) -> bool:
        if self.undated:
            return False
        if first > self.end or (self.open_end and first == self.end):
            return False
        if self.after is not None:
            return local_date(last, zone) > self.after
        if self.begins_after:
            return self.start is not None and first > self.start
        return self.start is None or last >= self.start


class Context:
    """What measures read for one patient: every summary, the evaluation time and the
    ruleset's calendar."""

    def __init__(
        self,
        ruleset: Ruleset,
        summaries: Mapping[str, Summary],
        as_of: datetime,
        warnings: list[DataWarning] | None = None,
    ):
        self.ruleset = ruleset
        self.summaries = summaries
        self.as_of = as_of
        self.warnings = warnings if warnings is not None else []  # data a measure cannot read
        self.zone = zone_of(ruleset.time_zone)
        self._anchors: dict[str, datetime | None] = {}

    @cached_property
    def judge(self) -> Judge:
        return Judge(self.ruleset, self.warnings)

    @cached_property
    def today(self) -> date:
        return local_date(self.as_of, self.zone)

    def anchor(self, name: str) -> datetime | None:
        """The time of concept `name`'s latest current reading (ties rule applied); for a
        medication, the latest start of its active drug groups. None: no such reading."""
        if name not in self._anchors:
            summary = self.summaries.get(name)
            time: datetime | None = None
            date_ = self.ruleset.dates.get(name)
            if date_ is not None:
                time = self._latest_of(date_)
            elif summary is not None and summary.concept.kind == "medication":
                starts = [start.time for _, start in self.groups(summary) if start is not None]
                time = max((t for t in starts if t is not None), default=None)
            elif summary is not None:
                latest = current(summary)
                time = latest.record.time if latest is not None else None
            self._anchors[name] = time
        return self._anchors[name]

    def _latest_of(self, named: ReviewDate) -> datetime | None:
        reading = self.dated_by(named.name)
        return reading.record.time if reading is not None else None

    def dated_by(self, name: str) -> Reading | None:
        """The record a named date is the date of: the latest present, dated record of its
        concepts within its window (None: no such record, or `name` is no date)."""
        named = self.ruleset.dates.get(name)
        if named is None:
            return None
        within = duration(named.within, self.ruleset)
        assert within is not None
        start = within.before(self.as_of, self.zone)
        found = [
            r
            for concept in named.concepts
            if (summary := self.summaries.get(concept)) is not None
            for r in summary.history
            if r.record.present
            and r.record.time is not None
            and start <= r.record.time <= self.as_of
        ]
        return max(found, key=_time_and_source, default=None)

    def interval(self, window: Window) -> Interval | None:
        """The times `window` admits; None when its anchor has no reading (an empty window)."""
        if window.relation == "undated":
            return Interval(None, self.as_of, undated=True)
        length = window.length
        assert length is None or isinstance(length, Duration), "resolved by measure_of"
        if window.anchor is None:
            assert length is not None
            return Interval(length.before(self.as_of, self.zone), self.as_of)
        anchor = self.anchor(window.anchor)
        if anchor is None:
            return None
        if window.relation == "after-start":
            return Interval(None, self.as_of, after=self.anchor_date(window.anchor))
        assert length is not None
        if window.relation == "after":
            end = min(length.after(anchor, self.zone), self.as_of)
            return Interval(anchor, end, begins_after=True)
        start = length.before(anchor, self.zone)
        if window.relation == "of":
            return Interval(start, min(length.after(anchor, self.zone), self.as_of))
        if window.relation == "before":
            near = window.near
            assert near is None or isinstance(near, Duration), "resolved by measure_of"
            if near is not None:
                return Interval(start, near.before(anchor, self.zone))
            return Interval(start, anchor, open_end=True)
        return Interval(start, self.as_of)  # since

    def anchor_date(self, name: str) -> date | None:
        """The calendar date of `anchor(name)`: for a medication, the latest start date of its
        active drug groups, a date-only start being its own date in every time zone."""
        summary = self.summaries.get(name)
        if summary is not None and summary.concept.kind == "medication":
            return latest_start_date((name,), self)
        anchor = self.anchor(name)
        if anchor is None:
            return None
        latest = current(summary) if summary is not None else None
        date_only = latest is not None and latest.record.time == anchor and latest.record.date_only
        return calendar_date(anchor, self.zone, date_only)

    def date_of(self, record: Record) -> date:
        """The calendar date of a dated record, in the ruleset's zone (a date-only value is its
        own date)."""
        assert record.time is not None
        return calendar_date(record.time, self.zone, record.date_only)

    def groups(self, summary: Summary) -> list[tuple[list[Record], Record | None]]:
        """A medication's active drug groups (records grouped by `code`), each with the record
        of its latest start: the therapy's first record, or one with a product new to it."""
        grouped: dict[str, list[Record]] = {}
        for reading in summary.history:
            if not reading.record.present:
                continue
            grouped.setdefault(reading.record.code or "", []).append(reading.record)
        result = []
        for records in grouped.values():
            if not any(self.active(r) for r in records):
                continue
            dated = sorted((r for r in records if r.time), key=lambda r: (r.time, r.source))
            starts = dated[:1]
            products: set[str] = set()
            for record in dated:
                if record.product and record.product not in products:
                    starts.append(record)
                    products.add(record.product)
            result.append((records, max(starts, key=_start_order, default=None)))
        return result

    def active(self, record: Record) -> bool:
        return is_active_on(record, self.today, self.zone)


def current(summary: Summary) -> Reading | None:
    """The latest current reading: the latest valued one, else the latest present one (of a
    coded concept's answers at that time, one its `ties` names wins)."""
    if summary.latest is not None:
        return summary.latest
    if not summary.present:
        return None
    last = summary.present[-1]  # in time order, undated first
    winners = {code.key for code in summary.concept.tie_answers}
    if not winners or last.record.time is None:
        return last
    tied = [r for r in summary.present if r.record.time == last.record.time]
    return next((r for r in reversed(tied) if _answer_key(r) in winners), last)


def _answer_key(reading: Reading) -> tuple[str, str] | None:
    try:
        return parse_code(reading.record.answer or "").key
    except CodeError:
        return None


# -- computing -------------------------------------------------------------------------------


def compute(measure: Measure, summary: Summary, context: Context) -> Measured | None:
    """The value of `measure` for the patient whose concept summary is `summary`."""
    atom = measure.atom
    window = getattr(atom, "window", None)
    interval: Interval | None = None
    if window is not None:
        interval = context.interval(window)
        if interval is None:
            return None
    return _COMPUTE[type(atom)](measure, summary, context, interval)


def _in(readings: Iterable[Reading], interval: Interval | None, zone: tzinfo) -> list[Reading]:
    if interval is None:
        return list(readings)
    return [
        r for r in readings if r.record.time is not None and interval.contains(r.record.time, zone)
    ]


def _overlapping(
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


def _valued(summary: Summary, interval: Interval | None) -> list[Reading]:
    """The readings with a value an atom reads: a window reaches past the lookback."""
    return summary.history_valued if interval is not None else summary.ordered


def _present(summary: Summary, interval: Interval | None) -> list[Reading]:
    if interval is None:
        return summary.present
    return [r for r in summary.history if r.record.present]


def _unit(concept: Concept) -> str:
    return f" {units.display(concept.unit)}" if concept.unit else ""


def _number(value: Decimal) -> str:
    text = f"{value.normalize():f}" if value == value.to_integral_value() else f"{value:f}"
    if "." in text and len(text.split(".")[1]) > 3:
        text = f"{round(value, 3).normalize():f}"
    return text


def _yes(words: str, evidence: Iterable[Reading]) -> Measured:
    return Measured(Decimal(1), words, tuple(evidence))


def _window_words(atom: MeasuredAtom) -> str:
    window = getattr(atom, "window", None)
    if window is None:
        return ""
    length = str(window.length) if window.length is not None else None
    # a length given as a parameter is shown with its value
    return (
        f" {window.text} ({length})" if length and length not in window.text else f" {window.text}"
    )


def _compare(
    measure: Measure, summary: Summary, context: Context, interval: Interval | None
) -> Measured | None:
    atom = measure.atom
    assert isinstance(atom, Compare)
    concept = summary.concept
    where = _window_words(atom)
    if concept.field == "age":
        return _age(summary, context)
    if atom.attribute in ("count", "sites", "span", "regions"):
        present = _overlapping(_present(summary, interval), interval, context, concept.kind)
        if atom.attribute == "count":
            count = len({r.record.source for r in present})
            return Measured(Decimal(count), f"count {count}{where}", tuple(present))
        if atom.attribute == "sites":
            sited = [r for r in present if r.site]
            count = len({r.site for r in sited})
            return Measured(Decimal(count), f"{count} sites{where}", tuple(sited))
        if atom.attribute == "regions":
            counted = [r for r in present if regions.place_of(r.record, context.ruleset).region]
            count = regions.region_count((r.record for r in counted), context.ruleset)
            return Measured(Decimal(count), f"{count} body regions{where}", tuple(counted))
        times = [r.record.time for r in present if r.record.time]
        if not times:
            return None
        days = Decimal(repr((max(times) - min(times)).total_seconds())) / 86400
        return Measured(days, f"span {_number(days)} days{where}", tuple(present))
    readings = _in(_valued(summary, interval), interval, context.zone)
    if not readings:
        return None
    unit = _unit(concept)
    if atom.attribute == "median":
        value = _median([_decimal(_val(r)) for r in readings])
        words = f"median {_number(value)}{unit}{where} of {len(readings)} results"
        return Measured(value, words, tuple(readings))
    if atom.attribute == "previous":
        before = previous(readings)
        if before is None:
            return None
        chosen = before
    elif atom.attribute == "lowest":
        chosen = min(readings, key=_val)
    elif atom.attribute == "highest":
        chosen = max(readings, key=_val)
    elif interval is None and concept.ties == "any":
        chosen = favoured(current_results(summary), atom.op)
    else:
        chosen = readings[-1]
    value = _decimal(_val(chosen))
    return Measured(value, f"{atom.attribute} {_number(value)}{unit}{where}", (chosen,))


def _val(reading: Reading) -> float:
    assert reading.value is not None, "valued readings only"
    return reading.value


def _time(reading: Reading) -> datetime:
    assert reading.record.time is not None, "dated readings only"
    return reading.record.time


def _median(values: list[Decimal]) -> Decimal:
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def _age(summary: Summary, context: Context) -> Measured | None:
    born = [r for r in summary.history if r.record.present and r.record.time is not None]
    if not born:
        return None
    reading = born[-1]
    record = reading.record
    assert record.time is not None
    birth = calendar_date(record.time, context.zone, record.date_only)
    years = completed_years(birth, context.today)
    return Measured(Decimal(years), f"{years} years", (reading,))


def _presence(
    measure: Measure, summary: Summary, context: Context, interval: Interval | None
) -> Measured | None:
    atom = measure.atom
    assert isinstance(atom, Presence)
    kind = summary.concept.kind
    if interval is not None and interval.undated:
        present = [r for r in summary.history if r.record.present and r.record.time is None]
    else:
        present = _overlapping(_present(summary, interval), interval, context, kind)
    if atom.site is not None:
        present = [r for r in present if r.site == atom.site]
    if atom.evidence is not None:
        present = [r for r in present if r.record.evidence_class == atom.evidence]
    where = _window_words(atom)
    if atom.until is not None:
        return _all_before(atom, atom.until, present, context)
    if atom.evidence is not None:
        where = f" ({atom.evidence}){where}"
    if atom.state == "present":
        return _yes(f"present{where}", present) if present else None
    history = summary.history if interval is not None else summary.absent
    if interval is not None and interval.undated:
        absent = [r for r in history if not r.record.present and r.record.time is None]
    else:
        absent = _overlapping([r for r in history if not r.record.present], interval, context, kind)
    if atom.evidence is not None:
        absent = [r for r in absent if r.record.evidence_class == atom.evidence]
    if atom.state == "absent":
        return _yes(f"recorded absent{where}", absent) if absent and not present else None
    if atom.state == "recorded-absent":  # present does not win here
        return _yes(f"recorded absent{where}", absent) if absent else None
    return _yes(f"recorded{where}", present + absent) if present or absent else None


def _region_state(
    measure: Measure, summary: Summary, context: Context, interval: Interval | None
) -> Measured | None:
    atom = measure.atom
    assert isinstance(atom, RegionState)
    present = _overlapping(_present(summary, interval), interval, context, summary.concept.kind)
    records = [r.record for r in present]
    where = _window_words(atom)
    if atom.state == "focal":
        focal = regions.is_focal(records, context.ruleset)
        return _yes(f"focal{where}", present) if focal else None
    if regions.side_state(records, context.ruleset) != atom.state:
        return None
    sides = regions.side_words(regions.sides_seen(records, context.ruleset))
    return _yes(f"{atom.state.replace('-', ' ')} ({sides}){where}", present)


def _time_and_source(reading: Reading) -> tuple[datetime, str]:
    assert reading.record.time is not None
    return reading.record.time, reading.record.source


def _all_before(
    atom: Presence, until: str, present: list[Reading], context: Context
) -> Measured | None:
    """Present, and every such record dated on or before the date `until` (by calendar date
    when either states only a date; undated ones count as before it); None when there is no
    such date."""
    summary = context.summaries.get(until)
    review = context.dated_by(until) or (current(summary) if summary is not None else None)
    record = review.record if review is not None else None
    if review is None or record is None or record.time is None or not present:
        return None
    zone = context.ruleset.time_zone
    if any(r.record.time is not None and not on_or_after(record, r.record, zone) for r in present):
        return None
    shown = calendar_date(record.time, context.zone, record.date_only).isoformat()
    words = f"present, all on or before {until.replace('_', ' ')} ({shown})"
    return _yes(words, [*present, review])  # the record that dates it is evidence too


def _above(
    measure: Measure, summary: Summary, context: Context, interval: Interval | None
) -> Measured | None:
    """Above (a multiple of) its own reference range: the latest value, or any in the window."""
    if interval is None:
        readings = current_results(summary)  # with `ties: any`, every one at the latest time
    else:
        readings = _in(summary.history_valued, interval, context.zone)
    for reading in reversed(readings):
        found = _above_one(measure, reading, summary.concept, context)
        if found is not None:
            return found
    return None


def _above_one(
    measure: Measure, reading: Reading, concept: Concept, context: Context
) -> Measured | None:
    high = reading.record.reference_high
    limit: Decimal | None = None
    if high is not None:
        try:
            converted = units.convert(
                float(high.value),
                high.unit,
                concept.unit or "1",
                molar_mass=concept.molar_mass,
                valence=concept.valence,
                same_as=concept.same_as,
            )
            if concept.decimals is not None:  # rounded as the values are
                converted = rounded(converted, concept.decimals)
            limit = _decimal(converted)
        except units.UnitError:
            instead = "" if measure.fallback is None else f"; {_number(measure.fallback)} used"
            message = (
                f"{concept.name} reference range high {high} cannot be converted to "
                f"{concept.unit or 'a plain number'}; reference range ignored{instead}"
            )
            context.warnings.append(DataWarning(message, reading.record.source))
    source = f"high {high}" if limit is not None else None
    if limit is None:
        if measure.fallback is None:
            return None
        limit = measure.fallback
        source = f"no usable reference range: {_number(limit)}{_unit(concept)} used"
    multiple = measure.multiple if measure.multiple is not None else Decimal(1)
    value = _decimal(_val(reading))
    if value <= multiple * limit:
        return None
    times = f"{_number(multiple)} times " if measure.multiple is not None else ""
    words = f"{_number(value)}{_unit(concept)}, above {times}its reference range ({source})"
    return _yes(words, (reading,))


def _marked(
    measure: Measure, summary: Summary, context: Context, interval: Interval | None
) -> Measured | None:
    atom = measure.atom
    assert isinstance(atom, Marked)
    reading = current(summary) if atom.reading == "latest" else previous(summary.ordered)
    if reading is None or atom.marker not in reading.record.markers:
        return None
    prefix = "previous result " if atom.reading == "previous" else ""
    return _yes(f"{prefix}marked {atom.marker}", (reading,))


def previous(readings: list[Reading]) -> Reading | None:
    """The latest of `readings` (in time order) dated before the last one."""
    if not readings or readings[-1].record.time is None:
        return None
    earlier = [r for r in readings if r.record.time is not None and _time(r) < _time(readings[-1])]
    return earlier[-1] if earlier else None


def _coded(
    measure: Measure, summary: Summary, context: Context, interval: Interval | None
) -> Measured | None:
    atom = measure.atom
    assert isinstance(atom, CodedIs)
    readings = [
        r for r in _in(_present(summary, interval), interval, context.zone) if r.record.answer
    ]
    if interval is None:
        latest = current(summary)
        readings = [latest] if latest is not None and latest.record.answer else []
    systems = context.ruleset.code_systems
    matching = [r for r in readings if _same_answer(r.record.answer or "", atom.value, systems)]
    if not matching:
        return None
    return _yes(f"is {atom.value}{_window_words(atom)}", matching[-1:])


def _same_answer(answer: str, wanted: str, systems: Mapping[str, str]) -> bool:
    """Whether a recorded answer is the one a rule names: codes by system and code (never
    display), plain values (`female`) ignoring case."""
    if "#" in answer and "#" in wanted:
        try:
            return parse_code(answer, systems).key == parse_code(wanted, systems).key
        except CodeError:
            pass
    return answer.casefold() == wanted.casefold()


def _streak(
    measure: Measure, summary: Summary, context: Context, interval: Interval | None
) -> Measured | None:
    atom = measure.atom
    assert isinstance(atom, Streak) and measure.threshold is not None
    readings = _in(_valued(summary, interval), interval, context.zone)
    if atom.lasting is not None:
        return _lasting(atom, measure, readings, summary, context)
    last = readings[-atom.count :]
    if atom.count < 1 or len(last) < atom.count:
        return None
    if not all(_meets(_decimal(_val(r)), atom.op, measure.threshold) for r in last):
        return None
    values = ", ".join(f"{_number(_decimal(_val(r)))}" for r in last)
    return _yes(f"last {atom.count} results {values}{_unit(summary.concept)}", last)


def _lasting(
    atom: Streak, measure: Measure, readings: list[Reading], summary: Summary, context: Context
) -> Measured | None:
    """`egfr < 60 for 90 days`: the latest reading meets the comparison, so does one dated at
    least `lasting` before it (of any age, or at most `lasting_most` before it, meeting the
    start comparison when there is one), and none dated strictly between them fails it."""
    lasting, most, threshold = atom.lasting, atom.lasting_most, measure.threshold
    assert isinstance(lasting, Duration), "resolved by measure_of"
    assert most is None or isinstance(most, Duration), "resolved by measure_of"
    assert threshold is not None, "a streak's threshold"
    dated = [r for r in readings if r.record.time is not None]
    if not dated:
        return None
    latest = dated[-1]
    if not _meets(_decimal(_val(latest)), atom.op, threshold):
        return None
    at = _time(latest)
    cutoff = lasting.before(at, context.zone)
    oldest = most.before(at, context.zone) if most is not None else None
    history = [r for r in summary.history_valued if r.record.time is not None]

    def starts(reading: Reading) -> bool:
        value = _decimal(_val(reading))
        return _meets(value, atom.op, threshold) and (
            atom.start_op is None
            or measure.start is None
            or _meets(value, atom.start_op, measure.start)
        )

    started = latest_start_date(atom.unstarted, context)

    def unstarted_since(reading: Reading) -> bool:
        return started is None or started <= _date(reading, context)

    # the latest qualifying earlier reading leaves the fewest readings between, and the fewest
    # medicine starts after it: when any earlier reading qualifies, it does
    earlier = [
        r
        for r in history
        if _time(r) <= cutoff
        and (oldest is None or _time(r) >= oldest)
        and starts(r)
        and unstarted_since(r)
    ]
    if not earlier:
        return None
    first = earlier[-1]
    between = [r for r in history if _time(first) < _time(r) < at]
    if any(not _meets(_decimal(_val(r)), atom.op, threshold) for r in between):
        return None
    values = f"{_number(_decimal(_val(first)))} → {_number(_decimal(_val(latest)))}"
    span = f"{lasting} to {most}" if most is not None else str(lasting)
    words = f"{atom.op} {atom.threshold} for {span}: {values}{_unit(summary.concept)}"
    if atom.unstarted:
        *others, last = atom.unstarted  # as the condition names them
        names = f"{', '.join(others)} or {last}" if others else last
        words += f", no {names} started after {_date(first, context).isoformat()}"
    return _yes(words, (first, *between, latest))


def _start_order(record: Record) -> tuple[datetime, str]:
    assert record.time is not None
    return record.time, record.source


def latest_start_date(concepts: Iterable[str], context: Context) -> date | None:
    """The latest calendar date on which an active drug group of any of the medication
    `concepts` started (its therapy start or a new product); None when none has."""
    dates = [
        context.date_of(start)
        for name in concepts
        if (summary := context.summaries.get(name)) is not None
        for _, start in context.groups(summary)
        if start is not None
    ]
    return max(dates, default=None)


def _date(reading: Reading, context: Context) -> date:
    """The calendar date of a dated reading (a date-only value is its own date)."""
    return calendar_date(_time(reading), context.zone, reading.record.date_only)


def _trend(
    measure: Measure, summary: Summary, context: Context, interval: Interval | None
) -> Measured | None:
    atom = measure.atom
    assert isinstance(atom, Trend) and measure.rounding is not None
    if atom.measure == "percent-change":
        return _percent_change(atom, summary, context)
    judged = _in(_valued(summary, interval), interval, context.zone)
    if interval is None:
        judged = judged[-1:]
    best: Measured | None = None
    # existential over the judged readings: the result most in the comparison's favour counts
    larger = atom.op in (">", ">=", "=")
    for reading in judged:
        found = _change(atom, reading, summary, context)
        if found is not None and (
            best is None or (found.value > best.value if larger else found.value < best.value)
        ):
            best = found
    return best


def _change(atom: Trend, judged: Reading, summary: Summary, context: Context) -> Measured | None:
    """The trend at one judged reading: its own measure, or, when it has no comparator, the
    `else` measure over its own range."""
    across = atom.across_codes
    found = _change_by(atom.measure, atom.over, atom.gap, judged, summary, context, across)
    if found is None and atom.else_measure is not None:
        if _comparators(atom.over, atom.gap, judged, summary, context, across):
            return None  # the first measure had comparators: no fallback
        return _change_by(
            atom.else_measure, atom.else_over, atom.else_gap, judged, summary, context, across
        )
    return found


def _comparators(
    over: Duration | str | None,
    gap: Duration | str | None,
    judged: Reading,
    summary: Summary,
    context: Context,
    across_codes: bool = False,
) -> list[Reading]:
    """The readings of `judged`'s own code (any of the concept's codes when `across_codes`)
    dated in [t - over, t - gap] (t excluded without a gap; any earlier without `over`)."""
    assert over is None or isinstance(over, Duration), "resolved by measure_of"
    assert gap is None or isinstance(gap, Duration), "resolved by measure_of"
    at = _time(judged)
    start = over.before(at, context.zone) if over is not None else None  # None: any earlier
    end = gap.before(at, context.zone) if gap is not None and gap.amount else None
    return [
        r
        for r in summary.history_valued  # comparators may be older than the lookback
        if (across_codes or r.record.code == judged.record.code)
        and r.record.time is not None
        and (start is None or r.record.time >= start)
        and (r.record.time <= end if end is not None else r.record.time < at)
    ]


def _change_by(
    measure: TrendMeasure,
    over: Duration | str | None,
    gap: Duration | str | None,
    judged: Reading,
    summary: Summary,
    context: Context,
    across_codes: bool,
) -> Measured | None:
    comparators = _comparators(over, gap, judged, summary, context, across_codes)
    if not comparators:
        return None
    assert over is None or isinstance(over, Duration), "resolved by measure_of"
    assert gap is None or isinstance(gap, Duration), "resolved by measure_of"
    value = _decimal(_val(judged))
    unit = _unit(summary.concept)
    evidence: tuple[Reading, ...]
    if measure in ("rise", "fall", "rise-from-previous"):
        if measure == "rise":
            base = min(comparators, key=_val)
        elif measure == "fall":
            base = max(comparators, key=_val)
        else:
            base = comparators[-1]  # in time order, the ties rule applied
        change = _decimal(_val(base)) - value if measure == "fall" else value - _decimal(_val(base))
        evidence = (base, judged)
        amount = f"{_number(change)}{unit}"
    elif measure == "rise-from-median":
        change = value - _median([_decimal(_val(r)) for r in comparators])
        evidence = (*comparators, judged)
        amount = f"{_number(change)}{unit}"
    else:
        if measure == "ratio-to-lowest":
            base = min(comparators, key=_val)
            denominator = _decimal(_val(base))
            evidence = (base, judged)
        else:
            denominator = _median([_decimal(_val(r)) for r in comparators])
            evidence = (*comparators, judged)
        if denominator <= 0:
            return None
        change = value / denominator
        amount = _number(change)
    arrow = " → ".join(r.record.source for r in evidence[-2:])
    words = f"{_TREND_WORDS[measure]} {amount}{_range(over, gap)} ({arrow})"
    return Measured(change, words, evidence)


def _range(over: Duration | None, gap: Duration | None) -> str:
    """` over 1 to 12 hours`, ` over 48 hours`, or nothing without a range."""
    if over is None:
        return ""
    if gap is None or not gap.amount:
        return f" over {over}"
    start = str(gap.amount) if gap.unit == over.unit else str(gap)
    return f" over {start} to {over}"


def _percent_change(atom: Trend, summary: Summary, context: Context) -> Measured | None:
    if atom.since is None:
        return None
    started = context.anchor(atom.since)
    if started is None:
        return None
    start_date = local_date(started, context.zone)
    dated = [r for r in summary.history_valued if r.record.time is not None]
    after = [r for r in dated if local_date(_time(r), context.zone) > start_date]
    if not after:
        return None
    # the baseline: on or before the start date, and no earlier than `over` before it
    over = atom.over
    assert over is None or isinstance(over, Duration), "resolved by measure_of"
    earliest = local_date(over.before(started, context.zone), context.zone) if over else None
    baseline = [
        r
        for r in dated
        if local_date(_time(r), context.zone) <= start_date
        and (earliest is None or local_date(_time(r), context.zone) >= earliest)
    ]
    if not baseline:
        return None
    # of results at one time, the pair most in the comparison's favour counts (like a trend's
    # judged readings): for a fall, the higher baseline and the lower follow-up
    pairs = [
        (base, latest, (_decimal(_val(latest)) - _decimal(_val(base))) * 100 / _decimal(_val(base)))
        for base in _at_last_time(baseline)
        for latest in _at_last_time(after)
        if _val(base) != 0
    ]
    if not pairs:
        return None
    larger = atom.op in (">", ">=", "=")
    base, latest, change = (max if larger else min)(pairs, key=lambda pair: pair[2])
    words = (
        f"percent change {_number(change)}% after {atom.since.replace('_', ' ')} started "
        f"({base.record.source} → {latest.record.source})"
    )
    return Measured(change, words, (base, latest))


def _at_last_time(readings: list[Reading]) -> list[Reading]:
    """The readings dated at the time of the last of `readings` (in time order)."""
    last = _time(readings[-1])
    return [r for r in readings if _time(r) == last]


def _medication(
    measure: Measure, summary: Summary, context: Context, interval: Interval | None
) -> Measured | None:
    atom = measure.atom
    assert isinstance(atom, MedicationState)
    records = [r for r in summary.history if r.record.present]
    active = [r for r in records if context.active(r.record)]
    where = _window_words(atom)
    if atom.state == "active":
        return _yes("active", active) if active else None
    if atom.state == "confirmed":
        since = _CONFIRMED_FOR.before(context.as_of, context.zone)
        confirmed = [
            r
            for r in active
            if r.record.asserted is None
            or local_date(r.record.asserted, context.zone) >= local_date(since, context.zone)
        ]
        return _yes("active and confirmed", confirmed) if confirmed else None
    if atom.state == "started":
        started = [
            (records_, start)
            for records_, start in context.groups(summary)
            if start is not None and _on_a_day_in(context.date_of(start), interval, context)
        ]
        if not started:
            return None
        evidence = [r for r in records if any(r.record in group for group, _ in started)]
        return _yes(f"started{where}", evidence)
    if active:
        return None
    if atom.state == "on-hold":
        held = [r for r in records if r.record.status == "on-hold"]
        return _yes("on hold", held) if held else None
    ended = []
    for reading in records:
        record = reading.record
        end = record.end or (record.time if record.status in _ENDED else None)
        if (
            end is not None
            and end <= context.as_of
            and _on_a_day_in(local_date(end, context.zone), interval, context)
        ):
            ended.append(reading)
    return _yes(f"ended{where}", ended) if ended else None


def _on_a_day_in(day: date, interval: Interval | None, context: Context) -> bool:
    """Whether the calendar date `day` is within the window's dates (in the ruleset's zone)."""
    if interval is None:
        return True
    if interval.after is not None:
        return day > interval.after and day <= local_date(interval.end, context.zone)
    first = local_date(interval.start, context.zone) if interval.start else date.min
    return first <= day <= local_date(interval.end, context.zone)


def _result(
    measure: Measure, summary: Summary, context: Context, interval: Interval | None
) -> Measured | None:
    atom = measure.atom
    if isinstance(atom, ResultTest):
        found = result_test(summary, atom, context.judge)
    else:
        assert isinstance(atom, NotRechecked)
        found = not_rechecked(atom, context.summaries, context.as_of, context.zone, context.judge)
    return None if found is None else _yes(found.words, found.evidence)


_Compute = Callable[[Measure, Summary, Context, Interval | None], Measured | None]
_COMPUTE: dict[type, _Compute] = {
    Compare: _compare,
    Presence: _presence,
    AboveReference: _above,
    Marked: _marked,
    CodedIs: _coded,
    Streak: _streak,
    Trend: _trend,
    MedicationState: _medication,
    RegionState: _region_state,
    ResultTest: _result,
    NotRechecked: _result,
}
