"""A small ruleset with scenarios, written to a folder anywhere on disk, for `vigil test`."""

from __future__ import annotations

from pathlib import Path

RULESET = """\
id: potassium-check
version: 1.0.0
status: draft
title: Low potassium
citations:
  guide: {title: A guideline, section: Potassium}
levels:
  - {id: none, title: No action, indicator: info}
  - {id: urgent, title: Urgent, indicator: critical}
concepts:
  potassium: {codes: [loinc#2823-3], unit: mmol/L, lookback: 30 days, molar-mass: 39.098 g/mol}
parameters:
  severe_potassium: 2.5 mmol/L
rules:
  - id: severe-hypokalaemia
    title: Severe hypokalaemia
    when: potassium < severe_potassium
    then: {suggest: urgent, summary: "Potassium {potassium}", cite: guide}
"""


def scenario(value: str, expect: str, name: str = "A potassium result") -> str:
    """A scenario with one potassium result of `value`, and `expect` (the block's lines)."""
    return (
        f"scenario: {name}\n"
        "now: 2026-03-01T09:00:00Z\n"
        "data:\n"
        "  - observation: loinc#2823-3   # potassium\n"
        "    id: k\n"
        f"    value: {value}\n"
        "    at: -1 day\n"
        f"expect:\n{expect}"
    )


LOW = scenario("2.4 mmol/L", "  escalation: urgent\n  fired: [severe-hypokalaemia]\n", "Low")
NORMAL = scenario(
    "4.1 mmol/L", "  escalation: none\n  not fired: [severe-hypokalaemia]\n", "Normal"
)


def ruleset_folder(root: Path, **scenarios: str) -> Path:
    """`root/potassium` with the ruleset and the scenario files given (name: text); by default
    a low and a normal result, which pass and check the rule both ways."""
    folder = root / "potassium"
    (folder / "scenarios").mkdir(parents=True)
    (folder / "ruleset.yaml").write_text(RULESET)
    for name, text in (scenarios or {"low": LOW, "normal": NORMAL}).items():
        (folder / "scenarios" / f"{name}.yaml").write_text(text)
    return folder
