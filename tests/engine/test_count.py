"""`<concept> count` counts the records that say present, as a clinician counts occasions: one
resource read at several body sites is one occasion, whatever number of sites it codes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import engine
import fhir_adapters
from engine import Record
from tests.engine.frozen import CALF_1

NOW = datetime(2026, 3, 1, 9, tzinfo=UTC)
LEG_SITES = ["61685007", "7569003"]  # SNOMED: lower limb, finger (any two sites)


def weakness_at(sites: list[str]) -> dict[str, Any]:
    """A patient with calf twitching and one weakness Condition, active for 40 days."""
    sct = "http://snomed.info/sct"
    condition = {
        "resourceType": "Condition",
        "id": "weak",
        "subject": {"reference": "Patient/p"},
        "clinicalStatus": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                    "code": "active",
                }
            ]
        },
        "code": {"coding": [{"system": sct, "code": "26544005"}]},
        "bodySite": [{"coding": [{"system": sct, "code": code}]} for code in sites],
        "onsetDateTime": "2026-01-20T09:00:00Z",
    }
    twitching = {
        "resourceType": "Observation",
        "id": "twitch",
        "status": "final",
        "subject": {"reference": "Patient/p"},
        "code": {"coding": [{"system": sct, "code": "82470000"}]},
        "bodySite": {"coding": [{"system": sct, "code": "53840002"}]},
        "effectiveDateTime": "2026-02-27T09:00:00Z",
    }
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"resource": {"resourceType": "Patient", "id": "p"}},
            {"resource": condition},
            {"resource": twitching},
        ],
    }


def test_one_condition_at_two_sites_is_one_occasion_of_weakness() -> None:
    # `weakness count >= 2` (with a span of 14 days) makes weakness persistent: neurology
    answers = {
        len(sites): [
            (result.evaluation.escalation, [s.rule for s in result.evaluation.suggestions])
            for result in fhir_adapters.evaluate_bundle(weakness_at(sites), CALF_1, as_of=NOW)
        ]
        for sites in (LEG_SITES[:1], LEG_SITES)
    }

    assert answers[2] == answers[1] == [("primary-care", ["twitching-with-unconfirmed-weakness"])]


@pytest.mark.parametrize(
    ("sources", "count"),
    [(["Observation/a", "Observation/a"], "1"), (["Observation/a", "Observation/b"], "2")],
)
def test_the_count_shown_is_the_count_compared(sources: list[str], count: str) -> None:
    ruleset = engine.load_text(
        "id: counted\nversion: 1.0.0\nstatus: draft\ntitle: Counted\n"
        "levels: [{id: none, title: No action, indicator: info},"
        " {id: primary-care, title: Primary care, indicator: warning}]\n"
        "concepts:\n  weakness: {codes: [sct#26544005]}\n"
        "rules:\n  - id: twice\n    when: weakness count >= 1\n"
        "    then: {suggest: primary-care, summary: Weakness}\n"
    )
    records = [
        Record("weakness", source, NOW - timedelta(days=n), site=site)
        for n, (source, site) in enumerate(
            zip(sources, ["sct#61685007", "sct#7569003"], strict=True)
        )
    ]

    (firing,) = engine.Evaluator(ruleset).evaluate(records, as_of=NOW).trace

    assert dict(firing.matched[0].values)["count"] == count
