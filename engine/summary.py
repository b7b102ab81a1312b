"""Per-concept summaries of a patient's records, relative to the evaluation time.

This is where clinical time lives: a record counts only if it was made on or before `as_of`,
and (when the concept has a lookback) no longer ago than the lookback; an ongoing record (an
active Condition) is current whatever its date, or with none. A record dated after a
defaulted `as_of` (now) is left out with a warning: nothing can have been observed later than
now. A date (`Record.date_only`) is after `as_of` only if it had begun nowhere on Earth by then:
today's date east of UTC is not in the future (`clock.is_after`). An interval is known only up
to `as_of`: an end after it does not lengthen a span.
Results older than the lookback are not current; for the concepts a window or a trend reads
they are kept apart (`Summary.earlier`), for those measures only.
durable_rules never sees a clock.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property

from . import units
from .clock import (
    DATE_END_SLACK,
    DATE_OFFSET_SLACK,
    Moment,
    calendar_date,
    is_after,
    may_coincide,
    zone_of,
)
from .codes import parse_code
from .evaluation import DataWarning
from .model import Concept, Ruleset
from .records import Quantity, Record
from .regions import not_at_its_site


@dataclass(frozen=True, slots=True)
class Reading:
    """A record that counts, with its value in the concept's canonical unit."""

    record: Record
    value: float | None
    site: str | None  # the ruleset's site name, or the code itself


@dataclass
class Summary:
    """What a patient's records say about one concept. Built by `summarise`, then read only:
    the derived properties are computed once."""

    concept: Concept
    present: list[Reading] = field(default_factory=list)
    absent: list[Reading] = field(default_factory=list)
    valued: list[Reading] = field(default_factory=list)  # current readings with a value
    as_of: datetime | None = None
    zone: str = "UTC"  # the ruleset's calendar: which results share a date
    # readings older than the lookback: not current, read only by windows and trends
    earlier: list[Reading] = field(default_factory=list)
    # preliminary results of a concept that keeps them apart (`Concept.preliminary`), current
    # only for conditions `including preliminary`
    preliminary: list[Reading] = field(default_factory=list)
    # the measures computed for the session, by fact attribute: their words and evidence
    measured: dict[str, tuple[str, list[Reading]]] = field(default_factory=dict)

    @property
    def is_present(self) -> bool:
        return bool(self.present)

    @property
    def is_absent(self) -> bool:
        return not self.present and bool(self.absent)

    @property
    def is_current(self) -> bool:
        """Whether any reading is current (within the lookback)."""
        return bool(self.present or self.absent)

    @cached_property
    def ordered(self) -> list[Reading]:
        """The valued readings in time order; of readings at one time, the one the concept's
        `ties` rule makes the latest (the highest or the lowest value) comes last."""
        return _in_order(self.valued, self.concept, self.zone)

    @cached_property
    def history(self) -> list[Reading]:
        """Every reading, current or older than the lookback, in time order."""
        return sorted(self.present + self.absent + self.earlier, key=_chronological)

    @cached_property
    def history_valued(self) -> list[Reading]:
        """Every present reading with a value, current or older, ordered as `ordered`."""
        older = [r for r in self.earlier if r.record.present and r.value is not None]
        return _in_order(sorted(self.valued + older, key=_chronological), self.concept, self.zone)

    @cached_property
    def latest(self) -> Reading | None:
        return self.ordered[-1] if self.ordered else None

    @cached_property
    def lowest(self) -> Reading | None:
        return min(self.valued, key=lambda r: (r.value, _chronological(r)), default=None)

    @cached_property
    def highest(self) -> Reading | None:
        return max(self.valued, key=lambda r: (r.value, _chronological(r)), default=None)

    @cached_property
    def count(self) -> int:
        """How many records say present: a resource read as several (a Condition at two body
        sites) is one record of the finding, not one per site."""
        return len({r.record.source for r in self.present})

    @cached_property
    def sites(self) -> set[str]:
        return {r.site for r in self.present if r.site}

    @cached_property
    def first(self) -> datetime | None:
        times = [r.record.time for r in self.present if r.record.time]
        return min(times, default=None)

    @cached_property
    def last(self) -> datetime | None:
        ends = [_end(r.record, self.as_of) for r in self.present if r.record.time]
        return max((e for e in ends if e), default=None)

    @cached_property
    def span_days(self) -> float:
        first, last = self.first, self.last
        # a date begun east of UTC by as_of starts after it in UTC, where the span stops
        return max(0.0, (last - first).total_seconds() / 86400) if first and last else 0.0

    @cached_property
    def below_reference(self) -> bool:
        return self.below_reading is not None

    @cached_property
    def below_reading(self) -> Reading | None:
        """The latest result if below its own reference range (with `ties: any`, the lowest
        such of the results at the latest time)."""
        latest = self.latest
        if latest is None:
            return None
        tied = [latest]
        if self.concept.ties == "any" and latest.record.time is not None:
            tied = [r for r in self.valued if _may_coincide(r.record, latest.record)]
        below = []
        for reading in tied:
            if reading.value is None or reading.record.reference_low is None:
                continue
            low, _ = _reference_low(reading.record, self.concept)
            if low is not None and reading.value < low:
                below.append(reading)
        return min(below, key=lambda r: (r.value, _chronological(r))) if below else None


