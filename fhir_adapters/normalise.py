"""Validated resources as engine `Record`s: each resource type to the module that reads it.

Observations (`observations`), Conditions (`conditions`), the dated events Procedure,
Encounter and ServiceRequest (`events`), MedicationRequests and MedicationStatements
(`medications`), and a Patient's demographics (`demographics`). Codes are matched on system
and code, never display text (`concept_codes`); a resource whose codings mean different
concepts contradicts itself and is left out with a warning. A Period that ends before it
starts leaves its resource out with a warning; a date-only end covers its whole day; a partial
date (`2026`, `2026-03`) is read as the start of its year or month (a Period's end as the end
of it), with a warning that whether the record is current is then uncertain (`fhir_times`).
"""

from __future__ import annotations

from collections.abc import Mapping

from fhir.resources.R4B.condition import Condition
from fhir.resources.R4B.medicationrequest import MedicationRequest
from fhir.resources.R4B.medicationstatement import MedicationStatement
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.resource import Resource

from engine.evaluation import DataWarning
from engine.model import Ruleset
from engine.records import Record

from .conditions import condition_records
from .demographics import demographic_records
from .events import EVENT_MODELS, event_records
from .medications import medication_records
from .observations import observation_records
from .references import Resolve
from .validation import Validated

__all__ = ["condition_records", "observation_records", "records_for"]

Records = tuple[list[Record], list[DataWarning]]


def records_for(
    item: Validated,
    ruleset: Ruleset,
    resolve: Resolve | None = None,
    referenced: Mapping[str, Resource] | None = None,
) -> Records:
    """The records one validated resource contributes (none for a Specimen or a Medication,
    read through the resources that reference them); `resolve` finds the resources it
    references within the input, and `referenced` holds those already resolved and validated
    as resources of their own (a medicine's Medication), by the reference as written."""
    model = item.model
    if isinstance(model, Observation):
        return observation_records(model, item.reference, ruleset, resolve)
    if isinstance(model, Condition):
        return condition_records(model, item.reference, ruleset)
    if isinstance(model, EVENT_MODELS):
        return event_records(model, item.reference, ruleset)
    if isinstance(model, MedicationRequest | MedicationStatement):
        return medication_records(model, item.reference, ruleset, referenced)
    if isinstance(model, Patient):
        return demographic_records(model, item.reference, ruleset)
    return [], []
