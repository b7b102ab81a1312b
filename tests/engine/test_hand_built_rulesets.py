"""A Ruleset built by hand (`dataclasses.replace` on loaded ones) skips the loader: what the
loader would refuse at a line is refused by `Evaluator` as a RulesetError naming the rule, never
run with a rule silently lost, never another exception."""

from __future__ import annotations

from dataclasses import replace

import pytest

import engine
from engine.compiler import MAX_BRANCHES, MAX_RULES
from tests.engine.rulesets import chained


def test_two_rules_with_one_id_are_refused_not_one_of_them_dropped() -> None:
    # the second low-potassium (chained's, which derives hypokalaemia) never fired
    calf = engine.load_ruleset("calf-fasciculation")
    combined = replace(calf, rules=(*calf.rules, *engine.load_text(chained()).rules))

    with pytest.raises(engine.RulesetError, match="rule low-potassium: two rules have this id"):
        engine.Evaluator(combined)


# One rule with as many alternatives as a rule may have, each alternative one durable_rules rule:
# copies of it pass the limit with 63 rules. (200 copies of the calf ruleset proved the same in
# minutes: ordering the rules by the findings they derive grows with the square of their number.)
WIDE = """\
id: wide
version: 1.0.0
status: draft
title: One rule with as many alternatives as a rule may have
concepts:
  potassium: {codes: [loinc#2823-3], unit: mmol/L, lookback: 30 days}
rules:
  - id: low
    when:
      any:
{alternatives}
    then: {derive: low}
"""


def test_more_rules_than_durable_rules_holds_is_a_ruleset_error() -> None:
    alternatives = "\n".join(
        f"        - potassium < {n / 10:.1f} mmol/L" for n in range(10, 10 + MAX_BRANCHES)
    )
    wide = engine.load_text(WIDE.replace("{alternatives}", alternatives))
    (rule,) = wide.rules
    copies = tuple(replace(rule, id=f"low-{n}") for n in range(MAX_RULES // MAX_BRANCHES + 1))

    with pytest.raises(engine.RulesetError) as raised:
        engine.Evaluator(replace(wide, rules=copies))

    (problem,) = raised.value.problems
    assert "compiles to more than 4000 durable_rules rules" in problem.message


def test_rules_that_derive_each_others_findings_are_a_ruleset_error() -> None:
    ruleset = engine.load_text(chained())
    low, deficit, refer = ruleset.rules
    # low-potassium reads `hypokalaemia`, the finding it derives itself
    looped = replace(ruleset, rules=(replace(low, when=deficit.when), deficit, refer))

    with pytest.raises(engine.RulesetError, match="derive each other's findings"):
        engine.Evaluator(looped)