def latest_present_date(summary: Summary, zone: str, among: Collection[str] = ()) -> date | None:
    """The local calendar date (in `zone`) of the latest dated record saying present: of those
    whose source is in `among` (a rule's evidence: its window's records) when any is, else of
    the current ones. None when none is dated."""
    chosen = [r for r in summary.history if r.record.present and r.record.source in among]
    dated = [r.record for r in (chosen or summary.present) if r.record.time is not None]
    if not dated:
        return None
    latest = max(dated, key=lambda record: (record.time or _UNDATED, record.source))
    assert latest.time is not None
    return calendar_date(latest.time, zone_of(zone), latest.date_only)


_UNDATED = datetime(1, 1, 1, tzinfo=UTC)


def _in_order(readings: list[Reading], concept: Concept, zone: str) -> list[Reading]:
    """`readings` (in time order) with the concept's ties rule applied: of results at one
    time, and of every result of the latest date when one of them is date-only (it cannot be
    ordered against the others), the highest (or lowest) value comes last."""
    ties = concept.ties
    if ties is None or ties == "any" or not readings:
        return readings
    sign = 1.0 if ties == "highest" else -1.0
    ordered = sorted(
        readings,
        key=lambda r: (r.record.time or _UNDATED, sign * (r.value or 0.0), _chronological(r)),
    )
    last = ordered[-1].record
    if last.time is None:
        return ordered
    calendar = zone_of(zone)
    day = calendar_date(last.time, calendar, last.date_only)
    same_day = [
        r
        for r in ordered
        if r.record.time is not None
        and calendar_date(r.record.time, calendar, r.record.date_only) == day
    ]
    if not any(r.record.date_only for r in same_day):
        return ordered
    chosen = max(same_day, key=lambda r: (sign * (r.value or 0.0), _chronological(r)))
    return [r for r in ordered if r is not chosen] + [chosen]


# a start and an end read from dates, which state no offset, may seem out of order by this much
_INVERTED = DATE_OFFSET_SLACK + DATE_END_SLACK
_NONE = float("-inf")


def _chronological(reading: Reading) -> tuple[datetime, str, float, float, str, bool]:
    # Results of one source at one time (contradictory data) still order the same way whatever
    # order they arrive in: then by value, reference limit, site and status.
    record = reading.record
    value = reading.value if reading.value is not None else _NONE
    low = record.reference_low.value if record.reference_low is not None else _NONE
    return (
        record.time or _UNDATED,
        record.source,
        value,
        low,
        record.site or "",
        record.preliminary,
    )


def _end(record: Record, as_of: datetime | None) -> datetime | None:
    """When the record stopped being true, as known at `as_of`: an end after `as_of` (a
    Period still open then, or 9999-12-31 written for "open") is not known yet."""
    if record.ongoing and as_of is not None:
        return as_of
    end = record.end or record.time
    return min(end, as_of) if end is not None and as_of is not None else end


def _canonical(quantity: Quantity, concept: Concept) -> float | None:
    return convert_for(float(quantity.value), quantity.unit, concept.unit or "1", concept)


def convert_for(value: float, from_unit: str, to_unit: str, concept: Concept) -> float | None:
    """`value` in `from_unit` converted to `to_unit` for `concept` (its molar mass, valence,
    same-as and accepted units), or None when there is no certain conversion."""
    try:
        return units.convert(
            value,
            from_unit,
            to_unit,
            molar_mass=concept.molar_mass,
            valence=concept.valence,
            same_as=concept.same_as,
            accepted=concept.accepted_units,
        )
    except units.UnitError:
        return None


