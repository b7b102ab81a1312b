"""Small rulesets written for tests, in the clinicians' language."""

from __future__ import annotations

CHAINED = """\
id: chained
version: 1.0.0
status: draft
title: Two levels of chaining
citations:
  guide: {title: A guideline, section: Potassium}
concepts:
  potassium: {codes: [loinc#2823-3], unit: mmol/L, lookback: 30 days, molar-mass: 39.098 g/mol}
  weakness: {codes: [sct#26544005]}
parameters:
  low_potassium: {low}
rules:
  - id: low-potassium
    when: potassium < low_potassium
    then: {derive: hypokalaemia}
  - id: deficit
    when: hypokalaemia
    then: {derive: deficit}
  - id: refer
    when: [deficit, weakness present]
    then:
      suggest: urgent
      summary: "Potassium {potassium} with weakness"
      cite: guide
levels: [{id: none, title: No action, indicator: info},
  {id: urgent, title: Urgent, indicator: critical}]
"""


def chained(low: str = "3.5 mmol/L") -> str:
    return CHAINED.replace("{low}", low)
