"""A Record's fields as an engineer embedding Vigil fills them: a field the engine cannot read is
a FactError naming the record, never another exception from inside the evaluation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

import engine
from engine import Quantity, Record

NOW = datetime(2026, 3, 1, 9, tzinfo=UTC)
YESTERDAY = NOW - timedelta(days=1)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"reference_low": 3.5}, "reference_low must be a Quantity or None, not 3.5"),
        ({"reference_low": 3}, "reference_low must be a Quantity or None, not 3"),
        ({"value": Quantity(10**400, "mmol/L")}, "a quantity needs a number and a unit"),
        ({"reference_low": Quantity(10**400, "mmol/L")}, "a quantity needs a number and a unit"),
    ],
    ids=["reference-low-float", "reference-low-int", "huge-value", "huge-reference-low"],
)
def test_a_potassium_field_the_engine_cannot_read_is_a_fact_error(
    fields: dict[str, object], message: str
) -> None:
    evaluator = engine.Evaluator("calf-fasciculation")
    record = Record(
        "potassium",
        "Observation/k",
        YESTERDAY,
        **{"value": Quantity(2.3, "mmol/L"), **fields},  # type: ignore[arg-type]
    )

    with pytest.raises(engine.FactError) as raised:
        evaluator.evaluate([record], as_of=NOW)

    assert str(raised.value).startswith("Observation/k: ")
    assert message in str(raised.value)


def test_a_huge_plain_number_is_a_fact_error() -> None:
    evaluator = engine.Evaluator("calf-fasciculation")
    record = Record("mrc_grade", "Observation/m", YESTERDAY, value=10**400)

    with pytest.raises(engine.FactError, match=r"^Observation/m: value must be a Quantity"):
        evaluator.evaluate([record], as_of=NOW)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"now": "2026-03-01"}, "now must be a datetime, not str"),
        ({"now": datetime(2026, 3, 1)}, "now 2026-03-01T00:00:00 has no timezone"),
        ({"as_of": "2026-03-01"}, "as_of must be a datetime, not str"),
        ({"as_of": NOW, "now": "later"}, "now must be a datetime, not str"),
    ],
)
def test_a_time_that_is_no_aware_datetime_is_named_by_its_argument(
    arguments: dict[str, object], message: str
) -> None:
    evaluator = engine.Evaluator("calf-fasciculation")

    with pytest.raises(engine.FactError) as raised:
        evaluator.evaluate([], **arguments)  # type: ignore[arg-type]

    assert str(raised.value) == message


def test_a_record_that_ends_before_it_starts_is_left_out_with_a_warning() -> None:
    # the FHIR reader leaves out such a Period or Condition with a warning: so does the engine
    evaluator = engine.Evaluator("calf-fasciculation")
    records = [
        Record("fasciculation", "Observation/f", NOW - timedelta(days=3)),
        Record(
            "potassium",
            "Observation/k",
            YESTERDAY,
            value=Quantity(2.3, "mmol/L"),
            end=YESTERDAY - timedelta(days=60),
        ),
    ]

    evaluation = evaluator.evaluate(records, as_of=NOW)

    assert [(w.source, w.message) for w in evaluation.warnings] == [
        (
            "Observation/k",
            "potassium ends (2025-12-30T09:00:00+00:00) before it starts "
            "(2026-02-28T09:00:00+00:00): left out",
        )
    ]
    assert evaluation.escalation == "self-care"