def summarise(
    records: Iterable[Record],
    ruleset: Ruleset,
    as_of: datetime,
    *,
    as_of_is_now: bool = False,
    history: frozenset[str] = frozenset(),
) -> tuple[dict[str, Summary], list[DataWarning]]:
    """Summaries of every concept that has at least one record that counts. `as_of_is_now`
    says the caller gave no evaluation time: a record dated later is then a data error. The
    concepts named in `history` also keep their records older than the lookback (`earlier`),
    and have a summary when they have only those."""
    summaries: dict[str, Summary] = {}
    warnings: list[DataWarning] = []
    for record in records:
        concept = ruleset.concepts[record.concept]
        if concept.sited_codes and (elsewhere := not_at_its_site(record, concept, ruleset)):
            warnings.append(DataWarning(elsewhere, record.source))
            continue
        time = record.time
        if time is not None and time > as_of and is_after(Moment.of(time, record.date_only), as_of):
            # Recorded after the evaluation time: not known then. Before a chosen past time that
            # is expected; after now, the date is wrong and the reader must know.
            if as_of_is_now:
                warnings.append(_from_the_future(record, concept, time))
            continue
        if time is not None and record.end is not None and time - record.end > _INVERTED:
            # as the FHIR reader does with a Period or Condition that ends before it starts
            warnings.append(
                DataWarning(
                    f"{concept.name} ends ({record.end.isoformat()}) before it starts "
                    f"({time.isoformat()}): left out",
                    record.source,
                )
            )
            continue
        kept_apart = record.preliminary and concept.preliminary == "candidates"
        # an ongoing record (an active Condition) is current whatever its date, even undated
        if concept.lookback is not None and not (time is None and record.ongoing):
            if time is None:
                warnings.append(
                    DataWarning(
                        f"{concept.name} has no date, so it cannot be current", record.source
                    )
                )
                continue
            end = _end(record, as_of) or time
            if as_of - end > concept.lookback:  # as a difference: year 1 cannot overflow it
                if concept.name not in history or kept_apart:
                    continue
                # not current, but a window or a trend's comparators may reach it
                value, _ = _value(record, concept)
                summary = summaries.setdefault(
                    concept.name, Summary(concept, as_of=as_of, zone=ruleset.time_zone)
                )
                summary.earlier.append(Reading(record, value, _site(record, ruleset)))
                continue
        value, warning = _value(record, concept)
        if warning is None and value is not None:
            _, warning = _reference_low(record, concept)
        if warning:
            warnings.append(warning)
        reading = Reading(record, value, _site(record, ruleset))
        summary = summaries.setdefault(
            concept.name, Summary(concept, as_of=as_of, zone=ruleset.time_zone)
        )
        if kept_apart:
            if value is not None and record.present:
                summary.preliminary.append(reading)
            continue
        if record.present:
            summary.present.append(reading)
        else:
            summary.absent.append(reading)
        if value is not None and record.present:
            summary.valued.append(reading)
    for summary in summaries.values():  # the same records in any order read the same
        _prefer(summary, ruleset)
        for readings in (
            summary.present,
            summary.absent,
            summary.valued,
            summary.earlier,
            summary.preliminary,
        ):
            readings.sort(key=_chronological)
        conflict = _simultaneous_latest(summary)
        if conflict is not None:
            warnings.append(conflict)
    return summaries, warnings


def _prefer(summary: Summary, ruleset: Ruleset) -> None:
    """While a current valued result has one of the concept's preferred codes (adjusted over
    total calcium), the current results of its other codes are not read."""
    if not summary.concept.prefer:
        return
    if not any(is_preferred(r, summary.concept, ruleset) for r in summary.valued):
        return
    summary.valued[:] = [r for r in summary.valued if is_preferred(r, summary.concept, ruleset)]
    summary.present[:] = [r for r in summary.present if is_preferred(r, summary.concept, ruleset)]


def is_preferred(reading: Reading, concept: Concept, ruleset: Ruleset) -> bool:
    """Whether the reading's code is one of the concept's preferred codes (`prefer`)."""
    code = reading.record.code
    if code is None or not concept.prefer:
        return False
    try:
        key = parse_code(code, ruleset.code_systems).key
    except ValueError:
        return False  # not a code: none of the preferred
    return any(key == wanted.key for wanted in concept.prefer)


