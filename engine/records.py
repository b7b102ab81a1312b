"""What the engine evaluates: records of clinical concepts, free of FHIR.

An adapter (FHIR, a database, a test) turns its data into `Record`s: one per observation of a
concept, with its value and unit as recorded, its time, and the reference of the source it came
from. The engine summarises them per concept, relative to the evaluation time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from .clock import Moment, local_date


@dataclass(frozen=True, slots=True)
class Quantity:
    value: float
    unit: str  # UCUM code, or an unambiguous spelling of one

    def __str__(self) -> str:
        return f"{self.value:g} {self.unit}"


@dataclass(frozen=True, slots=True)
class Record:
    """One observation of a concept.

    `present` is True for a finding that is there, False for one recorded as absent (evidence
    against, never for). `value` is a `Quantity` for a measurement, a plain number for a score or
    grade, or None for a bare finding. `time` is when it was observed (timezone-aware); `end` closes
    an interval (a Period, a Condition's abatement); `ongoing` marks an interval still open at
    evaluation time (an active Condition). `site` is a body-site code (`sct#53840002`),
    `laterality` the sides its qualifier names.
    `reference_low` is the lower limit of the result's own reference range, in `value`'s unit.
    `date_only` says `time` is a date's midnight UTC: the date states no offset, so it may have
    begun up to `clock.DATE_OFFSET_SLACK` earlier (`moment` is `time` with that precision).

    A medication record's `time` is its start (authoredOn, effective start), `end` its supply
    or period end, `code` its drug group. A demographic record of age has the birth date's
    midnight as `time`; one of sex has the administrative gender as `answer`.
    """

    concept: str
    source: str
    time: datetime | None = None
    present: bool = True
    value: Quantity | float | int | None = None
    end: datetime | None = None
    ongoing: bool = False
    site: str | None = None
    reference_low: Quantity | None = None
    preliminary: bool = False
    date_only: bool = False
    # what the adapter matched: the coding (`loinc#2823-3`; for a medication its drug group's
    # key), the coded answer or demographic value (`female`, `sct#426177001`)
    code: str | None = None
    answer: str | None = None
    reference_high: Quantity | None = None
    markers: frozenset[str] = frozenset()  # names of the concept's markers the result carries
    notes: tuple[str, ...] = ()  # the result's note texts, for the card
    # medications and events: the resource's status; a medication's product key (a new one is
    # a new start) and when a statement was last asserted
    status: str | None = None
    product: str | None = None
    asserted: datetime | None = None
    # a medication's coding display, to name its drug group on a card (never matched on)
    display: str | None = None
    # the side(s) the body site's laterality qualifier states: "left", "right" or both; a site
    # whose code names its side (left lower limb) keeps that side whatever this says
    laterality: frozenset[str] = frozenset()
    # the kind of evidence a finding's record is, one of its concept's evidence classes
    # (`examined`, `reported`): from an Observation's category or a Condition's verification
    evidence_class: str | None = None

    @property
    def moment(self) -> Moment | None:
        """`time` as precise as it was recorded (a day for `date_only`), or None when undated."""
        return None if self.time is None else Moment.of(self.time, self.date_only)


def is_active_on(record: Record, today: date, zone: tzinfo) -> bool:
    """A medication record in use on `today`: status active, and no supply or period end
    before that date in `zone`."""
    return record.status == "active" and (
        record.end is None or local_date(record.end, zone) >= today
    )
