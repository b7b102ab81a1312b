"""A record's own reference range low limit, handed to the library: one that cannot be (not a
number, negative, in a unit that does not convert) is ignored with a warning, as the FHIR
reader ignores one, never compared in silence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

import engine
from engine import Quantity, Record

NOW = datetime(2026, 3, 1, tzinfo=UTC)
TWITCHING = Record("fasciculation", "Observation/t", NOW - timedelta(days=2))


def evaluate(low: Quantity | None) -> engine.Evaluation:
    potassium = Record(
        "potassium",
        "Observation/k",
        NOW - timedelta(days=1),
        value=Quantity(3.8, "mmol/L"),
        reference_low=low,
    )
    evaluator = engine.Evaluator(engine.load_ruleset("calf-fasciculation"))
    return evaluator.evaluate([TWITCHING, potassium], as_of=NOW)


def test_a_reference_low_above_the_value_is_read() -> None:
    assert evaluate(Quantity(4.0, "mmol/L")).escalation == "primary-care"
    assert evaluate(None).escalation == "self-care"


@pytest.mark.parametrize(
    ("low", "reason"),
    [
        (Quantity(float("inf"), "mmol/L"), "inf mmol/L is not a number"),
        (Quantity(float("nan"), "mmol/L"), "nan mmol/L is not a number"),
        (
            Quantity(-4.0, "mmol/L"),
            "-4 mmol/L is negative, which a substance concentration cannot be",
        ),
        (Quantity(4.0, "mmol"), "4 mmol cannot be converted to mmol/L"),
    ],
)
def test_a_reference_low_that_cannot_be_is_ignored_with_a_warning(
    low: Quantity, reason: str
) -> None:
    result = evaluate(low)

    assert result.escalation == "self-care"  # as without a reference range
    assert [(w.source, w.message) for w in result.warnings] == [
        ("Observation/k", f"potassium reference range low {reason}; reference range ignored")
    ]
