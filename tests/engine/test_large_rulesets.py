"""Rulesets far larger than the calf ruleset run through `vigil evaluate` as a clinician runs them:
many rules on one concept, all matching one patient, evaluate correctly (durable_rules aborted the
process past 61), and what durable_rules cannot hold is refused when the ruleset loads, located."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import engine
from tests.engine.frozen import CALF_1

ROOT = Path(__file__).parents[2]
CALF = CALF_1

PATIENT = {
    "resourceType": "Bundle",
    "type": "collection",
    "entry": [
        {"resource": {"resourceType": "Patient", "id": "kim"}},
        {
            "resource": {
                "resourceType": "Observation",
                "id": "kim-twitch",
                "status": "final",
                "code": {"coding": [{"system": "http://snomed.info/sct", "code": "82470000"}]},
                "subject": {"reference": "Patient/kim"},
                "bodySite": {"coding": [{"system": "http://snomed.info/sct", "code": "53840002"}]},
                "effectiveDateTime": "2026-02-23T09:00:00+00:00",
            }
        },
        {
            "resource": {
                "resourceType": "Observation",
                "id": "kim-k",
                "status": "final",
                "code": {"coding": [{"system": "http://loinc.org", "code": "2823-3"}]},
                "subject": {"reference": "Patient/kim"},
                "effectiveDateTime": "2026-02-24T09:00:00+00:00",
                "valueQuantity": {
                    "value": 2.0,
                    "unit": "mmol/L",
                    "system": "http://unitsofmeasure.org",
                    "code": "mmol/L",
                },
            }
        },
    ],
}


WIDE = """\
id: too-wide
version: 1.0.0
status: draft
title: More alternatives than durable_rules holds
levels: [{id: none, title: No action, indicator: info},
  {id: primary-care, title: Primary care, indicator: warning}]
concepts:
  potassium: {codes: [loinc#2823-3], unit: mmol/L, lookback: 30 days}
rules:
"""


def calf_plus(extra: str, ruleset_id: str) -> str:
    """The packaged calf ruleset under another id, with `extra` rules appended."""
    text = CALF.read_text().replace("id: calf-fasciculation", f"id: {ruleset_id}", 1)
    return text.rstrip("\n") + "\n\n" + extra


def potassium_rules(thresholds: list[str]) -> str:
    return "".join(
        f"  - id: potassium-below-{i}\n"
        f"    when: potassium < {threshold} mmol/L\n"
        f"    then:\n"
        f"      suggest: primary-care\n"
        f'      summary: "Potassium below {threshold} mmol/L"\n'
        for i, threshold in enumerate(thresholds)
    )


def evaluate(ruleset: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    rules = tmp_path / "ruleset.yaml"
    rules.write_text(ruleset)
    data = tmp_path / "patient.json"
    data.write_text(json.dumps(PATIENT))
    options = ["--ruleset", str(rules), "--as-of", "2026-03-01", "--format", "json"]
    return subprocess.run(
        [sys.executable, "-m", "vigil", "evaluate", str(data), *options],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        env=dict(os.environ),
    )


def only_result(run: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert run.returncode == 0, (run.returncode, run.stderr[-2000:])
    (result,) = json.loads(run.stdout)["results"]
    assert isinstance(result, dict)
    return result


def test_62_rules_on_potassium_all_matching_the_patient(tmp_path: Path) -> None:
    # X from 2.01 to 2.62, K 2.0: with the calf ruleset's own potassium tests, the potassium
    # fact reached more nodes than durable_rules' 64-entry alpha stack holds, and the process
    # aborted (SIGABRT, "munmap_chunk(): invalid pointer").
    thresholds = [f"{(201 + i) / 100:.2f}" for i in range(62)]
    run = evaluate(calf_plus(potassium_rules(thresholds), "calf-plus-62"), tmp_path)

    result = only_result(run)
    assert result["escalation"] == "urgent"
    fired = {s["rule"] for s in result["suggestions"]}
    expected = {f"potassium-below-{i}" for i in range(62)}
    assert fired == expected | {"severe-hypokalemia"}
    assert all(s["evidence"] == ["Observation/kim-k"] for s in result["suggestions"])


def test_500_rules_on_one_concept_all_matching(tmp_path: Path) -> None:
    thresholds = [f"{(201 + i) / 100:.2f}" for i in range(500)]
    run = evaluate(calf_plus(potassium_rules(thresholds), "calf-plus-500"), tmp_path)

    result = only_result(run)
    assert result["escalation"] == "urgent"
    fired = {s["rule"] for s in result["suggestions"]}
    assert fired == {f"potassium-below-{i}" for i in range(500)} | {"severe-hypokalemia"}


def test_a_ruleset_past_durable_rules_rule_limit_is_refused_at_the_rule(tmp_path: Path) -> None:
    # 63 rules of 64 alternatives each compile to 4,032 durable_rules rules: the 63rd is the
    # one past the limit (4,000, under durable_rules' 4,096).
    text = WIDE + "".join(
        f"  - id: wide-{i}\n"
        f"    when:\n"
        f"      any: [{', '.join(f'potassium < {i}.{j:02d} mmol/L' for j in range(64))}]\n"
        f"    then: {{derive: wide-{i}}}\n"
        for i in range(63)
    )
    run = evaluate(text, tmp_path)

    assert run.returncode == 2, run.stderr
    line = text.splitlines().index("  - id: wide-62") + 1
    assert run.stderr == (
        f"vigil evaluate: {tmp_path / 'ruleset.yaml'}:{line}:5: rule wide-62: the ruleset "
        "compiles to more than 4000 durable_rules rules from here on (each alternative of a "
        "condition is one): split the ruleset\n"
    )


def test_more_concepts_than_durable_rules_can_index_are_refused_at_the_rule() -> None:
    # 501 concepts under one alpha node: past 511 durable_rules hangs, so 500 is the most
    concepts = "".join(f"  c{i}: {{codes: [vigil#c{i}]}}\n" for i in range(501))
    rules = "".join(
        f"  - id: r{i}\n    when: c{i} present\n    then: {{derive: f{i}}}\n" for i in range(501)
    )
    text = WIDE.replace(
        "  potassium: {codes: [loinc#2823-3], unit: mmol/L, lookback: 30 days}\n", concepts
    )
    with pytest.raises(engine.RulesetError) as caught:
        engine.load_text(text + rules, "many.yaml")

    line = (text + rules).splitlines().index("  - id: r500") + 1
    assert [str(p) for p in caught.value.problems] == [
        f"many.yaml:{line}:5: rule r500: the ruleset reads more than 500 different concepts: "
        "split the ruleset"
    ]
