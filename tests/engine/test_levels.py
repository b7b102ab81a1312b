"""A ruleset's own levels rank its suggestions: nothing in the engine names a level."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import engine
from engine import Evaluator, Quantity, Record
from engine.codes import parse_code
from engine.conditions import All, NoSuggestion
from engine.levels import Ladder, implied_levels, ladder
from engine.model import Level, Referral
from tests.engine.levelled import LEVELS, levelled

NOW = datetime(2026, 7, 1, 10, 0, tzinfo=UTC)
ROOT = Path(__file__).parents[2]
GP = Referral(parse_code("sct#183561008"), "routine")
URGENT = Referral(parse_code("sct#183561008"), "urgent")


def k(value: float, hours: int = 2, source: str = "Observation/k1") -> Record:
    return Record(
        "potassium", source, NOW - timedelta(hours=hours), value=Quantity(value, "mmol/L")
    )


def weak() -> Record:
    return Record("weakness", "Observation/w1", NOW - timedelta(hours=3))


def test_rank_and_highest_come_from_the_declared_levels() -> None:
    levels = Ladder(LEVELS)
    assert [levels.rank(lv.id) for lv in LEVELS] == [0, 1, 2, 3]
    assert levels.highest(["routine-recheck", "emergency", "same-day-review"]) == "emergency"
    assert levels.highest([]) == "none"
    assert levels.first.id == "none" and levels.is_first("none")
    assert "urgent" not in levels
    with pytest.raises(KeyError):
        levels.rank("urgent")


def test_escalation_is_the_highest_declared_level_whatever_the_rule_order() -> None:
    # the rules name emergency after routine-recheck in one order, before it in another
    ruleset = levelled()
    reversed_rules = replace(ruleset, rules=tuple(reversed(ruleset.rules)))
    for rs in (ruleset, reversed_rules):
        evaluation = Evaluator(rs).evaluate([k(6.7)], as_of=NOW)
        assert evaluation.escalation == "emergency"
        assert [s.level for s in evaluation.suggestions] == [
            "emergency",
            "same-day-review",
            "same-day-review",
            "routine-recheck",
            "routine-recheck",
        ]
        assert evaluation.levels == LEVELS


def test_an_information_rule_never_raises_the_escalation() -> None:
    evaluation = Evaluator(levelled()).evaluate([weak(), k(4.5)], as_of=NOW)
    assert evaluation.escalation == "none"
    [info] = evaluation.suggestions
    assert (info.rule, info.level, info.shown, info.proposals) == (
        "weakness-noted",
        "none",
        True,
        (),
    )
    assert evaluation.proposals == ()

    with_mild = Evaluator(levelled()).evaluate([weak(), k(5.6)], as_of=NOW)
    assert with_mild.escalation == "routine-recheck"
    assert [(s.rule, s.shown) for s in with_mild.suggestions] == [
        ("mild", True),
        ("weakness-noted", False),
    ]


def test_nothing_fired_is_the_first_level() -> None:
    evaluation = Evaluator(levelled()).evaluate([k(4.5)], as_of=NOW)
    assert (evaluation.escalation, evaluation.suggestions) == ("none", ())


def test_a_rule_suggesting_an_undeclared_level_is_a_ruleset_error() -> None:
    ruleset = levelled()
    rules = tuple(
        replace(r, then=replace(r.then, suggest="urgent")) if r.id == "mild" else r
        for r in ruleset.rules
    )
    with pytest.raises(engine.RulesetError, match=r"rule mild: there is no level 'urgent'"):
        Evaluator(replace(ruleset, rules=rules))


def test_a_condition_naming_an_undeclared_level_is_a_ruleset_error() -> None:
    ruleset = levelled()
    quiet = NoSuggestion("neurology", "no suggestion at or above neurology", ())
    rules = tuple(
        replace(r, when=All((r.when, quiet), ())) if r.id == "mild" else r for r in ruleset.rules
    )
    with pytest.raises(engine.RulesetError, match=r"rule mild: there is no level 'neurology'"):
        Evaluator(replace(ruleset, rules=rules))


def test_levels_are_implied_for_a_ruleset_that_declares_none() -> None:
    # levels without a referral first, then the referrals' levels in the order written
    levels = implied_levels(
        ["urgent", "primary-care", "self-care", "neurology"],
        {"primary-care": GP, "neurology": GP, "urgent": URGENT},
    )
    assert [(lv.id, lv.indicator) for lv in levels] == [
        ("none", "info"),
        ("self-care", "info"),
        ("primary-care", "warning"),
        ("neurology", "warning"),
        ("urgent", "critical"),
    ]
    hand_built = replace(levelled(), levels=())
    assert [lv.id for lv in ladder(hand_built).levels] == [
        "none",
        "routine-recheck",
        "same-day-review",
        "emergency",
    ]


def test_declared_levels_are_used_as_they_are() -> None:
    mine = (Level("quiet", "Quiet", "info"), Level("loud", "Loud", "critical"))
    assert ladder(replace(levelled(), levels=mine, rules=())).levels == mine


def test_the_engine_names_no_level() -> None:
    # the levels are the rulesets': none of the calf ruleset's names in the engine's code
    names = re.compile(r"""["'](self-care|primary-care|neurology)["']""")
    owned = ["engine/levels.py", "engine/evaluator.py", "engine/evaluation.py"]
    owned += ["engine/proposals.py", "engine/compiler.py", "engine/dependencies.py"]
    owned += ["fhir_adapters/cards.py", "vigil/commands/evaluate.py"]
    for path in owned:
        assert not names.search((ROOT / path).read_text()), path
