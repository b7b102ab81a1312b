"""`engine.why_not`: a rule's literals judged on the facts its session saw, the closest
alternative chosen, a comparison's shortfall, a negation and a count in words."""

from __future__ import annotations

from datetime import timedelta

from engine import Evaluator, Record
from engine.loader import load_text
from engine.why_not import Miss, why_not
from tests.engine.hand_built import AS_OF, result

RULES = """\
id: why-not
version: 1.0.0
status: draft
title: Why not
concepts:
  potassium: {kind: quantity, codes: [loinc#2823-3], unit: mmol/L, lookback: 14 days}
  weakness: {codes: [sct#26544005], lookback: 365 days}
levels:
  - {id: none, title: No action, indicator: info}
  - {id: urgent, title: Today, indicator: critical}
rules:
  - id: either
    when:
      any:
        - [potassium < 2.5 mmol/L, weakness present]
        - potassium <= 3.0 mmol/L
    then: {derive: either}
  - id: not-low
    when: not potassium < 3.5 mmol/L
    then: {derive: not-low}
  - id: repeated-weakness
    when: weakness count >= 2
    then: {derive: repeated-weakness}
"""


def misses(records: list[Record]) -> dict[str, Miss]:
    examined = Evaluator(load_text(RULES)).examine(records, AS_OF)
    return {m.rule: m for m in why_not(examined.session)}


def weakness(days_ago: int, source: str) -> Record:
    return Record("weakness", source, time=AS_OF - timedelta(days=days_ago), code="sct#26544005")


def test_the_alternative_with_fewest_failures_is_explained_exactly_at_its_line() -> None:
    found = misses([result(3.0, 1, "Observation/k1")])

    assert "either" not in found  # 3.0 <= 3.0 fired
    found = misses([result(3.1, 1, "Observation/k1")])
    either = found["either"]
    assert (either.failing, either.alternatives) == (1, 2)
    assert either.failed.words == (
        "potassium 3.1 mmol/L on 2026-12-07 (Observation/k1) is not at or below 3 mmol/L "
        "(0.1 mmol/L above)"
    )


def test_a_negation_that_failed_says_what_holds() -> None:
    failed = misses([result(3.1, 1, "Observation/k1")])["not-low"].failed

    assert failed.condition == "not potassium < 3.5 mmol/L"
    assert failed.words == "potassium 3.1 mmol/L on 2026-12-07 (Observation/k1)"


def test_a_count_is_compared_in_records_and_nothing_recorded_is_said() -> None:
    failed = misses([weakness(3, "Condition/w1")])["repeated-weakness"].failed
    assert failed.words == "weakness count 1 is not at or above 2 (1 below)"

    nothing = misses([])["repeated-weakness"].failed
    assert nothing.words == "no weakness recorded within its lookback of 365 days"
