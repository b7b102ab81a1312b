"""A small ruleset that lints clean, and helpers to lint an edited copy of it."""

from __future__ import annotations

from authoring.findings import Finding
from authoring.lint import lint
from engine.loader import check_text
from engine.yaml_source import load_yaml

CLEAN = """\
id: lint-example
version: 1.0.0
status: draft
title: Lint example
reviewers: [Dr A Reviewer]
citations:
  guide: {title: A guideline}
levels:
  - {id: none, title: No action, indicator: info}
  - {id: mild, title: Mild, indicator: info}
  - {id: moderate, title: Moderate, indicator: warning}
  - {id: severe, title: Severe, indicator: critical}
hit-policy: {show: escalation}
concepts:
  potassium: {kind: quantity, codes: [loinc#2823-3], unit: mmol/L}
parameters:
  mild_potassium: 5.5 mmol/L
  moderate_potassium: 6.0 mmol/L
  severe_potassium: 6.5 mmol/L
rules:
  - id: mild-k
    when: [potassium >= mild_potassium, potassium < moderate_potassium]
    then: {suggest: mild, summary: Mild, cite: [guide]}
  - id: moderate-k
    when: [potassium >= moderate_potassium, potassium < severe_potassium]
    then: {suggest: moderate, summary: Moderate, cite: [guide]}
  - id: severe-k
    when: potassium >= severe_potassium
    then: {suggest: severe, summary: Severe, cite: [guide]}
"""


def edited(*changes: tuple[str, str]) -> str:
    """CLEAN with each (old, new) replaced once; every old text must be there."""
    text = CLEAN
    for old, new in changes:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


def lint_text(text: str) -> list[Finding]:
    ruleset = check_text(text, "ruleset.yaml")
    source, problems = load_yaml(text, "ruleset.yaml")
    assert source is not None and not problems
    return lint(ruleset, source)


def line_of(text: str, needle: str) -> int:
    """The 1-based line of the one line containing `needle`."""
    lines = [n for n, line in enumerate(text.splitlines(), 1) if needle in line]
    assert len(lines) == 1, (needle, lines)
    return lines[0]


def lines_of(findings: list[Finding], code: str) -> list[int]:
    return [f.line for f in findings if f.code == code]
