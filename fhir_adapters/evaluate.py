"""FHIR data in, each patient's Evaluation out: the library's one-call entry point."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from engine import Evaluation, Evaluator, Ruleset, load_ruleset
from engine.evaluation import DataWarning, card_dict, note_dict, proposed_dict, red_flag_dict
from engine.why_not import SessionFacts

from .cache import ResourceCache
from .cards import NewId, _uuid4, cards_json
from .patients import PatientData, patient_records
from .reading import Input, Loaded


@dataclass(frozen=True)
class PatientResult:
    """One patient's evaluation; its warnings include those about the patient's FHIR data."""

    patient: str  # "Patient/<id>"
    evaluation: Evaluation
    # what the evaluation's session saw, when it was asked for (`examine=True`): to explain it
    session: SessionFacts | None = field(default=None, compare=False, repr=False)

    @property
    def escalation(self) -> str:
        return self.evaluation.escalation

    def cards(self, new_id: NewId = _uuid4) -> list[dict[str, Any]]:
        """CDS Hooks 2.0 cards, ready to serialise; empty when nothing applies."""
        return cards_json(self.evaluation, self.patient, new_id)

    def to_dict(self) -> dict[str, Any]:
        return {
            "patient": self.patient,
            "escalation": self.evaluation.escalation,
            "suggestions": [
                {
                    "rule": s.rule,
                    "level": s.level,
                    "shown": s.shown,
                    "summary": s.summary,
                    "detail": s.detail,
                    "evidence": list(s.evidence),
                }
                for s in self.evaluation.suggestions
            ],
            "proposals": [proposed_dict(p) for p in self.evaluation.proposals],
            "do_now": self.evaluation.do_now,
            "notes": [note_dict(n) for n in self.evaluation.notes],
            # the card's text, for a ruleset that writes one (`card:`)
            **({"card": card_dict(card)} if (card := self.evaluation.card) is not None else {}),
            "red_flags": [red_flag_dict(r) for r in self.evaluation.red_flags],
            "warnings": [warning_dict(w) for w in self.evaluation.warnings],
        }


class Results(list[PatientResult]):
    """The patients' results, sorted by patient reference, and the warnings that belong to no
    patient (an unreadable entry, a resource without a subject)."""

    def __init__(self, results: list[PatientResult], warnings: tuple[DataWarning, ...]) -> None:
        super().__init__(results)
        self.warnings = warnings


def warning_dict(warning: DataWarning) -> dict[str, str]:
    if warning.source:
        return {"source": warning.source, "message": warning.message}
    return {"message": warning.message}


def evaluate_bundle(
    data: Input | Loaded,
    ruleset: Ruleset | str | Path,
    as_of: datetime | None = None,
    *,
    cache: ResourceCache | None = None,
    now: datetime | None = None,
) -> Results:
    """Evaluate every patient in FHIR R4 `data` (a path, JSON text, or parsed JSON: a Bundle,
    a resource, an array, or NDJSON) against `ruleset` (a Ruleset, a packaged id or a path).

    Raises `FhirInputError` for input that is not FHIR JSON at all; data that is FHIR but
    unusable becomes warnings on the patient it belongs to (or on the results). A `cache`
    (a service's, long-lived) spares validating again a resource already read. Without
    `as_of`, `now` (default: the clock) is the evaluation time, and data dated after it is a
    data error, left out with a warning."""
    patients = evaluate_patients(data, ruleset, as_of, cache=cache, now=now)
    return Results(list(patients), patients.warnings)


class PatientResults:
    """Each patient's result, evaluated as the iteration reaches the patient and then let go,
    so that a large input never holds every patient's evaluation at once; iterated once.
    `warnings` (known before the first patient) belong to no patient."""

    def __init__(
        self,
        evaluator: Evaluator,
        patients: tuple[PatientData, ...],
        warnings: tuple[DataWarning, ...],
        as_of: datetime | None,
        now: datetime | None = None,
        examine: bool = False,
    ) -> None:
        self.warnings = warnings
        self._examine = examine
        self._evaluator = evaluator
        self._waiting = list(reversed(patients))  # popped: a patient's records go once read
        self._as_of = as_of
        # one time for every patient
        self._now = (now or datetime.now(UTC)) if as_of is None else None

    def __iter__(self) -> Iterator[PatientResult]:
        while self._waiting:
            patient = self._waiting.pop()
            session = None
            if self._examine:
                examined = self._evaluator.examine(patient.records, self._as_of, now=self._now)
                evaluation, session = examined.evaluation, examined.session
            else:
                evaluation = self._evaluator.evaluate(
                    patient.records, as_of=self._as_of, now=self._now
                )
            if patient.warnings:
                evaluation = _with_warnings(evaluation, patient.warnings)
            yield PatientResult(patient.patient, evaluation, session)


def evaluate_patients(
    data: Input | Loaded,
    ruleset: Ruleset | str | Path,
    as_of: datetime | None = None,
    *,
    cache: ResourceCache | None = None,
    now: datetime | None = None,
    examine: bool = False,
) -> PatientResults:
    """`evaluate_bundle`, one patient at a time: every patient's records are read first (a
    patient's resources may be anywhere in the input), each evaluation when it is iterated.
    `examine`: each result keeps what its session saw (`PatientResult.session`), to explain."""
    rules = ruleset if isinstance(ruleset, Ruleset) else load_ruleset(ruleset)
    evaluator = Evaluator(rules)
    batch = patient_records(data, rules, cache)
    return PatientResults(evaluator, batch.patients, batch.warnings, as_of, now, examine)


def _with_warnings(evaluation: Evaluation, warnings: tuple[DataWarning, ...]) -> Evaluation:
    return replace(evaluation, warnings=(*warnings, *evaluation.warnings))


def combine(inputs: list[Loaded]) -> Loaded:
    """Several inputs read as one (a Bulk Data export splits one patient over files).

    Each resource keeps its own Bundle's fullUrls: a `urn:uuid:` one file uses says nothing
    about the same text in another."""
    return Loaded(
        origin=", ".join(i.origin for i in inputs),
        resources=tuple(r for i in inputs for r in i.resources),
        warnings=tuple(w for i in inputs for w in i.warnings),
    )
