"""The packaged hyperkalaemia ruleset (its scenarios run in `test_scenarios`, as every packaged
ruleset's do): its rules are the clinical specification's §7 rows with their levels, and
`vigil evaluate --ruleset hyperkalaemia` answers the issue's example patient."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import engine
from tests.vigil.test_evaluate_command import LOINC, observation, ucum, vigil

RULESET_ID = "hyperkalaemia"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"

# Clinical specification §7: every row, with its level (§2).
SPECIFIED_LEVELS = {
    "severe-hyperkalaemia": "emergency",
    "hyperkalaemia-ecg-changes": "emergency",
    "hyperkalaemia-abnormal-ecg": "emergency",
    "hyperkalaemia-unwell": "emergency",
    "hyperkalaemia-aki": "emergency",
    "hyperkalaemia-acute-cause": "emergency",
    "rapid-potassium-rise": "emergency",
    "hyperkalaemia-on-dialysis": "emergency",
    "moderate-hyperkalaemia-age-80": "same-day-review",
    "moderate-hyperkalaemia": "same-day-review",
    "mild-hyperkalaemia-unwell": "same-day-review",
    "mild-hyperkalaemia-aki": "same-day-review",
    "mild-hyperkalaemia-acute-cause": "same-day-review",
    "mild-hyperkalaemia-abnormal-ecg": "same-day-review",
    "raasi-withhold": "same-day-review",
    "persistent-hyperkalaemia-on-raasi": "same-day-review",
    "pseudohyperkalaemia-urgent-repeat": "same-day-review",
    "pseudohyperkalaemia-severe": "same-day-review",
    "mild-hyperkalaemia-on-dialysis": "none",
    "pre-dialysis-hyperkalaemia": "none",
    "mild-hyperkalaemia-unexpected": "repeat-within-3-days",
    "pseudohyperkalaemia-repeat": "repeat-within-3-days",
    "raasi-egfr-fall": "repeat-within-3-days",
    "mild-hyperkalaemia-known-ckd": "routine-recheck",
    "raasi-mild-review": "routine-recheck",
    "other-potassium-raising-drug": "routine-recheck",
    "raised-potassium-not-repeated": "repeat-within-3-days",
    "raasi-no-potassium-12-months": "routine-recheck",
    "raasi-started-no-potassium": "routine-recheck",
    "mild-hyperkalaemia-stable-ckd": "none",
    "hyperkalaemia-under-18": "none",
    "severe-hyperkalaemia-under-18": "emergency",
}
MEDICINE_RULES = frozenset(
    {
        "raasi-withhold",
        "raasi-mild-review",
        "persistent-hyperkalaemia-on-raasi",
        "raasi-egfr-fall",
        "other-potassium-raising-drug",
    }
)


@pytest.fixture(scope="module")
def ruleset() -> engine.Ruleset:
    return engine.load_ruleset(RULESET_ID)


def test_the_rules_are_the_specification_rows_at_their_levels(ruleset: engine.Ruleset) -> None:
    levels = {r.id: r.then.suggest for r in ruleset.rules if r.then.suggest}
    assert levels == SPECIFIED_LEVELS
    assert [level.id for level in ruleset.levels] == [
        "none",
        "routine-recheck",
        "repeat-within-3-days",
        "same-day-review",
        "emergency",
    ]


def test_the_hit_policy_shows_the_escalation_and_the_medicine_rules(
    ruleset: engine.Ruleset,
) -> None:
    policy = ruleset.hit_policy
    assert (policy.show, policy.merge, policy.always) == ("escalation", True, MEDICINE_RULES)


def test_every_suggestion_cites_a_source_and_has_a_short_summary(ruleset: engine.Ruleset) -> None:
    for rule in ruleset.rules:
        if rule.then.suggest:
            assert rule.then.cite, rule.id
            assert all(c in ruleset.citations for c in rule.then.cite), rule.id
            assert rule.then.summary and len(rule.then.summary) < 120, rule.id


def test_the_command_line_admits_the_issue_example_and_withholds_ramipril(
    tmp_path: Path,
) -> None:
    bundle = tmp_path / "issue-example.json"
    bundle.write_text(json.dumps(_issue_example()))

    run = vigil(
        "evaluate",
        bundle,
        "--ruleset",
        RULESET_ID,
        "--as-of",
        "2026-03-02T10:00:00Z",
        "--format",
        "json",
    )

    assert run.returncode == 0, run.stderr
    (result,) = json.loads(run.stdout)["results"]
    assert result["escalation"] == "emergency"
    fired = {s["rule"] for s in result["suggestions"]}
    assert fired == {"hyperkalaemia-unwell", "moderate-hyperkalaemia", "raasi-withhold"}


def _issue_example() -> dict[str, Any]:
    """A 70-year-old with K 6.2, eGFR 28, a BP panel of 84/50, heart rate 46, on ramipril 5 mg
    (an RxNorm product the ruleset's product table maps to ramipril)."""
    before = "2026-03-02T08:00:00Z"
    bp = observation("bp", LOINC, "85354-9", "2026-03-02T09:00:00Z")
    bp["component"] = [
        {"code": {"coding": [{"system": LOINC, "code": code}]}, "valueQuantity": ucum(v, "mm[Hg]")}
        for code, v in (("8480-6", 84), ("8462-4", 50))
    ]
    ramipril = {
        "resourceType": "MedicationRequest",
        "id": "ramipril",
        "status": "active",
        "intent": "order",
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": "198189"}]},
        "subject": {"reference": "Patient/p"},
        "authoredOn": "2025-06-01",
    }
    resources = [
        {"resourceType": "Patient", "id": "p", "birthDate": "1955-06-01", "gender": "male"},
        observation("k", LOINC, "2823-3", before, valueQuantity=ucum(6.2, "mmol/L")),
        observation("egfr", LOINC, "62238-1", before, valueQuantity=ucum(28, "mL/min/{1.73_m2}")),
        observation("hr", LOINC, "8867-4", before, valueQuantity=ucum(46, "/min")),
        bp,
        ramipril,
    ]
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": r} for r in resources],
    }
