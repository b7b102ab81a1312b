"""Medicines and demographics from FHIR to an escalation, through the paths a user takes: the
library's `evaluate_bundle` with a hand-built ruleset, and `vigil evaluate` with a ruleset
folder."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from engine.conditions import All, CodedIs, Compare, MedicationState
from engine.model import Action, Concept, Level, Rule
from fhir_adapters import evaluate_bundle
from fhir_adapters.medications import RXNORM

from .test_medications import RULESET, coded, request

ROOT = Path(__file__).parents[2]

RULESET_YAML = """\
id: medicines-test
version: 0.0.1
status: draft
title: Medicines test
description: A medicine, an age and a sex through the CLI
levels:
  - {id: none, title: No action, indicator: info}
  - {id: review, title: Review, indicator: warning}
products: products.yaml
concepts:
  ace_inhibitor: {kind: medication, codes: ["atc#C09A*", rxnorm#35296]}
  age: {kind: demographic, field: age}
  sex: {kind: demographic, field: sex}
rules:
  - id: acei-old-woman
    title: An older woman on an ACE inhibitor
    when: [ace_inhibitor active, age >= 80, sex is female]
    then: {suggest: review, summary: On an ACE inhibitor at 80 or more}
"""

PRODUCTS_YAML = "rxnorm#198188: [rxnorm#35296]\n"


def chart(birth: str) -> dict[str, Any]:
    medication = {"resourceType": "Medication", "id": "m", "code": coded(RXNORM, "198188")}
    ordered = request("r1", medicationReference={"reference": "urn:uuid:med"})
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {
                "fullUrl": "urn:uuid:p",
                "resource": {
                    "resourceType": "Patient",
                    "id": "p",
                    "birthDate": birth,
                    "gender": "female",
                },
            },
            {"fullUrl": "urn:uuid:med", "resource": medication},
            {"fullUrl": "urn:uuid:r1", "resource": ordered},
        ],
    }


def test_an_active_medicine_an_age_and_a_sex_fire_a_rule_through_the_library() -> None:
    concepts = {
        **RULESET.concepts,
        "age": Concept("age", (), kind="demographic", field="age"),
        "sex": Concept("sex", (), kind="demographic", field="sex"),
    }
    when = All(
        (
            MedicationState("ace_inhibitor", "active", "ace_inhibitor active", ()),
            Compare("age", "latest", ">=", "80", "age >= 80", ()),
            CodedIs("sex", "female", "sex is female", ()),
        ),
        (),
    )
    rule = Rule("acei-old-woman", "ACEi", when, Action(suggest="review", summary="On an ACEi"))
    levels = (Level("none", "No action", "info"), Level("review", "Review", "warning"))
    ruleset = replace(RULESET, concepts=concepts, rules=(rule,), levels=levels)
    as_of = datetime(2026, 3, 1, tzinfo=UTC)

    old, young = (
        evaluate_bundle(chart(b), ruleset, as_of)[0] for b in ("1946-03-01", "1946-03-02")
    )

    assert (old.escalation, young.escalation) == ("review", "none")


def test_vigil_evaluate_reads_a_medicine_through_a_referenced_product(tmp_path: Path) -> None:
    folder = tmp_path / "ruleset"
    folder.mkdir()
    (folder / "ruleset.yaml").write_text(RULESET_YAML)
    (folder / "products.yaml").write_text(PRODUCTS_YAML)
    data = tmp_path / "chart.json"
    data.write_text(json.dumps(chart("1946-03-01")))

    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "vigil",
            "evaluate",
            data,
            "--ruleset",
            folder,
            "--as-of",
            "2026-03-01",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )

    assert run.returncode == 0, run.stderr
    (result,) = json.loads(run.stdout)["results"]
    assert result["escalation"] == "review"
    assert result["warnings"] == []
