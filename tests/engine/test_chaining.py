"""Derived findings chain through durable_rules: a rule fires on another rule's finding."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import engine
from engine import Quantity, Record
from tests.engine.rulesets import chained

NOW = datetime(2026, 1, 10, tzinfo=UTC)


def potassium(value: float, unit: str = "mmol/L", days_ago: float = 1) -> Record:
    return Record(
        "potassium", "Observation/k", NOW - timedelta(days=days_ago), value=Quantity(value, unit)
    )


def weakness(present: bool = True) -> Record:
    return Record("weakness", "Observation/w", NOW - timedelta(days=2), present=present)


def evaluate(records: list[Record], low: str = "3.5 mmol/L") -> engine.Evaluation:
    return engine.Evaluator(engine.load_text(chained(low))).evaluate(records, as_of=NOW)


def test_a_rule_fires_only_on_findings_derived_by_other_rules() -> None:
    evaluation = evaluate([potassium(3.1), weakness()])

    assert [f.rule for f in evaluation.trace] == ["low-potassium", "deficit", "refer"]
    refer = evaluation.trace[2]
    assert [(m.kind, m.name) for m in refer.matched] == [
        ("finding", "deficit"),
        ("concept", "weakness"),
    ]
    assert evaluation.escalation == "urgent"
    assert evaluation.suggestions[0].evidence == ("Observation/k", "Observation/w")
    assert evaluation.suggestions[0].summary == "Potassium 3.1 mmol/L with weakness"


def test_without_the_first_finding_nothing_down_the_chain_fires() -> None:
    evaluation = evaluate([potassium(3.9), weakness()])

    assert evaluation.trace == ()
    assert evaluation.escalation == "none"


def test_an_absent_finding_is_evidence_against() -> None:
    evaluation = evaluate([potassium(3.1), weakness(present=False)])

    assert [f.rule for f in evaluation.trace] == ["low-potassium", "deficit"]
    assert evaluation.escalation == "none"


def test_values_are_converted_to_the_concepts_unit_before_comparing() -> None:
    # 12 mg/dL potassium is 3.07 mmol/L
    evaluation = evaluate([potassium(12, "mg/dL"), weakness()])

    assert evaluation.escalation == "urgent"
    assert dict(evaluation.trace[0].matched[0].values) == {
        "latest": "3.069 mmol/L (reported as 12 mg/dL)"
    }


def test_results_older_than_the_lookback_are_not_current() -> None:
    assert evaluate([potassium(3.1, days_ago=31), weakness()]).escalation == "none"
    assert evaluate([potassium(3.1, days_ago=30), weakness()]).escalation == "urgent"


def test_an_unconvertible_unit_is_left_out_with_a_warning_naming_the_resource() -> None:
    evaluation = evaluate([potassium(3.1, "mg/d"), weakness()])

    assert evaluation.escalation == "none"
    assert [str(w) for w in evaluation.warnings] == [
        "Observation/k: potassium value 3.1 mg/d cannot be converted to mmol/L; value left out"
    ]
