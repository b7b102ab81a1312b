"""`{X old}`: the old abnormal value a `not rechecked` condition found, in a proposal's note
("last magnesium 0.50 mmol/L on 2025-12-31 was low"), written with the concept's
`shown-decimals`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import engine
from tests.engine.test_results import RULESET, evaluate, result

RECHECK = """\
  - id: magnesium-not-rechecked
    when: magnesium not rechecked within recheck_window
    then: {suggest: primary-care, summary: "Magnesium {magnesium} was not rechecked"}
"""
WITH_NOTE = """\
  - id: magnesium-not-rechecked
    when: magnesium not rechecked within recheck_window
    then:
      suggest: primary-care
      summary: "Magnesium {magnesium} was not rechecked"
      propose:
        - {code: loinc#2601-3, label: Repeat magnesium, kind: lab-order,
           note: "Repeat magnesium: {magnesium old} and has not been repeated"}
"""


def ruleset(rules: str = WITH_NOTE, shown: bool = True) -> str:
    assert RULESET.count(RECHECK) == 1
    text = RULESET.replace(RECHECK, rules)
    if shown:
        text = text.replace("  magnesium:\n", "  magnesium:\n    shown-decimals: 2\n", 1)
    return text


def note(text: str, *resources: dict[str, Any]) -> str | None:
    (order,) = evaluate(*resources, text=text).proposals
    return order.text


def test_a_proposal_note_names_the_old_value_and_its_date() -> None:
    old = result("m1", "2601-3", 0.5, 60)
    assert note(ruleset(), old) == (
        "Repeat magnesium: last magnesium 0.50 mmol/L on 2025-12-31 was low and has not been "
        "repeated"
    )
    assert note(ruleset(shown=False), old) == (
        "Repeat magnesium: last magnesium 0.5 mmol/L on 2025-12-31 was low and has not been "
        "repeated"
    )


def test_old_is_a_quantitys_part(tmp_path: Path) -> None:
    text = ruleset().replace("{magnesium old}", "{pregnancy old}")
    path = tmp_path / "ruleset.yaml"
    path.write_text(text)
    with pytest.raises(engine.RulesetError, match=r"\{pregnancy old\}"):
        engine.load_ruleset(path)
