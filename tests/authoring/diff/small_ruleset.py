"""A small potassium ruleset, its YAML edited by the diff tests, and FHIR patients for it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

AS_OF = datetime(2026, 3, 1, 12, tzinfo=UTC)

RULESET = """\
id: small-potassium
version: 1.0.0
status: active
title: Small potassium demo
citations:
  ukka: {title: UKKA guideline, section: Severity}
levels:
  - {id: none, title: No action, indicator: info}
  - {id: recheck, title: Recheck, indicator: warning}
  - {id: urgent, title: Urgent today, indicator: critical}
concepts:
  potassium: {kind: quantity, codes: [loinc#2823-3], unit: mmol/L, lookback: 30 days}
  weakness: {codes: [sct#26544005]}
parameters:
  high_potassium: 5.5 mmol/L
  severe_potassium: 6.5 mmol/L
rules:
  - id: severe
    title: Severe raised potassium
    when: potassium >= severe_potassium
    then:
      suggest: urgent
      summary: Severe raised potassium
      cite: [ukka]
  - id: raised
    title: Raised potassium
    when: [potassium >= high_potassium, potassium < severe_potassium]
    then:
      suggest: recheck
      summary: Raised potassium
  - id: weak
    title: Weakness
    when: weakness present
    then:
      suggest: recheck
      summary: Weakness
"""


def patient(index: int, potassium: float) -> list[dict[str, Any]]:
    """Patient/p<index> with one potassium result a day before AS_OF."""
    return [
        {"resourceType": "Patient", "id": f"p{index}"},
        {
            "resourceType": "Observation",
            "id": f"k{index}",
            "status": "final",
            "subject": {"reference": f"Patient/p{index}"},
            "code": {"coding": [{"system": "http://loinc.org", "code": "2823-3"}]},
            "effectiveDateTime": "2026-02-28T12:00:00Z",
            "valueQuantity": {
                "value": potassium,
                "unit": "mmol/L",
                "system": "http://unitsofmeasure.org",
                "code": "mmol/L",
            },
        },
    ]
