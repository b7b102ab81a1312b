"""Kinds of evidence a finding's records are (`examined`, `reported`), and which stop counting.

A concept's `evidence` classes say which kind a record is, from the codes an adapter hands
over: an Observation's category codes, a Condition's verification status; the first class
that fits wins, and a record no class fits has none. A concept's `scores` turn a score's
records (an MRC grade) into records of the finding. A concept's `superseded` rules drop a
present record of one class once a record of another, recorded absent, is dated on or after
it, at no body site or at one sharing a region with it. Nothing here names a clinical concept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace

from . import units
from .clock import calendar_date, zone_of
from .codes import parse_code
from .errors import CodeError
from .model import Concept, Ruleset, ScoreEvidence, Supersession
from .records import Quantity, Record
from .summary import Reading, Summary

NONE = "none"  # the element is absent
OTHER = "other"  # categories none of which another class lists

# Whether two records' body sites share a body region (both records have a site). Part D's
# `engine.regions.share_a_region` has this signature.
SharesRegion = Callable[[Record, Record, Ruleset], bool]


def same_site(one: Record, other: Record, ruleset: Ruleset) -> bool:
    """The region test used until body regions are known: the very same site code."""
    # SEAM(part D, body regions): once engine.regions is merged, the evaluator passes
    # engine.regions.share_a_region to `supersede` instead (same class; same side, or either
    # side unknown).
    return _site_key(one, ruleset) == _site_key(other, ruleset)


def _site_key(record: Record, ruleset: Ruleset) -> object:
    try:
        return parse_code(record.site or "", ruleset.code_systems).key
    except CodeError:
        return record.site


def of_observation(concept: Concept, categories: Iterable[str]) -> str | None:
    """The evidence class of an Observation with these category codes, or None."""
    codes = frozenset(categories)
    listed = frozenset(c for k in concept.evidence for c in k.categories)
    for kind in concept.evidence:
        if codes & kind.categories:
            return kind.name
        if not codes and NONE in kind.categories:
            return kind.name
        if codes and not codes & listed and OTHER in kind.categories:
            return kind.name
    return None


def of_condition(concept: Concept, verification: str | None) -> str | None:
    """The evidence class of a Condition with this verification status, or None."""
    status = verification or NONE
    return next((k.name for k in concept.evidence if status in k.verifications), None)


def with_scores(records: Sequence[Record], ruleset: Ruleset) -> list[Record]:
    """`records` and, for each finding concept's `scores`, a record of the finding for each
    score record its comparison holds for (same source, time and site)."""
    rules = [(c.name, s) for c in ruleset.concepts.values() for s in c.scores]
    if not rules:
        return list(records)
    extra = [
        replace(
            record,
            concept=finding,
            present=rule.present,
            value=None,
            evidence_class=rule.evidence,
        )
        for record in records
        for finding, rule in rules
        if record.concept == rule.score and _holds(record, rule)
    ]
    return [*records, *extra]


def _holds(record: Record, rule: ScoreEvidence) -> bool:
    value: object = record.value
    if isinstance(value, Quantity):  # a unit-less quantity, as a score's value may be written
        try:
            value = units.convert(float(value.value), value.unit, "1")
        except units.UnitError:
            return False
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return {
        "<": value < rule.value,
        "<=": value <= rule.value,
        ">": value > rule.value,
        ">=": value >= rule.value,
        "=": value == rule.value,
    }[rule.op]


def supersede(
    summaries: dict[str, Summary], ruleset: Ruleset, shares_region: SharesRegion = same_site
) -> dict[str, Summary]:
    """The summaries with superseded present readings left out (of concepts that say so)."""
    result = dict(summaries)
    for name, summary in summaries.items():
        rules = summary.concept.superseded
        if not rules:
            continue
        kept = [
            r
            for r in summary.present
            if not any(
                _superseded(r, rule, summary.absent, shares_region, ruleset) for rule in rules
            )
        ]
        if len(kept) == len(summary.present):
            continue
        dropped = {id(r) for r in summary.present} - {id(r) for r in kept}
        result[name] = replace(
            summary,
            present=kept,
            valued=[r for r in summary.valued if id(r) not in dropped],
        )
    return result


def _superseded(
    reading: Reading,
    rule: Supersession,
    absent: Sequence[Reading],
    shares_region: SharesRegion,
    ruleset: Ruleset,
) -> bool:
    record = reading.record
    if record.evidence_class != rule.superseded or record.time is None:
        return False  # an undated record is never superseded
    for other in absent:
        later = other.record
        if later.evidence_class != rule.by or later.time is None:
            continue
        if not on_or_after(later, record, ruleset.time_zone):
            continue
        if other.site is None:
            return True
        if reading.site is not None and shares_region(record, later, ruleset):
            return True
    return False


def on_or_after(later: Record, earlier: Record, zone: str) -> bool:
    """Whether `later` is dated on or after `earlier`: by calendar date when either states
    only a date."""
    assert later.time is not None and earlier.time is not None
    if later.date_only or earlier.date_only:
        calendar = zone_of(zone)
        return calendar_date(later.time, calendar, later.date_only) >= calendar_date(
            earlier.time, calendar, earlier.date_only
        )
    return later.time >= earlier.time
