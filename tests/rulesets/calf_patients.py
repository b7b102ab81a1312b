"""Hypothesis strategies for one calf-fasciculation patient as FHIR R4 resources.

Every kind of resource the 2.1.0 specification reads, with values, times and statuses on and
around the boundaries it names, so that property tests can compare the engine reading them
through `fhir_adapters` with `tests.calf_oracle` reading the same JSON.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import strategies as st

from tests.calf_oracle import ATC, LATERALITY, LOINC, RXNORM, SCT, VIGIL

AS_OF = datetime(2026, 6, 1, 12, tzinfo=UTC)
PATIENT_ID = "p"
SUBJECT = {"reference": f"Patient/{PATIENT_ID}"}
UCUM = "http://unitsofmeasure.org"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"

# days before as_of, on and around the windows of §3
DAYS = [0, 0.5, 1, 3, 6.5, 7, 7.5, 13.5, 14, 14.5, 29.5, 30, 30.5, 60, 89.5, 90, 90.5, 200,
        299.5, 300, 364.5, 365, 365.5, 400, 730]  # fmt: skip
FINDING_CODES = [
    (SCT, "82470000"), (SCT, "55300003"), (SCT, "449918009"), (SCT, "10629009"),
    (VIGIL, "tetany"), (VIGIL, "carpopedal-spasm"), (SCT, "1141007"), (SCT, "91175000"),
    (VIGIL, "laryngospasm"), (SCT, "26544005"), (SCT, "88092000"), (SCT, "8011004"),
    (SCT, "40739000"), (SCT, "161941007"), (SCT, "62744007"), (SCT, "449754000"),
    (SCT, "102572006"), (SCT, "65124004"), (VIGIL, "calf-swelling"),
]  # fmt: skip
SITES = [None, "53840002", "68367000", "85562004", "40983000", "21974007", "80243003",
         "22943007", "32153003", "62175007", "6921000", "7569003"]  # fmt: skip
SIDES = [None, "7771000", "24028007", "51440002"]
LABS = {
    "2823-3": [2.49, 2.5, 2.99, 3.0, 3.49, 3.5, 3.99, 4.0, 5.49, 5.5, 6.49, 6.5],
    "2601-3": [0.39, 0.4, 0.49, 0.5, 0.69, 0.7, 0.79, 0.8, 1.0, 1.01],
    "29265-6": [1.89, 1.9, 1.99, 2.0, 2.19, 2.2, 2.59, 2.6, 2.99, 3.0, 3.49, 3.5],
    "2000-8": [1.89, 1.9, 2.05, 2.19, 2.2, 2.6, 3.5],
    "1995-0": [0.99, 1.0, 1.14, 1.15, 1.33, 1.34],
}
MG_PER_DL = {"2601-3": 1 / 0.41144, "29265-6": 1 / 0.24951, "2000-8": 1 / 0.24951}


def when(days: float) -> str:
    return (AS_OF - timedelta(days=days)).isoformat().replace("+00:00", "Z")


def concept(system: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code}]}


@st.composite
def body_site(draw: st.DrawFn) -> dict[str, Any] | None:
    code = draw(st.sampled_from(SITES))
    if code is None:
        return None
    site = concept(SCT, code)
    side = draw(st.sampled_from(SIDES))
    if side is not None:
        site["extension"] = [{"url": LATERALITY, "valueCodeableConcept": concept(SCT, side)}]
    return site


@st.composite
def observation_finding(draw: st.DrawFn, n: int) -> dict[str, Any]:
    system, code = draw(st.sampled_from(FINDING_CODES))
    resource: dict[str, Any] = {
        "resourceType": "Observation", "id": f"f{n}", "subject": SUBJECT,
        "status": draw(st.sampled_from(["final", "final", "preliminary", "entered-in-error"])),
        "code": concept(system, code), "effectiveDateTime": when(draw(st.sampled_from(DAYS))),
    }  # fmt: skip
    value = draw(st.sampled_from(["true", "false", "none", "present", "absent", "minutes"]))
    if value in ("true", "false"):
        resource["valueBoolean"] = value == "true"
    elif value in ("present", "absent"):
        resource["valueCodeableConcept"] = concept(
            SCT, "52101004" if value == "present" else "2667000"
        )
    elif value == "minutes":
        resource["valueQuantity"] = {"value": draw(st.sampled_from([5, 10, 11, 15])), "unit": "min",
                                     "system": UCUM, "code": "min"}  # fmt: skip
    category = draw(st.sampled_from([None, "exam", "survey"]))
    if category is not None:
        resource["category"] = [concept(CATEGORY, category)]
    site = draw(body_site())
    if site is not None:
        resource["bodySite"] = site
    return resource


@st.composite
def condition_finding(draw: st.DrawFn, n: int) -> dict[str, Any]:
    system, code = draw(st.sampled_from([*FINDING_CODES, (SCT, "86044005"), (SCT, "77386006")]))
    resource: dict[str, Any] = {
        "resourceType": "Condition", "id": f"c{n}", "subject": SUBJECT,
        "code": concept(system, code),
    }  # fmt: skip
    days = draw(st.sampled_from([None, *DAYS]))
    if days is not None:
        resource["onsetDateTime"] = when(days)
    clinical = draw(st.sampled_from([None, "active", "resolved"]))
    if clinical is not None:
        resource["clinicalStatus"] = concept(CLINICAL, clinical)
    verification = draw(st.sampled_from([None, "confirmed", "unconfirmed", "refuted"]))
    if verification is not None:
        resource["verificationStatus"] = concept(VERIFICATION, verification)
    site = draw(body_site())
    if site is not None:
        resource["bodySite"] = [site]
    return resource


@st.composite
def lab(draw: st.DrawFn, n: int) -> dict[str, Any]:
    code = draw(st.sampled_from(sorted(LABS)))
    value = draw(st.sampled_from(LABS[code]))
    unit = draw(st.sampled_from(["mmol/L", "mg/dL"] if code in MG_PER_DL else ["mmol/L", "mEq/L"]))
    if unit == "mg/dL":
        value = round(value * MG_PER_DL[code], 3)
    resource: dict[str, Any] = {
        "resourceType": "Observation", "id": f"l{n}", "subject": SUBJECT,
        "status": draw(st.sampled_from(["final", "final", "amended", "preliminary"])),
        "code": concept(LOINC, code), "effectiveDateTime": when(draw(st.sampled_from(DAYS))),
        "valueQuantity": {"value": value, "unit": unit, "system": UCUM,
                          "code": unit},
    }  # fmt: skip
    return resource


@st.composite
def score(draw: st.DrawFn, n: int) -> dict[str, Any]:
    mrc = draw(st.booleans())
    resource: dict[str, Any] = {
        "resourceType": "Observation", "id": f"s{n}", "subject": SUBJECT,
        "status": "final",
        "code": concept(VIGIL, "mrc-grade") if mrc else concept(LOINC, "70274-6"),
        "effectiveDateTime": when(draw(st.sampled_from(DAYS))),
        "valueInteger": draw(st.sampled_from([3, 4, 5] if mrc else [4, 5, 9, 10, 14])),
    }  # fmt: skip
    if mrc:
        resource["category"] = [concept(CATEGORY, "exam")]
        site = draw(body_site())
        if site is not None:
            resource["bodySite"] = site
    return resource


@st.composite
def event(draw: st.DrawFn, n: int) -> dict[str, Any]:
    kind = draw(st.sampled_from(["surgery", "referral", "encounter", "statin", "ck"]))
    days = draw(st.sampled_from(DAYS))
    base = {"id": f"e{n}", "subject": SUBJECT}
    if kind == "surgery":
        return {
            **base,
            "resourceType": "Procedure",
            "status": "completed",
            "code": concept(SCT, "13619001"),
            "performedDateTime": when(days),
        }
    if kind == "referral":
        return {
            **base,
            "resourceType": "ServiceRequest",
            "status": "active",
            "intent": draw(st.sampled_from(["order", "proposal"])),
            "code": concept(SCT, "308474002"),
            "authoredOn": when(days),
        }
    if kind == "encounter":
        return {
            **base,
            "resourceType": "Encounter",
            "status": "finished",
            "class": {"system": ACT_CODE, "code": "AMB"},
            "serviceType": concept(SCT, "394591006"),
            "period": {"start": when(days)},
        }
    if kind == "statin":
        code = draw(st.sampled_from([(ATC, "C10AA05"), (RXNORM, "83367"), (ATC, "C09AA05")]))
        return {
            **base,
            "resourceType": "MedicationRequest",
            "intent": "order",
            "status": draw(st.sampled_from(["active", "stopped"])),
            "medicationCodeableConcept": concept(*code),
            "authoredOn": when(days),
        }
    ck = draw(st.sampled_from([150, 950, 951, 2000]))
    return {
        **base,
        "resourceType": "Observation",
        "status": "final",
        "code": concept(LOINC, "2157-6"),
        "effectiveDateTime": when(min(days, 29)),
        "valueQuantity": {"value": ck, "unit": "U/L", "system": UCUM, "code": "U/L"},
    }


@st.composite
def patient(draw: st.DrawFn) -> list[dict[str, Any]]:
    """One patient's resources: the Patient, a few findings, results and events."""
    resources: list[dict[str, Any]] = [
        {"resourceType": "Patient", "id": PATIENT_ID, "birthDate": "1970-01-01", "gender": "female"}
    ]
    builders = [observation_finding, observation_finding, condition_finding, lab, lab, score, event]
    if draw(st.integers(0, 9)):  # mostly in scope: a recent twitch, cramp or tetany
        scope = draw(st.sampled_from([(SCT, "82470000"), (SCT, "55300003"), (SCT, "10629009")]))
        resources.append(
            {"resourceType": "Observation", "id": "scope", "status": "final",
             "subject": SUBJECT, "code": concept(*scope),
             "effectiveDateTime": when(draw(st.sampled_from([0, 1, 6])))}
        )  # fmt: skip
    for n in range(draw(st.integers(1, 12))):
        builder = draw(st.sampled_from(builders))
        resources.append(draw(builder(n)))
    return resources
