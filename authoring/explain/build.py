"""Explain evaluations: each patient's records are evaluated once (`Evaluator.examine`) and
that evaluation, with the facts its session saw, is what is explained."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from engine import Evaluator, Ruleset, load_ruleset
from engine.clock import calendar_date, zone_of
from engine.evaluation import DataWarning
from engine.explanation import number
from engine.summary import Reading, Summary
from engine.why_not import Examined, value_words, why_not
from fhir_adapters import PatientResult
from fhir_adapters.patients import patient_records
from fhir_adapters.reading import Input, Loaded

from .model import (
    ConceptSummary,
    Explanation,
    FiredRule,
    MatchedFact,
    NotFired,
    PatientExplanation,
    Value,
)


class PatientNotFound(LookupError):
    """`--patient` names no patient of the input."""


def explain(
    ruleset: Ruleset | str | Path,
    data: Input | Loaded,
    as_of: datetime | None = None,
    *,
    now: datetime | None = None,
    patient: str | None = None,
) -> Explanation:
    """Evaluate every patient of FHIR `data` (as `vigil evaluate` reads it) against `ruleset`
    at `as_of` (default `now`, else the clock) and explain each evaluation; `patient` (an id,
    or `Patient/<id>`) keeps one patient. Raises `PatientNotFound` when it names none."""
    rules = ruleset if isinstance(ruleset, Ruleset) else load_ruleset(ruleset)
    evaluator = Evaluator(rules)
    batch = patient_records(data, rules)
    patients = batch.patients
    if patient is not None:
        wanted = patient if patient.startswith("Patient/") else f"Patient/{patient}"
        patients = tuple(p for p in patients if p.patient == wanted)
        if not patients:
            known = ", ".join(p.patient for p in batch.patients[:5]) or "none"
            raise PatientNotFound(f"no {wanted} in the input (patients: {known})")
    if as_of is None and now is None:
        now = datetime.now(UTC)  # one time for every patient
    explained = []
    when = as_of or now
    for data_of in patients:
        examined = evaluator.examine(data_of.records, as_of, now=now)
        when = examined.evaluation.as_of
        explained.append(explain_examined(data_of.patient, examined, data_of.warnings))
    assert when is not None
    return Explanation(rules.id, rules.version, when.isoformat(), tuple(explained))


def explain_result(result: PatientResult) -> PatientExplanation | None:
    """A result of `evaluate_patients(..., examine=True)` explained (its warnings are in its
    evaluation already); None for a result evaluated without `examine`."""
    if result.session is None:
        return None
    return explain_examined(result.patient, Examined(result.evaluation, result.session))


def explain_examined(
    patient: str, examined: Examined, warnings: tuple[DataWarning, ...] = ()
) -> PatientExplanation:
    """One patient's examined evaluation explained: `warnings` about their FHIR data first."""
    evaluation, session = examined.evaluation, examined.session
    ruleset = session.ruleset
    summaries = [
        _summary(name, session.summaries.get(name), ruleset)
        for name in ruleset.concepts
        if name in session.concepts
    ]
    said = {s.rule: s.summary for s in evaluation.suggestions}
    fired = tuple(
        FiredRule(
            f.rule,
            f.title,
            tuple(MatchedFact(m.kind, m.name, m.values, m.sources) for m in f.matched),
            f.derived,
            f.suggested,
            said.get(f.rule),
        )
        for f in evaluation.trace
    )
    rules = {r.id: r for r in ruleset.rules}
    not_fired = []
    for miss in why_not(session):
        rule = rules.get(miss.rule)
        then = rule.then if rule is not None else None
        not_fired.append(
            NotFired(
                miss.rule,
                miss.title,
                then.suggest if then is not None else None,
                then.derive if then is not None else None,
                miss.checks,
                miss.failing,
                miss.alternatives,
            )
        )
    return PatientExplanation(
        patient,
        evaluation.escalation,
        tuple(summaries),
        fired,
        tuple(not_fired),
        tuple(str(w) for w in (*warnings, *evaluation.warnings)),
    )


def _summary(name: str, summary: Summary | None, ruleset: Ruleset) -> ConceptSummary:
    concept = ruleset.concepts[name]
    title = concept.title or name.replace("_", " ")
    if summary is None:
        return ConceptSummary(name, title, concept.kind, concept.unit, False)
    zone = ruleset.time_zone

    def value(reading: Reading | None) -> Value | None:
        if reading is None or reading.value is None:
            return None
        time = reading.record.time
        day = None
        if time is not None:
            day = calendar_date(time, zone_of(zone), reading.record.date_only).isoformat()
        return Value(value_words(summary, reading), day, reading.record.source)

    def sources(readings: list[Reading]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(r.record.source for r in readings))

    span = float(number(summary.span_days)) if summary.present else None
    return ConceptSummary(
        name,
        title,
        concept.kind,
        concept.unit,
        summary.is_current,
        value(summary.latest),
        value(summary.lowest),
        value(summary.highest),
        summary.count,
        tuple(sorted(summary.sites)),
        span,
        sources(summary.present),
        sources(summary.absent),
        sources(summary.earlier),
    )