def _from_the_future(record: Record, concept: Concept, time: datetime) -> DataWarning:
    return DataWarning(
        f"{concept.name} is dated {time.isoformat()}, after now: left out", record.source
    )


def _simultaneous_latest(summary: Summary) -> DataWarning | None:
    """A warning when the latest readings share their time (or may: a date and a time on that
    day) but not their value: which one is the latest is then the data's ambiguity, not a fact,
    and the reader must know."""
    latest = summary.latest
    if latest is None or latest.record.time is None:
        return None
    tied = [r for r in summary.valued if _may_coincide(r.record, latest.record)]
    if len({r.value for r in tied}) < 2:
        return None
    if summary.concept.ties:
        return None  # the ruleset says which of simultaneous results is the latest
    unit = f" {summary.concept.unit}" if summary.concept.unit else ""
    values = ", ".join(f"{_number(r.value)}{unit} ({r.record.source})" for r in tied)
    same = all(r.record.time == latest.record.time for r in tied)
    when = (
        "at the same time" if same else "that may be at the same time (a date gives no time of day)"
    )
    return DataWarning(
        f"{summary.concept.name}: results {when} disagree ({values});"
        f" {latest.record.source} is read as the latest",
        latest.record.source,
    )


def _may_coincide(one: Record, other: Record) -> bool:
    """Whether two records' times may be the same moment (`clock.may_coincide`)."""
    first, second = one.moment, other.moment
    return first is not None and second is not None and may_coincide(first, second)


def _number(value: float | None) -> str:
    return f"{value:g}" if value is not None else "?"


def _value(record: Record, concept: Concept) -> tuple[float | None, DataWarning | None]:
    raw = record.value
    if raw is None or isinstance(raw, bool):
        return None, None
    if isinstance(raw, int | float):
        if not math.isfinite(raw):
            return None, DataWarning(f"{concept.name} value {raw} is not a number", record.source)
        if concept.unit is not None:
            return None, DataWarning(
                f"{concept.name} value {raw} has no unit (expected {concept.unit}); value left out",
                record.source,
            )
        if concept.decimals is not None:
            return rounded(float(raw), concept.decimals), None
        return float(raw), None
    if not math.isfinite(raw.value):
        return None, DataWarning(f"{concept.name} value {raw} is not a number", record.source)
    if units.is_known(raw.unit) and (reason := units.impossible(raw.value, raw.unit)):
        return None, DataWarning(f"{concept.name} value {reason}; value left out", record.source)
    value = _canonical(raw, concept)
    if value is not None and concept.decimals is not None:
        value = rounded(value, concept.decimals)
    if value is None:
        return None, DataWarning(
            f"{concept.name} value {raw} cannot be converted to {concept.unit or 'a plain number'}"
            "; value left out",
            record.source,
        )
    return value, None


def canonical_value(record: Record, concept: Concept) -> float | None:
    """A record's value as the engine compares it: in the concept's canonical unit, rounded as
    the concept says; None for a record without a usable value."""
    return _value(record, concept)[0]


def rounded(value: float, decimals: int) -> float:
    """`value` rounded half-up to `decimals` places, in decimal (6.485 -> 6.49, as written)."""
    exact = Decimal(repr(value)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    return float(exact)


def _reference_low(record: Record, concept: Concept) -> tuple[float | None, DataWarning | None]:
    """The record's reference range low limit in the concept's unit, or None with a warning
    when it cannot be one (as `_value` judges a value): a range is ignored, never guessed."""
    low = record.reference_low
    if low is None:
        return None, None
    if not math.isfinite(low.value):
        reason = f"{low} is not a number"
    elif units.is_known(low.unit) and (impossible := units.impossible(low.value, low.unit)):
        reason = impossible
    elif (number := _canonical(low, concept)) is None:
        reason = f"{low} cannot be converted to {concept.unit or 'a plain number'}"
    else:
        # rounded as values are, so a limit and a value written alike compare equal
        return (rounded(number, concept.decimals) if concept.decimals is not None else number), None
    message = f"{concept.name} reference range low {reason}; reference range ignored"
    return None, DataWarning(message, record.source)


def _site(record: Record, ruleset: Ruleset) -> str | None:
    if not record.site:
        return None
    code = parse_code(record.site, ruleset.code_systems)  # checked by inputs.check_records
    return ruleset.site_for(code.system, code.code) or f"{code.system}#{code.code}"
