"""A small ruleset that writes its card's text (`card:`), and FHIR patients for each line."""

from __future__ import annotations

from typing import Any

AS_OF = "2026-06-02T12:00:00Z"
SCT = "http://snomed.info/sct"
LOINC = "http://loinc.org"
VIGIL = "https://vigil-cds.org/fhir/CodeSystem/vigil"

RULESET = """\
id: carded
version: 1.0.0
status: draft
title: Card text
time-zone: Europe/London
levels:
  - {id: none, title: No action, indicator: info, label: FOR INFORMATION}
  - {id: self-care, title: Self-care, indicator: info, label: SELF-CARE ADVICE}
  - {id: primary-care, title: Primary care, indicator: warning, label: REVIEW IN PRIMARY CARE}
  - {id: urgent, title: Urgent, indicator: critical, label: URGENT TODAY}
regions:
  head: {}
  lower_limb: {sided: true, focal: true}
sites:
  eyelid: {codes: [sct#80243003], region: head}
  calf: {codes: [sct#53840002], region: lower_limb}
parameters:
  lab_lookback: 30 days
  recheck_window: 90 days
  severe_magnesium: 0.50 mmol/L
  low_magnesium: 0.70 mmol/L
  high_magnesium: 1.00 mmol/L
  low_potassium: 3.5 mmol/L
  high_potassium: 5.5 mmol/L
concepts:
  fasciculation: {kind: finding, codes: [sct#82470000], lookback: 90 days}
  weakness: {kind: finding, codes: [sct#26544005], lookback: 365 days}
  tetany: {kind: finding, codes: [sct#71792006], lookback: 90 days}
  carpopedal: {kind: finding, codes: [sct#28744009], lookback: 90 days}
  gad7: {kind: score, codes: [loinc#70274-6], lookback: 365 days}
  mrc: {kind: score, codes: [vigil#mrc-grade], lookback: 365 days}
  magnesium:
    codes: [loinc#2601-3]
    unit: mmol/L
    lookback: lab_lookback
    decimals: 2
    shown-decimals: 2
    low: < low_magnesium or below reference range
    high: "> high_magnesium or above reference range"
  potassium:
    codes: [loinc#2823-3]
    unit: mmol/L
    lookback: lab_lookback
    decimals: 2
    shown-decimals: 2
    low: < low_potassium or below reference range
    high: ">= high_potassium or above reference range"
scope:
  any: [fasciculation present, tetany present, carpopedal present]
word-lists:
  symptoms:
    words: {tetany: tetany, carpopedal: carpopedal spasm, weakness: weakness}
rules:
  - id: symptomatic-hypomagnesemia
    when:
      - magnesium < severe_magnesium
      - any: [tetany present, carpopedal present]
    then:
      suggest: urgent
      summary: >-
        Symptomatic hypomagnesaemia: magnesium {magnesium} ({magnesium date})
        with {symptoms}
      propose:
        - {code: "sct#183452005", label: Admit, priority: stat, due: now,
           note: Arrange emergency admission}
  - id: low-magnesium
    when: magnesium low
    then: {suggest: primary-care, summary: "Low magnesium: {magnesium} ({magnesium date})"}
  - id: magnesium-not-rechecked
    when: magnesium not rechecked within recheck_window
    then: {suggest: primary-care, summary: "Magnesium not repeated: {magnesium}"}
  - id: twitching-with-examined-weakness
    when: [fasciculation present, mrc <= 4]
    then: {suggest: primary-care, summary: "Twitching with weakness on examination"}
  - id: widespread-twitching
    when: fasciculation regions >= 2
    then: {suggest: primary-care, summary: "Twitching in {fasciculation regions} body regions"}
  - id: anxiety-screen-positive
    when: [fasciculation present, gad7 >= 10]
    then: {suggest: none, summary: "GAD-7 {gad7}: anxiety can cause and sustain twitching"}
  - id: benign-twitching
    when: [fasciculation present, no suggestion at or above primary-care]
    then:
      suggest: self-care
      summary: Twitching with no red flag found
      instruction: Give the self-care advice below
red-flags:
  - id: weakness
    label: weakness
    states: {examined: mrc <= 4, reported: weakness present}
    absent-when: weakness absent
  - id: tetany
    label: tetany
    present-when: {any: [tetany present, carpopedal present]}
    absent-when: {any: [tetany absent, carpopedal absent]}
  - id: widespread
    label: widespread twitching
    present-when: fasciculation regions >= 2
  - id: chronic
    label: chronic twitching
    present-when: fasciculation span >= 7 days
notes:
  - id: note-anxiety
    text: "GAD-7 {gad7}: discuss support."
    when: anxiety-screen-positive fired
  - id: advice-stretch
    text: Stretch and gently massage the calf.
    section: advice
card:
  flags:
    weakness:
      examined: weakness on examination
      reported: weakness reported
      not-recorded: weakness
    tetany: {present: tetany or carpopedal spasm, not-recorded: tetany}
    widespread: "twitching in {fasciculation regions} regions"
    chronic: "twitching over {fasciculation span} days"
  results:
    - {concept: potassium, words: potassium}
    - {concept: magnesium, words: magnesium}
  advice-at: [self-care]
"""


