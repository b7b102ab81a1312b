"""Medication states, through `Evaluator.evaluate` on hand-built rulesets: active, on hold,
started and ended within a window, confirmed; drug groups by `Record.code`, new starts by
`Record.product`, calendar dates in the ruleset's time zone."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from engine.clock import Duration
from engine.codes import Code
from engine.conditions import MedicationState, MedicationStateName, Not, Trend, Window
from engine.model import Concept
from engine.records import Record
from tests.engine.hand_built import AS_OF, fired, result, ruleset

RAASI = Concept("raasi", (Code("http://www.whocc.no/atc", "C09"),), kind="medication")
EGFR = Concept("egfr", (Code("http://loinc.org", "62238-1"),), unit="mL/min", kind="quantity")


def state(name: MedicationStateName, days: int | None = None) -> MedicationState:
    window = Window("within", Duration(days, "days"), None, f"within {days} days") if days else None
    text = f"raasi {name}" + (f" within {days} days" if days else "")
    return MedicationState("raasi", name, text, (), window)


STATES = ruleset(
    [RAASI],
    {
        "active": state("active"),
        "on-hold": state("on-hold"),
        "started": state("started", 90),
        "ended": state("ended", 14),
        "confirmed": state("confirmed"),
    },
)


def drug(
    days_ago: float,
    *,
    status: str = "active",
    group: str = "rxnorm#29046",
    end_days_ago: float | None = None,
    product: str | None = None,
    asserted_days_ago: float | None = None,
    source: str = "MedicationRequest/m",
) -> Record:
    return Record(
        "raasi",
        source,
        time=AS_OF - timedelta(days=days_ago),
        end=AS_OF - timedelta(days=end_days_ago) if end_days_ago is not None else None,
        status=status,
        code=group,
        product=product,
        asserted=AS_OF - timedelta(days=asserted_days_ago)
        if asserted_days_ago is not None
        else None,
    )


def test_an_active_request_is_active_and_confirmed() -> None:
    assert fired(STATES, [drug(200)]) == {"active", "confirmed"}


def test_a_record_that_ended_before_today_is_not_active() -> None:
    assert fired(STATES, [drug(200, end_days_ago=3)]) == {"ended"}
    assert fired(STATES, [drug(200, end_days_ago=30)]) == set()


def test_a_record_ending_today_in_the_ruleset_s_zone_is_still_active() -> None:
    # 23:00 UTC on 6 December is noon on 7 December in Auckland: the supply ends today there
    ends = datetime(2026, 12, 6, 23, tzinfo=UTC)
    as_of = datetime(2026, 12, 7, 5, tzinfo=UTC)
    record = Record(
        "raasi",
        "MedicationRequest/m",
        time=AS_OF - timedelta(days=30),
        end=ends,
        status="active",
        code="g",
    )
    auckland = ruleset([RAASI], {"active": state("active")}, time_zone="Pacific/Auckland")

    assert fired(ruleset([RAASI], {"active": state("active")}), [record], as_of) == set()
    assert fired(auckland, [record], as_of) == {"active"}


def test_on_hold_needs_no_active_record_in_any_group() -> None:
    held = drug(200, status="on-hold")

    assert fired(STATES, [held]) == {"on-hold"}
    assert fired(STATES, [held, drug(100, group="rxnorm#35296")]) == {"active", "confirmed"}


def test_a_completed_record_ends_on_its_date_without_an_end() -> None:
    assert fired(STATES, [drug(10, status="completed")]) == {"ended"}


def test_started_reads_the_therapy_s_first_record() -> None:
    assert fired(STATES, [drug(60)]) >= {"started"}
    assert "started" not in fired(STATES, [drug(200), drug(60)])  # the same therapy, renewed


def test_a_new_product_in_a_group_is_a_new_start() -> None:
    ramipril_5 = drug(200, product="rxnorm#845488", source="MedicationRequest/a")
    ramipril_10 = drug(30, product="rxnorm#845489", source="MedicationRequest/b")
    same_again = drug(30, product="rxnorm#845488", source="MedicationRequest/c")

    assert "started" in fired(STATES, [ramipril_5, ramipril_10])
    assert "started" not in fired(STATES, [ramipril_5, same_again])


def test_a_statement_is_confirmed_when_asserted_within_12_months() -> None:
    recent = drug(800, asserted_days_ago=100, source="MedicationStatement/s")
    stale = drug(800, asserted_days_ago=400, source="MedicationStatement/s")

    assert "confirmed" in fired(STATES, [recent])
    assert fired(STATES, [stale]) == {"active"}


def test_not_active_holds_without_any_record() -> None:
    built = ruleset([RAASI], {"off": Not(state("active"), ())})

    assert fired(built, []) == {"off"}
    assert fired(built, [drug(10)]) == set()


def test_after_started_reads_results_dated_after_the_start_date() -> None:
    window = Window("after-start", None, "raasi", "after raasi started")
    text = "egfr rise over 365 days after raasi started >= 5 mL/min"
    trend = Trend(
        "egfr", "rise", Duration(365, "days"), None, None, ">=", "5 mL/min", text, (), window
    )
    built = ruleset([RAASI, EGFR], {"rose": trend})

    def egfr(value: float, days_ago: float, source: str) -> Record:
        return result(
            value, days_ago * 24, source, concept="egfr", unit="mL/min", code="loinc#62238-1"
        )

    start = drug(50)
    # the rise from 40 to 46 happened on the start date: not after it
    on_the_day = [egfr(40, 51, "o/1"), egfr(46, 50, "o/2"), egfr(44, 10, "o/3")]
    assert fired(built, [start, *on_the_day]) == set()
    assert fired(built, [start, *on_the_day, egfr(46, 5, "o/4")]) == {"rose"}


def test_a_first_product_after_records_without_one_is_a_new_start() -> None:
    unnamed = drug(200, source="MedicationStatement/a")
    named = drug(30, product="rxnorm#845488", source="MedicationRequest/b")

    assert "started" in fired(STATES, [unnamed, named])


def test_confirmation_counts_calendar_dates() -> None:
    # asserted on 7 December 2025, 12 months before the as-of date, early in the morning
    asserted = datetime(2025, 12, 7, 1, tzinfo=UTC)
    record = replace(drug(800, source="MedicationStatement/s"), asserted=asserted)

    assert "confirmed" in fired(STATES, [record])
    assert "confirmed" not in fired(
        STATES, [replace(record, asserted=asserted - timedelta(days=1))]
    )


def test_a_date_only_start_is_its_own_date_west_of_utc() -> None:
    # started on 8 September, date only: 90 days before 7 December in New York, so within them
    start = replace(drug(0), time=datetime(2026, 9, 8, tzinfo=UTC), date_only=True)
    new_york = ruleset([RAASI], {"started": state("started", 90)}, time_zone="America/New_York")

    assert "started" in fired(new_york, [start])


def test_after_a_date_only_start_begins_the_day_after_it_west_of_utc() -> None:
    window = Window("after-start", None, "raasi", "after raasi started")
    text = "egfr rise over 365 days after raasi started >= 5 mL/min"
    trend = Trend(
        "egfr", "rise", Duration(365, "days"), None, None, ">=", "5 mL/min", text, (), window
    )
    built = ruleset([RAASI, EGFR], {"rose": trend}, time_zone="America/New_York")
    start = replace(drug(0), time=datetime(2026, 9, 8, tzinfo=UTC), date_only=True)

    def egfr(value: float, at: datetime, source: str) -> Record:
        hours = (AS_OF - at).total_seconds() / 3600
        return result(value, hours, source, concept="egfr", unit="mL/min", code="loinc#62238-1")

    # 10:00 on 8 September in New York: the start date itself, so not after the start
    on_the_day = [
        egfr(40, datetime(2026, 9, 1, 14, tzinfo=UTC), "o/1"),
        egfr(46, datetime(2026, 9, 8, 14, tzinfo=UTC), "o/2"),
    ]
    assert fired(built, [start, *on_the_day]) == set()
