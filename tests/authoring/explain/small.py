"""A small potassium and creatinine ruleset and scenario data for the explain tests: a
threshold, a derived finding, a windowed trend and a rise between results."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine import Ruleset
from engine.loader import load_text
from fhir_adapters.scenarios import load_scenario

SMALL = """\
id: small-k
version: 1.0.0
status: draft
title: Small potassium
concepts:
  potassium: {kind: quantity, codes: [loinc#2823-3], unit: mmol/L, valence: 1, lookback: 14 days}
  creatinine: {kind: quantity, codes: [loinc#14682-9], unit: umol/L, lookback: 14 days}
parameters:
  severe_potassium: 2.5 mmol/L
  aki_window: 7 days
levels:
  - {id: none, title: No action, indicator: info}
  - {id: urgent, title: Today, indicator: critical}
rules:
  - id: low-k
    title: Severe low potassium
    when: potassium < severe_potassium
    then: {suggest: urgent, summary: "Severe low potassium: {potassium}"}
  - id: aki
    title: Creatinine rise
    when: creatinine rise over 48 hours within aki_window >= 26 umol/L
    then: {derive: aki}
  - id: low-k-aki
    title: Low potassium with AKI
    when: [potassium < 3.5 mmol/L, aki]
    then: {suggest: urgent, summary: "Low potassium with AKI: {potassium}"}
  - id: k-rise
    title: Rapid potassium rise
    when: potassium rise over 1 to 12 hours > 0.5 mmol/L
    then: {suggest: urgent, summary: "Potassium rising: {potassium}"}
"""

NOW = "2026-03-02T10:00:00Z"


def small() -> Ruleset:
    return load_text(SMALL)


def bundle(tmp_path: Path, data: str) -> dict[str, Any]:
    """The FHIR Bundle a scenario with `data` (its YAML `data:` items) becomes."""
    path = tmp_path / "case.yaml"
    path.write_text(
        f"scenario: explain\nnow: {NOW}\npatient: {{birth-date: 1960-05-05, sex: female}}\n"
        f"data:\n{data}expect:\n  escalation: none\n"
    )
    return load_scenario(path).bundle


def result(code: str, value: str, at: str) -> str:
    return f"  - observation: {code}\n    value: {value}\n    at: {at}\n"


def potassium(value: str, at: str = "-2 hours") -> str:
    return result("loinc#2823-3", value, at)


def creatinine(value: str, at: str) -> str:
    return result("loinc#14682-9", value, at)
