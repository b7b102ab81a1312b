"""A small ruleset with red flags in three states, and FHIR patients that show each state."""

from __future__ import annotations

from typing import Any

AS_OF = "2026-03-01T12:00:00Z"
SCT = "http://snomed.info/sct"
VIGIL = "https://vigil-cds.org/fhir/CodeSystem/vigil"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"

RULESET = """\
id: flagged
version: 1.0.0
status: draft
title: Red flags in three states
time-zone: Europe/London
levels:
  - {id: none, title: No action, indicator: info}
  - {id: primary-care, title: Primary care, indicator: warning}
  - {id: urgent, title: Urgent, indicator: critical}
concepts:
  twitch: {kind: finding, codes: [sct#82470000], lookback: 90 days}
  weakness: {kind: finding, codes: [sct#26544005], lookback: red_flag_lookback}
  mrc_grade: {kind: score, codes: [vigil#mrc-grade], lookback: red_flag_lookback}
  atrophy: {kind: finding, codes: [sct#88092000], lookback: red_flag_lookback}
  breathless: {kind: finding, codes: [sct#161941007], lookback: 90 days}
parameters:
  red_flag_lookback: 365 days
  acute_window: 14 days
  reported_window: 90 days
scope: twitch present
rules:
  - id: twitching
    when: twitch present
    then: {suggest: primary-care, summary: "Twitching ({twitch date})"}
  - id: examined-weakness
    when: mrc_grade <= 4
    then: {derive: examined-weakness}
  - id: breathless-recently
    when: breathless present within acute_window
    then: {suggest: urgent, summary: "Breathless ({breathless date})"}
red-flags:
  - id: weakness
    label: weakness
    states:
      examined: examined-weakness
      reported: weakness present within reported_window
    absent-when:
      any: [weakness recorded absent, mrc_grade = 5]
  - {id: wasting, label: muscle wasting, concept: atrophy}
  - id: breathlessness
    label: breathlessness
    present-when: breathless present
    absent-when: breathless absent
  - {label: weakness on examination, finding: examined-weakness}
"""


def _code(system: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code}]}


def observation(
    patient: str, ident: str, code: str, when: str, system: str = SCT, **value: Any
) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": ident,
        "status": "final",
        "code": _code(system, code),
        "subject": {"reference": f"Patient/{patient}"},
        "effectiveDateTime": when,
        **value,
    }


def condition(patient: str, ident: str, code: str, **fields: Any) -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "id": ident,
        "code": _code(SCT, code),
        "subject": {"reference": f"Patient/{patient}"},
        **fields,
    }


def twitch(patient: str) -> dict[str, Any]:
    return observation(patient, f"{patient}-twitch", "82470000", "2026-02-20T09:00:00Z")


NEGATIVE: dict[str, Any] = {"interpretation": [_code(INTERPRETATION, "NEG")]}
ACTIVE: dict[str, Any] = {
    "clinicalStatus": _code("http://terminology.hl7.org/CodeSystem/condition-clinical", "active")
}

RESOURCES: list[dict[str, Any]] = [
    # nothing recorded but the twitch: every flag is not recorded, none "not met"
    {"resourceType": "Patient", "id": "none"},
    twitch("none"),
    # each flag recorded absent in one of the three ways, with its latest absent record's date
    {"resourceType": "Patient", "id": "absent"},
    twitch("absent"),
    observation("absent", "w1", "26544005", "2025-12-01T09:00:00Z", valueBoolean=False),
    observation("absent", "w2", "26544005", "2026-01-10T09:00:00Z", valueBoolean=False),
    observation(
        "absent",
        "a1",
        "88092000",
        "2026-02-01T09:00:00Z",
        valueCodeableConcept=_code(SCT, "2667000"),
    ),
    observation("absent", "b1", "161941007", "2026-02-02T09:00:00Z", **NEGATIVE),
    # present in a named state; present wins over absent; an active Condition of any age
    {"resourceType": "Patient", "id": "present"},
    twitch("present"),
    observation("present", "m1", "mrc-grade", "2026-02-10T09:00:00Z", VIGIL, valueInteger=4),
    observation("present", "w3", "26544005", "2026-02-11T09:00:00Z", valueBoolean=True),
    observation(
        "present",
        "a2",
        "88092000",
        "2026-02-01T09:00:00Z",
        valueCodeableConcept=_code(SCT, "52101004"),
    ),
    observation("present", "a3", "88092000", "2026-02-15T09:00:00Z", valueBoolean=False),
    condition("present", "c1", "161941007", onsetDateTime="2024-01-05", **ACTIVE),
    # breathless recorded within 14 days; weakness and wasting recorded before their lookback
    {"resourceType": "Patient", "id": "recent"},
    twitch("recent"),
    observation("recent", "w4", "26544005", "2024-06-01T09:00:00Z", valueBoolean=True),
    observation("recent", "m2", "mrc-grade", "2026-02-12T09:00:00Z", VIGIL, valueInteger=5),
    condition("recent", "c2", "161941007", onsetDateTime="2026-02-25", **ACTIVE),
    observation("recent", "a4", "88092000", "2025-02-01T09:00:00Z", valueBoolean=False),
    # an undated Condition with no clinicalStatus counts now, but is not recent; a value that
    # says neither present nor absent is left out with a warning
    {"resourceType": "Patient", "id": "undated"},
    twitch("undated"),
    condition("undated", "c3", "161941007"),
    observation("undated", "w5", "26544005", "2026-02-12T09:00:00Z", valueString="maybe"),
    # weakness reported 5 months ago, no longer a reported state, then recorded absent: the
    # absent record counts although a present one is in the lookback
    {"resourceType": "Patient", "id": "superseded"},
    twitch("superseded"),
    observation("superseded", "w7", "26544005", "2025-10-01T09:00:00Z", valueBoolean=True),
    observation("superseded", "w8", "26544005", "2026-02-15T09:00:00Z", valueBoolean=False),
    # out of scope: no card, so no red flags
    {"resourceType": "Patient", "id": "unscoped"},
    observation("unscoped", "w6", "26544005", "2026-02-12T09:00:00Z", valueBoolean=True),
]


def bundle() -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": resource} for resource in RESOURCES],
    }
