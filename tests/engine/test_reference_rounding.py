"""A result's own reference range is rounded as its values are (`decimals`), then compared in
decimal: `below reference range` and `above reference range` through `evaluate_bundle`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from engine import load_text
from engine.evaluation import Evaluation
from fhir_adapters import evaluate_bundle

AS_OF = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
MMOL = {"unit": "mmol/L", "system": "http://unitsofmeasure.org", "code": "mmol/L"}

REFERENCE = """\
id: reference-test
version: 0.0.1
status: draft
title: Reference ranges, rounded
levels: [{id: none, title: No action, indicator: info}, {id: gp, title: GP, indicator: warning}]
concepts:
  potassium: {codes: [loinc#2823-3], unit: mmol/L, lookback: 30 days, decimals: 2}
rules:
  - id: below-range
    when: potassium below reference range
    then: {suggest: gp, summary: Below its range}
  - id: above-range
    when: potassium above reference range
    then: {suggest: gp, summary: Above its range}
"""


def fired(value: float, low: float | None = None, high: float | None = None) -> set[str]:
    """The rules fired by one potassium of `value` a day before AS_OF, with its range."""
    reference = {
        side: {"value": limit, **MMOL}
        for side, limit in (("low", low), ("high", high))
        if limit is not None
    }
    observation: dict[str, Any] = {
        "resourceType": "Observation",
        "id": "k",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "2823-3"}]},
        "subject": {"reference": "Patient/p"},
        "effectiveDateTime": (AS_OF - timedelta(days=1)).isoformat(),
        "valueQuantity": {"value": value, **MMOL},
        "referenceRange": [reference],
    }
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": {"resourceType": "Patient", "id": "p"}}, {"resource": observation}],
    }
    (only,) = evaluate_bundle(bundle, load_text(REFERENCE), as_of=AS_OF)
    evaluation: Evaluation = only.evaluation
    return {s.rule for s in evaluation.suggestions}


def test_below_and_above_reference_range_compare_with_the_rounded_limits() -> None:
    # 3.504 and 5.496 are read as 3.50 and 5.50: values of 3.50 and 5.50 are within the range
    assert fired(3.5, low=3.504, high=5.6) == set()
    assert fired(5.5, low=3.5, high=5.496) == set()
    assert fired(3.49, low=3.504) == {"below-range"}
    assert fired(5.51, high=5.496) == {"above-range"}
