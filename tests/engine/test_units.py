"""What a value in a unit can be: `engine.units.impossible`, and the engine's use of it for
records an embedding program gives directly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from engine import Evaluator, Quantity, Record, load_ruleset, units


@pytest.mark.parametrize(
    ("value", "unit", "reason"),
    [
        (-2.2, "mmol/L", "-2.2 mmol/L is negative, which a substance concentration cannot be"),
        (-0.0, "mg/dL", "-0 mg/dL is negative, which a mass concentration cannot be"),
        (-3, "min", "-3 min is negative, which a duration cannot be"),
        (-1, "mg/d", "-1 mg/d is negative, which a mass per day cannot be"),
        (float("nan"), "mmol/L", "nan mmol/L is not a finite number"),
    ],
)
def test_a_negative_amount_cannot_be(value: float, unit: str, reason: str) -> None:
    assert units.impossible(value, unit) == reason


@pytest.mark.parametrize(("value", "unit"), [(0, "mmol/L"), (0.0, "d"), (4.5, "mmol/l"), (-3, "1")])
def test_zero_an_amount_and_a_negative_score_can_be(value: float, unit: str) -> None:
    assert units.impossible(value, unit) is None


def test_an_unknown_unit_is_a_unit_error() -> None:
    with pytest.raises(units.UnitError):
        units.impossible(1.0, "furlong")


@pytest.mark.parametrize("value", [-2.2, -0.0])
def test_a_record_with_a_negative_potassium_is_left_out_with_a_warning(value: float) -> None:
    now = datetime(2026, 3, 1, tzinfo=UTC)
    evaluation = Evaluator(load_ruleset("calf-fasciculation")).evaluate(
        [
            Record("fasciculation", "Observation/1", now - timedelta(days=3), site="sct#53840002"),
            Record(
                "potassium",
                "Observation/2",
                now - timedelta(days=1),
                value=Quantity(value, "mmol/L"),
            ),
        ],
        as_of=now,
    )
    assert evaluation.escalation == "self-care"
    [warning] = evaluation.warnings
    assert warning.source == "Observation/2"
    assert warning.message == (
        f"potassium value {value:g} mmol/L is negative, which a substance concentration cannot"
        " be; value left out"
    )
