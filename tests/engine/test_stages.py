"""A stage none of whose rules can have every fact it reads is not posted: the evaluation is the
same, without the assert and joins durable_rules would spend on it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import engine
from engine import Quantity, Record
from engine.compiler import compile_ruleset
from engine.stages import may_fire
from tests.engine.rulesets import chained

NOW = datetime(2026, 1, 10, tzinfo=UTC)

# a stratum above the chain: its rules wait for `hypokalaemia` to be settled
NEGATING = chained().replace(
    "levels:",
    "  - id: weak-not-low\n"
    "    when: [weakness present, not hypokalaemia]\n"
    "    then: {suggest: urgent, summary: Weak with normal potassium}\n"
    "  - id: never-low\n"
    "    when: not hypokalaemia\n"
    "    then: {derive: never-low}\n"
    "levels:",
    1,
)


def ruleset() -> engine.Ruleset:
    return engine.load_text(NEGATING)


def test_a_stage_waits_only_for_the_facts_its_rules_read() -> None:
    needs = compile_ruleset(ruleset()).needs

    assert set(needs[1]) == {frozenset({("c", "weakness")}), frozenset()}
    assert not may_fire({1: (frozenset({("c", "weakness")}),)}, 1, {("c", "potassium")})
    assert may_fire(needs, 1, {("c", "weakness")})
    assert may_fire(needs, 1, set())  # a rule of negations only may always fire
    assert may_fire({}, 7, set())  # a stage it does not know


def potassium(value: float) -> Record:
    return Record(
        "potassium", "Observation/k", NOW - timedelta(days=1), value=Quantity(value, "mmol/L")
    )


def weakness() -> Record:
    return Record("weakness", "Observation/w", NOW - timedelta(days=2))


def rules_fired(records: list[Record]) -> list[str]:
    evaluation = engine.Evaluator(ruleset()).evaluate(records, as_of=NOW)
    return [firing.rule for firing in evaluation.trace]


def test_rules_fire_in_every_stage_that_can_fire_and_in_order() -> None:
    assert rules_fired([potassium(3.1), weakness()]) == ["low-potassium", "deficit", "refer"]
    assert rules_fired([potassium(4.1), weakness()]) == ["weak-not-low", "never-low"]
    assert rules_fired([potassium(4.1)]) == ["never-low"]
    assert rules_fired([]) == ["never-low"]