def _code(system: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code}]}


def observation(
    patient: str, ident: str, code: str, when: str, system: str = SCT, **fields: Any
) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": ident,
        "status": "final",
        "code": _code(system, code),
        "subject": {"reference": f"Patient/{patient}"},
        "effectiveDateTime": when,
        **fields,
    }


def mmol(value: float) -> dict[str, Any]:
    quantity = {"value": value, "unit": "mmol/L", "system": "http://unitsofmeasure.org"}
    return {"valueQuantity": {**quantity, "code": "mmol/L"}}


def finding(patient: str, ident: str, code: str, when: str, site: str | None = None) -> Any:
    fields: dict[str, Any] = {"valueBoolean": True}
    if site is not None:
        fields["bodySite"] = _code(SCT, site)
    return observation(patient, ident, code, when, **fields)


RESOURCES: list[dict[str, Any]] = [
    # tetany with magnesium 0.45: urgent, with the low magnesium also listed
    {"resourceType": "Patient", "id": "tetany"},
    finding("tetany", "t1", "71792006", "2026-06-01T09:00:00Z"),
    observation("tetany", "m1", "2601-3", "2026-06-01T08:00:00Z", LOINC, **mmol(0.45)),
    # twitching in two regions, a GAD-7 of 12, potassium high, magnesium not repeated
    {"resourceType": "Patient", "id": "spread"},
    finding("spread", "f1", "82470000", "2026-05-20T09:00:00Z", "80243003"),
    finding("spread", "f2", "82470000", "2026-05-28T09:00:00Z", "53840002"),
    observation("spread", "g1", "70274-6", "2026-05-28T09:00:00Z", LOINC, valueInteger=12),
    observation("spread", "k1", "2823-3", "2026-05-30T09:00:00Z", LOINC, **mmol(5.9)),
    observation("spread", "m2", "2601-3", "2026-03-20T09:00:00Z", LOINC, **mmol(0.6)),
    # a calf twitch alone: self-care, with its advice
    {"resourceType": "Patient", "id": "benign"},
    finding("benign", "f3", "82470000", "2026-05-30T09:00:00Z", "53840002"),
    observation("benign", "w1", "26544005", "2026-05-30T09:00:00Z", valueBoolean=False),
    observation("benign", "k2", "2823-3", "2026-05-30T09:00:00Z", LOINC, **mmol(4.2)),
    observation("benign", "m3", "2601-3", "2026-05-30T09:00:00Z", LOINC, **mmol(0.85)),
    # weakness reported, then examined (MRC 4): the examined state's words and date
    {"resourceType": "Patient", "id": "weak"},
    finding("weak", "f4", "82470000", "2026-05-25T09:00:00Z", "53840002"),
    finding("weak", "w2", "26544005", "2026-05-25T09:00:00Z"),
    observation("weak", "r1", "mrc-grade", "2026-05-31T23:30:00Z", VIGIL, valueInteger=4),
]


def bundle(resources: list[dict[str, Any]] = RESOURCES) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": resource} for resource in resources],
    }
