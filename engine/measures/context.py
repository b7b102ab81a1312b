"""One patient's evaluation context for measures: summaries, the evaluation time, the
ruleset's calendar, the windows conditions name, and medicines' drug groups and starts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from functools import cached_property

from ..clock import Duration, calendar_date, local_date, zone_of
from ..codes import parse_code
from ..conditions import Window
from ..errors import CodeError
from ..evaluation import DataWarning
from ..model import ReviewDate, Ruleset
from ..records import Record, is_active_on
from ..results import Judge, Thresholds
from ..summary import Reading, Summary
from .definition import duration


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
        thresholds: Thresholds | None = None,
    ):
        """`thresholds`: the ruleset's thresholds resolved so far, shared by evaluations (see
        `Judge`); None resolves them anew for this context."""
        self.ruleset = ruleset
        self.summaries = summaries
        self.as_of = as_of
        self.warnings = warnings if warnings is not None else []  # data a measure cannot read
        self.thresholds = thresholds
        self.zone = zone_of(ruleset.time_zone)
        self._anchors: dict[str, datetime | None] = {}

    @cached_property
    def judge(self) -> Judge:
        return Judge(self.ruleset, self.warnings, self.thresholds)

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


def _time_and_source(reading: Reading) -> tuple[datetime, str]:
    assert reading.record.time is not None
    return reading.record.time, reading.record.source


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
