"""A Ruleset built by hand (`dataclasses.replace` on loaded ones) skips the loader: what the
loader would refuse at a line is refused by `Evaluator` as a RulesetError naming the rule, never
run with a rule silently lost, never another exception."""

from __future__ import annotations

from dataclasses import replace

import pytest

import engine
from tests.engine.rulesets import chained


def test_two_rules_with_one_id_are_refused_not_one_of_them_dropped() -> None:
    # the second low-potassium (chained's, which derives hypokalaemia) never fired
    calf = engine.load_ruleset("calf-fasciculation")
    combined = replace(calf, rules=(*calf.rules, *engine.load_text(chained()).rules))

    with pytest.raises(engine.RulesetError, match="rule low-potassium: two rules have this id"):
        engine.Evaluator(combined)


def test_more_rules_than_durable_rules_holds_is_a_ruleset_error() -> None:
    calf = engine.load_ruleset("calf-fasciculation")
    copies = tuple(replace(r, id=f"{r.id}-{n}") for n in range(200) for r in calf.rules)

    with pytest.raises(engine.RulesetError) as raised:
        engine.Evaluator(replace(calf, rules=copies))

    (problem,) = raised.value.problems
    assert "compiles to more than 4000 durable_rules rules" in problem.message


def test_rules_that_derive_each_others_findings_are_a_ruleset_error() -> None:
    ruleset = engine.load_text(chained())
    low, deficit, refer = ruleset.rules
    # low-potassium reads `hypokalaemia`, the finding it derives itself
    looped = replace(ruleset, rules=(replace(low, when=deficit.when), deficit, refer))

    with pytest.raises(engine.RulesetError, match="derive each other's findings"):
        engine.Evaluator(looped)
