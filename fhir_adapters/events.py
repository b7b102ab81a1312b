"""Validated Procedures, Encounters and ServiceRequests as records of `event` concepts.

An event concept names the resource type it reads (`Concept.resource`) and the statuses that
count (`Concept.statuses`; by default a Procedure completed or in progress, a ServiceRequest
active or completed, an Encounter finished or in progress). Codes: a Procedure's and a
ServiceRequest's `code`, an Encounter's `type` and `serviceType`. Times: a Procedure's
`performedDateTime` or `performedPeriod`, an Encounter's `period`, a ServiceRequest's
`authoredOn`, else `occurrenceDateTime`, else `occurrencePeriod.start`; an event still in
progress without an end is ongoing. A ServiceRequest of intent proposal or option (a
suggestion, such as a card's own draft) never counts. A resource of an event concept in a
status that does not count, or without a time, is left out with a warning. A resource means
only the event concepts of its own type, whatever other types share its code.
"""

from __future__ import annotations

from datetime import datetime

from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.encounter import Encounter
from fhir.resources.R4B.procedure import Procedure
from fhir.resources.R4B.servicerequest import ServiceRequest

from engine.evaluation import DataWarning
from engine.model import Concept, Ruleset
from engine.records import Record

from .codings import meant, pairs
from .concept_codes import compact
from .fhir_times import ContradictoryTime, Warn, date_only, moment, period
from .moments import is_date_only

__all__ = ["DEFAULT_STATUSES", "EVENT_MODELS", "Event", "event_records"]

Event = Procedure | Encounter | ServiceRequest
EVENT_MODELS = (Procedure, Encounter, ServiceRequest)

DEFAULT_STATUSES: dict[str, tuple[str, ...]] = {
    "Procedure": ("completed", "in-progress"),
    "ServiceRequest": ("active", "completed"),
    "Encounter": ("finished", "in-progress"),
}
_IN_PROGRESS = frozenset({"in-progress", "active"})
_NOT_ORDERED = frozenset({"proposal", "option"})


def event_records(
    event: Event, source: str, ruleset: Ruleset
) -> tuple[list[Record], list[DataWarning]]:
    warnings: list[DataWarning] = []

    def warn(message: str) -> None:
        warnings.append(DataWarning(message, source))

    kind = event.get_resource_type()
    matched = meant(ruleset, kind, pairs(*_codes(event)), warn)
    status = event.status or ""
    if matched and isinstance(event, ServiceRequest) and event.intent in _NOT_ORDERED:
        named = ", ".join(m.concept.label for m in matched)
        warn(f"intent {event.intent!r} (not an order) does not count for {named}: left out")
        return [], warnings
    counted = [m for m in matched if status in _statuses(m.concept, kind)]
    if matched and not counted:
        named = ", ".join(m.concept.label for m in matched)
        warn(f"status {status!r} does not count for {named}: left out")
    if not counted:
        return [], warnings
    try:
        time, end, dateless = _when(event, warn)
    except ContradictoryTime as problem:
        warn(str(problem))
        return [], warnings
    if time is None:
        named = ", ".join(m.concept.label for m in counted)
        warn(f"no date: {named} cannot be placed in time, so it is left out")
        return [], warnings
    records = [
        Record(
            concept=m.concept.name,
            source=source,
            time=time,
            end=end,
            ongoing=end is None and status in _IN_PROGRESS and kind != "ServiceRequest",
            date_only=dateless,
            code=compact(m.code, ruleset),
            status=status,
        )
        for m in counted
    ]
    return records, warnings


def _statuses(concept: Concept, kind: str) -> tuple[str, ...]:
    return concept.statuses or DEFAULT_STATUSES.get(kind, ())


def _codes(event: Event) -> list[CodeableConcept | None]:
    if isinstance(event, Encounter):
        return [*(event.type or []), event.serviceType]
    return [event.code]


def _when(event: Event, warn: Warn) -> tuple[datetime | None, datetime | None, bool]:
    """(time, end, whether the time is a date alone)."""
    if isinstance(event, Procedure):
        if event.performedDateTime is not None:
            when = moment(event.performedDateTime, "performedDateTime", warn)
            return when, None, date_only(event, "performed")
        if event.performedPeriod is not None:
            start, end = period(event.performedPeriod, "performedPeriod", warn)
            return start, end, date_only(event, "performed")
        for other in ("String", "Age", "Range"):
            if getattr(event, f"performed{other}", None) is not None:
                warn(f"performed{other} is not read: time unknown")
        return None, None, False
    if isinstance(event, Encounter):
        if event.period is None:
            return None, None, False
        start, end = period(event.period, "period", warn)
        value = event.period.start if event.period.start is not None else event.period.end
        return start, end, is_date_only(value)
    if event.authoredOn is not None:
        return moment(event.authoredOn, "authoredOn", warn), None, is_date_only(event.authoredOn)
    if event.occurrenceDateTime is not None:
        when = moment(event.occurrenceDateTime, "occurrenceDateTime", warn)
        return when, None, is_date_only(event.occurrenceDateTime)
    if event.occurrencePeriod is not None and event.occurrencePeriod.start is not None:
        start = moment(event.occurrencePeriod.start, "occurrencePeriod.start", warn)
        return start, None, is_date_only(event.occurrencePeriod.start)
    return None, None, False
