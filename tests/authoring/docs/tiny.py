"""A tiny ruleset folder for the review page's tests: one analyte with a molar mass and a
valence (three unit systems), markup in its texts, two scenarios that pass."""

from __future__ import annotations

from pathlib import Path

RULESET = """\
id: tiny-docs
version: 0.1.0
status: draft
title: "Low calcium <script>alert(1)</script>"
description: A tiny ruleset for the review page's tests.
authors: [A. Author]
reviewers: []
citations:
  guide:
    title: A guide
    section: "§2"
    url: https://example.org/guide
  sneaky:
    title: A sneaky link
    url: "javascript:alert(1)"
levels:
  - {id: none, title: No action, indicator: info}
  - {id: review, title: Review today, indicator: warning}
concepts:
  calcium:
    kind: quantity
    codes: [loinc#17861-6]
    unit: mmol/L
    molar-mass: 40.078 g/mol
    valence: 2
  heart_rate:
    kind: quantity
    codes: [loinc#8867-4]
    unit: /min
parameters:
  low_calcium: 2.10 mmol/L
  slow_heart: 50 /min
notes:
  - id: recheck
    when: low-calcium fired
    text: Recheck the calcium.
rules:
  - id: low-calcium
    title: "Calcium <b>low</b>"
    when: calcium < low_calcium
    then:
      suggest: review
      summary: "Calcium {calcium} below {low_calcium}"
      cite: [guide, sneaky]
  - id: slow-heart
    title: A slow heart
    when:
      any:
        - heart_rate < slow_heart
        - calcium < 1.5 mmol/L
    then:
      suggest: review
      summary: A slow heart or a very low calcium
      cite: [guide]
"""

LOW = """\
scenario: A low calcium
now: 2026-03-01T09:00:00Z
data:
  - observation: loinc#17861-6
    value: 1.9 mmol/L
    at: -1 day
expect:
  escalation: review
  fired: [low-calcium]
"""

NORMAL = """\
scenario: A normal calcium
now: 2026-03-01T09:00:00Z
data:
  - observation: loinc#17861-6
    value: 2.4 mmol/L
    at: -1 day
expect:
  escalation: none
  not fired: [low-calcium, slow-heart]
"""


def tiny_folder(root: Path, *, ruleset: str = RULESET) -> Path:
    """Write the tiny ruleset and its two scenarios under `root`; its folder."""
    folder = root / "tiny"
    (folder / "scenarios").mkdir(parents=True)
    (folder / "ruleset.yaml").write_text(ruleset)
    (folder / "scenarios" / "low.yaml").write_text(LOW)
    (folder / "scenarios" / "normal.yaml").write_text(NORMAL)
    return folder
