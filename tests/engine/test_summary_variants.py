"""A suggestion's summary in variants (`summary: [{text, if}, ..., {text}]`: the first whose
condition holds is said, else the last), and a card's result entries of one form (`codes:`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import engine
from tests.engine.test_results import RULESET, evaluate, result

LOW = """\
  - id: low-calcium
    when:
      any:
        - calcium >= severe_calcium and low
        - ionised_calcium >= severe_ionised_calcium and low
    then: {suggest: primary-care, summary: "Calcium is low"}
"""
VARIANTS = """\
  - id: low-calcium
    when:
      any:
        - calcium >= severe_calcium and low
        - ionised_calcium >= severe_ionised_calcium and low
    then:
      suggest: primary-care
      summary:
        - {text: "Low calcium: {calcium}", if: calcium >= severe_calcium and low}
        - text: "Low ionised calcium: {ionised_calcium}"
"""


def ruleset(rules: str = VARIANTS) -> str:
    assert RULESET.count(LOW) == 1
    return RULESET.replace(LOW, rules)


def summary(text: str, *resources: dict[str, Any]) -> str:
    evaluation = evaluate(*resources, text=text)
    return next(s.summary for s in evaluation.suggestions if s.rule == "low-calcium")


def test_the_first_variant_whose_condition_holds_is_said() -> None:
    assert summary(ruleset(), result("c", "17861-6", 2.1, 1)) == "Low calcium: 2.1 mmol/L"
    assert summary(ruleset(), result("i", "1994-3", 1.1, 1)) == "Low ionised calcium: 1.1 mmol/L"


@pytest.mark.parametrize(
    ("variants", "message"),
    [
        (
            '        - {text: "Low calcium", if: calcium low}\n'
            '        - {text: "Low ionised calcium", if: ionised_calcium low}\n',
            "the last summary has no if: it is said otherwise",
        ),
        (
            '        - {text: "Low calcium"}\n        - {text: "Low ionised calcium"}\n',
            "a summary before the last needs an if:",
        ),
        (
            f'        - {{text: "{"Low calcium " * 11}{{calcium}}", if: calcium low}}\n'
            '        - {text: "Low ionised calcium"}\n',
            "summary is about 142 characters once filled in; keep it under 125",
        ),
    ],
)
def test_a_misused_variant_is_located(tmp_path: Path, variants: str, message: str) -> None:
    text = ruleset(VARIANTS.split("      summary:\n")[0] + "      summary:\n" + variants)
    path = tmp_path / "ruleset.yaml"
    path.write_text(text)
    with pytest.raises(engine.RulesetError) as caught:
        engine.load_ruleset(path)
    assert [p.message for p in caught.value.problems] == [message]
