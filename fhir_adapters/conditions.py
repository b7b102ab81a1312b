"""Validated Conditions as engine `Record`s.

A Condition is a present finding while active, recurrence or relapse (no clinicalStatus:
counts), absent when refuted; one that is over (resolved, inactive, remission) is left out with
a warning, and so is one entered in error. Its time is its onset (`onsetDateTime`, else
`onsetPeriod.start`); for a concept some rule reads within a time window (or anchors one on),
else its `recordedDate`, and one with neither is left out with a warning, as it cannot be
placed in the window (unless a rule reads it `undated`). A Condition that abated before its
onset is left out with a warning. For a concept with evidence classes, its verificationStatus
gives the record's class.
"""

from __future__ import annotations

from datetime import datetime

from fhir.resources.R4B.condition import Condition

from engine.evaluation import DataWarning
from engine.evidence import of_condition
from engine.model import Ruleset
from engine.records import Record

from .body_sites import body_sites
from .codings import meant, pairs, status_code
from .concept_codes import compact, read_undated, windowed
from .fhir_times import (
    ContradictoryTime,
    Warn,
    date_only,
    in_order,
    moment,
    period,
    shown,
    time_value,
)
from .moments import is_date_only

__all__ = ["condition_records"]

_ONGOING = frozenset({"active", "recurrence", "relapse"})
_OVER = frozenset({"inactive", "remission", "resolved"})
_PROVISIONAL = frozenset({"unconfirmed", "provisional", "differential"})


def condition_records(
    condition: Condition, source: str, ruleset: Ruleset
) -> tuple[list[Record], list[DataWarning]]:
    warnings: list[DataWarning] = []

    def warn(message: str) -> None:
        warnings.append(DataWarning(message, source))

    verification = status_code(condition.verificationStatus)
    if verification == "entered-in-error":
        warn("verificationStatus 'entered-in-error': ignored")
        return [], warnings
    clinical = status_code(condition.clinicalStatus)
    if clinical is not None and clinical not in _ONGOING | _OVER:
        warn(f"clinicalStatus {clinical!r} is not one Vigil reads: ignored")
        return [], warnings
    matched = meant(ruleset, "Condition", pairs(condition.code), warn)
    if not matched:
        return [], warnings
    present = verification != "refuted"
    if present and clinical in _OVER:
        # The spec counts active, recurrence and relapse only: a condition that is over is not
        # a present finding, and its history must not lengthen a span.
        warn(f"clinicalStatus {clinical!r}: a condition that is over is not a present finding")
        return [], warnings
    timed = windowed(ruleset)
    needs_time = [m.concept for m in matched if m.concept.name in timed]
    # a counting finding is present now whatever its date: undated, it is only in no window
    keeps_undated = present and clinical in _ONGOING | {None}
    needs_time = [c for c in needs_time if not (keeps_undated and c.kind == "finding")]
    windowed_findings = bool(needs_time) or any(
        m.concept.name in timed and m.concept.kind == "finding" for m in matched
    )
    try:
        time, dated_by = _onset(condition, warn, recorded=windowed_findings)
        abated, end = _abatement(condition, warn)
        _check_abatement(condition)
    except ContradictoryTime as problem:
        warn(str(problem))
        return [], warnings
    # a concept some rule reads `undated` keeps it: it is in no window, but counts as undated
    unplaced = [c for c in needs_time if c.name not in read_undated(ruleset)]
    if time is None and unplaced:
        named = ", ".join(concept.label for concept in unplaced)
        warn(
            f"no onset or recordedDate: a rule reads {named} within a time window,"
            " so it is left out"
        )
        matched = [m for m in matched if m.concept not in unplaced]
    # no clinicalStatus counts as active: only resolved, inactive or remission ends it
    ongoing = present and clinical in _ONGOING | {None} and not abated
    dateless = (
        date_only(condition, "onset")
        if dated_by == "onset"
        else is_date_only(condition.recordedDate)
    )
    records = [
        Record(
            concept=m.concept.name,
            source=source,
            time=time,
            present=present,
            end=end if present else None,
            ongoing=ongoing,
            site=site,
            laterality=sides,
            preliminary=verification in _PROVISIONAL,
            date_only=dateless,
            code=compact(m.code, ruleset),
            evidence_class=of_condition(m.concept, verification) if m.concept.evidence else None,
        )
        for m in matched
        for site, sides in body_sites(condition.bodySite, ruleset, warn) or [(None, frozenset())]
    ]
    return records, warnings


def _onset(condition: Condition, warn: Warn, *, recorded: bool) -> tuple[datetime | None, str]:
    """The onset, and the prefix of the element it was read from (`onset`, `recorded`)."""
    if condition.onsetDateTime is not None:
        return moment(condition.onsetDateTime, "onsetDateTime", warn), "onset"
    if condition.onsetPeriod is not None:
        return period(condition.onsetPeriod, "onsetPeriod", warn)[0], "onset"
    for kind in ("Age", "Range", "String"):
        if getattr(condition, f"onset{kind}", None) is not None:
            if recorded and condition.recordedDate is not None:
                break
            warn(f"onset{kind} is not read: onset unknown")
            return None, "onset"
    if recorded and condition.recordedDate is not None:
        return moment(condition.recordedDate, "recordedDate", warn), "recorded"
    if not recorded:  # else the caller says the condition is left out for want of a date
        warn("no onset[x]: onset unknown")
    return None, "onset"


def _abatement(condition: Condition, warn: Warn) -> tuple[bool, datetime | None]:
    """(abated at all, when). An abatement Period's start is when the condition had ended; an
    abatement date, like a Period's end, covers its whole day."""
    if condition.abatementDateTime is not None:
        return True, moment(condition.abatementDateTime, "abatementDateTime", warn, last=True)
    if condition.abatementPeriod is not None:
        start, end = period(condition.abatementPeriod, "abatementPeriod", warn)
        return True, start or end
    for kind in ("Age", "Range", "String"):
        if getattr(condition, f"abatement{kind}", None) is not None:
            warn(f"abatement{kind} is not read: abatement time unknown")
            return True, None
    return False, None


def _check_abatement(condition: Condition) -> None:
    """Raise `ContradictoryTime` when the condition abated before its onset."""
    onset, abatement = time_value(condition, "onset"), time_value(condition, "abatement")
    if onset is None or abatement is None or in_order(onset[1], abatement[1]):
        return
    (began, start), (ended, end) = onset, abatement
    raise ContradictoryTime(f"{ended} ({shown(end)}) is before {began} ({shown(start)}): left out")
