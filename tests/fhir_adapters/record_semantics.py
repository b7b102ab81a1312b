"""Small FHIR Bundles and YAML rulesets for the tests of evidence classes, supersession,
suppression by a review date and coded states: one patient, resources built in a line each."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import fhir_adapters
from engine import load_text

AS_OF = datetime(2026, 3, 1, tzinfo=UTC)
SCT = "http://snomed.info/sct"
LOINC = "http://loinc.org"
VIGIL = "https://vigil-cds.org/fhir/CodeSystem/vigil"
CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"

Resource = dict[str, Any]


def coding(system: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code}]}


def observation(
    id_: str,
    code: str,
    when: str,
    *,
    system: str = SCT,
    categories: tuple[str, ...] = (),
    site: str | None = None,
    **value: Any,
) -> Resource:
    resource: Resource = {
        "resourceType": "Observation",
        "id": id_,
        "status": "final",
        "subject": {"reference": "Patient/p"},
        "code": coding(system, code),
        "effectiveDateTime": when,
        **value,
    }
    if categories:
        resource["category"] = [coding(CATEGORY, c) for c in categories]
    if site is not None:
        resource["bodySite"] = coding(SCT, site)
    return resource


def condition(
    id_: str,
    code: str,
    onset: str | None = None,
    *,
    verification: str | None = None,
    site: str | None = None,
) -> Resource:
    resource: Resource = {
        "resourceType": "Condition",
        "id": id_,
        "subject": {"reference": "Patient/p"},
        "code": coding(SCT, code),
        "clinicalStatus": coding(
            "http://terminology.hl7.org/CodeSystem/condition-clinical", "active"
        ),
    }
    if onset is not None:
        resource["onsetDateTime"] = onset
    if verification is not None:
        resource["verificationStatus"] = coding(VERIFICATION, verification)
    if site is not None:
        resource["bodySite"] = [coding(SCT, site)]
    return resource


def bundle(*resources: Resource) -> dict[str, Any]:
    patient = {"resourceType": "Patient", "id": "p"}
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": r} for r in (patient, *resources)],
    }


def evaluate(ruleset_yaml: str, *resources: Resource) -> tuple[set[str], list[str], Any]:
    """The rules that fired, the warnings' messages and the evaluation of patient p."""
    ruleset = load_text(ruleset_yaml)
    (result,) = list(fhir_adapters.evaluate_bundle(bundle(*resources), ruleset, as_of=AS_OF))
    evaluation = result.evaluation
    fired = {s.rule for s in evaluation.suggestions}
    return fired, [f"{w.source}: {w.message}" for w in evaluation.warnings], evaluation
