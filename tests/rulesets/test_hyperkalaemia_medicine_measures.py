"""The hyperkalaemia ruleset's exact medicine-anchored forms, evaluated on records built by hand
(the engine's input, free of FHIR): the persistent rule reads whether the previous result was
suspect, and the eGFR-fall baseline lies within 365 days before the start."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import engine
from engine.records import Quantity, Record

AS_OF = datetime(2026, 3, 2, 10, tzinfo=UTC)
RULESET = engine.load_ruleset("hyperkalaemia")


def potassium(
    value: float, days_ago: float, source: str, *, haemolysed: bool = False
) -> list[Record]:
    """One potassium result, as the adapter gives it: to both potassium concepts."""
    markers = frozenset({"haemolysed"}) if haemolysed else frozenset()
    return [
        Record(
            concept,
            source,
            time=AS_OF - timedelta(days=days_ago),
            value=Quantity(value, "mmol/L"),
            code="loinc#2823-3",
            markers=markers,
        )
        for concept in ("potassium", "potassium_result")
    ]


def ramipril(*, asserted_days_ago: float | None, started_days_ago: float = 1000) -> Record:
    """A ramipril record: a request (asserted None, confirmed) or a statement."""
    return Record(
        "raasi",
        "MedicationRequest/r" if asserted_days_ago is None else "MedicationStatement/s",
        time=AS_OF - timedelta(days=started_days_ago),
        status="active",
        code="rxnorm#35296",
        asserted=None if asserted_days_ago is None else AS_OF - timedelta(days=asserted_days_ago),
    )


def egfr(value: float, days_ago: float, source: str) -> Record:
    return Record(
        "egfr",
        source,
        time=AS_OF - timedelta(days=days_ago),
        value=Quantity(value, "mL/min/{1.73_m2}"),
        code="loinc#62238-1",
    )


def fired(records: list[Record]) -> set[str]:
    evaluation = engine.Evaluator(RULESET).evaluate(records, AS_OF)
    return {s.rule for s in evaluation.suggestions}


def test_a_previous_haemolysed_result_does_not_confirm_the_latest() -> None:
    records = [*potassium(6.4, 3, "o/1", haemolysed=True), *potassium(6.2, 0.1, "o/2")]
    unconfirmed = ramipril(asserted_days_ago=730)

    assert "persistent-hyperkalaemia-on-raasi" not in fired([*records, unconfirmed])
    plain = [*potassium(6.4, 3, "o/1"), *potassium(6.2, 0.1, "o/2")]
    assert "persistent-hyperkalaemia-on-raasi" in fired([*plain, unconfirmed])


def test_a_confirmed_raasi_makes_the_previous_haemolysed_result_count() -> None:
    records = [*potassium(6.4, 3, "o/1", haemolysed=True), *potassium(6.2, 0.1, "o/2")]

    assert "persistent-hyperkalaemia-on-raasi" in fired(
        [*records, ramipril(asserted_days_ago=None)]
    )


def test_the_egfr_fall_baseline_is_within_365_days_before_the_start() -> None:
    start = ramipril(asserted_days_ago=None, started_days_ago=40)
    follow_up = egfr(45, 5, "o/after")

    assert "raasi-egfr-fall" in fired([start, egfr(60, 40 + 365, "o/base"), follow_up])
    assert "raasi-egfr-fall" not in fired([start, egfr(60, 40 + 366, "o/old"), follow_up])
