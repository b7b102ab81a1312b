"""`vigil evaluate --format json` reports every fired suggesting rule with its level and whether
the hit policy shows its proposals, and the merged proposals."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.vigil.test_evaluate_command import EXAMPLES, vigil

RULESET = """\
id: levelled
version: 1.0.0
status: draft
title: Levelled
description: Levels, proposals and a hit policy
time-zone: Europe/London
levels:
  - {id: none, title: No action, indicator: info}
  - id: routine-recheck
    title: Routine recheck
    indicator: info
    propose:
      - {code: loinc#24362-6, label: Repeat U&E, kind: lab-order, priority: routine, due: 14 days}
  - id: emergency
    title: Emergency
    indicator: critical
    propose:
      - {code: sct#183452005, label: Emergency hospital admission, kind: admission, priority: stat}
hit-policy: {show: escalation, merge: true, always: [withhold]}
concepts:
  potassium: {kind: quantity, codes: [loinc#2823-3], unit: mmol/L, lookback: 14 days}
rules:
  - id: mild
    when: potassium >= 5.5 mmol/L
    then: {suggest: routine-recheck, summary: "Potassium {potassium} is raised"}
  - id: withhold
    when: potassium >= 6.0 mmol/L
    then:
      suggest: routine-recheck
      summary: Review potassium-raising medicines
      propose:
        - {code: sct#182836005, label: Review of medication, kind: medication-review,
           priority: urgent, due: today, note: Withhold potassium-raising medicines}
  - id: severe
    when: potassium >= 6.5 mmol/L
    then: {suggest: emergency, summary: "Potassium {potassium} is severely raised"}
"""

BUNDLE = {
    "resourceType": "Bundle",
    "type": "collection",
    "entry": [
        {"resource": {"resourceType": "Patient", "id": "p"}},
        {
            "resource": {
                "resourceType": "Observation",
                "id": "k1",
                "status": "final",
                "code": {"coding": [{"system": "http://loinc.org", "code": "2823-3"}]},
                "subject": {"reference": "Patient/p"},
                "effectiveDateTime": "2026-07-01T20:30:00Z",
                "valueQuantity": {
                    "value": 6.7,
                    "unit": "mmol/L",
                    "system": "http://unitsofmeasure.org",
                    "code": "mmol/L",
                },
            }
        },
    ],
}


def evaluate_json(*args: str | Path) -> dict[str, Any]:
    run = vigil("evaluate", *args, "--format", "json")
    assert run.returncode == 0, run.stderr
    output: dict[str, Any] = json.loads(run.stdout)
    return output


def test_every_fired_rule_is_listed_with_shown_and_the_orders_proposed() -> None:
    output = evaluate_json(EXAMPLES, "--as-of", "2026-03-01")
    results = {r["patient"]: r for r in output["results"]}
    dana = results["Patient/dana"]
    # the neurology referral is kept beside the emergency admission (§9.3)
    assert [(s["rule"], s["level"], s["shown"]) for s in dana["suggestions"]] == [
        ("severe-hypokalemia", "urgent", True),
        ("twitching-with-bulbar-sign", "neurology", True),
    ]
    admission, ecg, referral = dana["proposals"]
    assert admission == {
        "system": "http://snomed.info/sct",
        "code": "183452005",
        "label": "Emergency hospital admission",
        "kind": "admission",
        "priority": "stat",
        "due": "2026-03-01T00:00:00+00:00",
        "due_words": "now",
        "notes": ["Arrange emergency admission"],
        "text": "Arrange emergency admission",
        "reasons": ["Observation/dana-o3"],
        "rules": ["severe-hypokalemia"],
    }
    assert (ecg["code"], ecg["priority"]) == ("268400002", "stat")
    assert (referral["code"], referral["rules"]) == ("308474002", ["twitching-with-bulbar-sign"])
    # an information rule below a self-care escalation is listed, its proposals not shown
    amira = results["Patient/amira"]
    assert [(s["rule"], s["shown"]) for s in amira["suggestions"]] == [
        ("benign-twitching", True),
        ("anxiety-screen-positive", False),
    ]
    assert amira["proposals"] == []  # self-care proposes nothing


def test_a_yaml_rulesets_levels_hit_policy_and_proposals(tmp_path: Path) -> None:
    (tmp_path / "ruleset.yaml").write_text(RULESET)
    (tmp_path / "bundle.json").write_text(json.dumps(BUNDLE))
    output = evaluate_json(
        tmp_path / "bundle.json", "--ruleset", tmp_path, "--as-of", "2026-07-01T22:30:00Z"
    )
    [result] = output["results"]
    assert result["escalation"] == "emergency"
    assert [(s["rule"], s["level"], s["shown"]) for s in result["suggestions"]] == [
        ("severe", "emergency", True),
        ("mild", "routine-recheck", False),
        ("withhold", "routine-recheck", True),
    ]
    admit, review = result["proposals"]
    assert (admit["label"], admit["priority"], admit["rules"]) == (
        "Emergency hospital admission",
        "stat",
        ["severe"],
    )
    assert review["due"] == "2026-07-01T23:59:59+01:00"
    assert review["notes"] == ["Withhold potassium-raising medicines"]
    assert review["reasons"] == ["Observation/k1"]
