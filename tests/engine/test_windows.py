"""Windows on atoms, through `Evaluator.evaluate` on hand-built rulesets: anchored on another
concept's latest reading, of fixed and calendar lengths, given as parameters, and intervals
(events) that overlap them."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from engine.clock import Duration
from engine.codes import Code
from engine.conditions import Compare, Not, Presence, Trend, Window
from engine.model import Concept, Parameter, Ruleset
from engine.records import Record
from tests.engine.hand_built import AS_OF, POTASSIUM, evaluate, fired, result, ruleset, words

HEART_RATE = Concept(
    "heart_rate", (Code("http://loinc.org", "8867-4"),), unit="/min", kind="quantity"
)
WEAKNESS = Concept("weakness", (Code("http://snomed.info/sct", "26544005"),))
DIALYSIS = Concept(
    "dialysis", (Code("http://snomed.info/sct", "302497006"),), kind="event", resource="Procedure"
)
FEATURE_WINDOW = Parameter("feature_window", 24, "h", "24 hours")
SINCE = Window("since", "feature_window", "potassium", "since feature_window before potassium")


def heart_rate(value: float, hours_ago: float, source: str) -> Record:
    return result(value, hours_ago, source, concept="heart_rate", unit="/min", code="loinc#8867-4")


def bradycardia() -> Compare:
    text = "heart_rate < 50 /min since feature_window before potassium"
    return Compare("heart_rate", "latest", "<", "50 /min", text, (), SINCE)


def rules() -> Ruleset:
    return ruleset([POTASSIUM, HEART_RATE], {"slow": bradycardia()}, parameters=[FEATURE_WINDOW])


def test_the_latest_heart_rate_in_the_window_is_compared() -> None:
    potassium = result(6.5, 10, "o/k")
    slow_then_normal = [heart_rate(45, 30, "o/h1"), heart_rate(70, 2, "o/h2")]
    normal_then_slow = [heart_rate(70, 20, "o/h1"), heart_rate(45, 2, "o/h2")]
    slow_before_window = [heart_rate(45, 40, "o/h1")]

    assert fired(rules(), [potassium, *slow_then_normal]) == set()
    assert fired(rules(), [potassium, *normal_then_slow]) == {"slow"}
    assert fired(rules(), [potassium, *slow_before_window]) == set()


def test_the_window_begins_exactly_its_length_before_the_anchor() -> None:
    potassium = result(6.5, 10, "o/k")

    assert fired(rules(), [potassium, heart_rate(45, 34, "o/h")]) == {"slow"}
    assert fired(rules(), [potassium, heart_rate(45, 34.01, "o/h")]) == set()


def test_a_window_anchored_on_a_concept_without_readings_is_empty() -> None:
    negated = Not(bradycardia(), ())
    built = ruleset(
        [POTASSIUM, HEART_RATE],
        {"slow": bradycardia(), "not-slow": negated},
        parameters=[FEATURE_WINDOW],
    )

    assert fired(built, [heart_rate(45, 2, "o/h")]) == {"not-slow"}


def test_the_match_names_the_window_and_the_reading() -> None:
    evaluation = evaluate(rules(), [result(6.5, 10, "o/k"), heart_rate(45, 2, "o/h")])

    assert words(evaluation, "slow") == [
        "latest 45 /min since feature_window before potassium (24 hours) ['o/h']"
    ]


def recorded_within(length: Duration) -> Presence:
    window = Window("within", length, None, f"within {length}")
    return Presence(
        "potassium", "recorded", None, f"potassium recorded within {length}", (), window
    )


@pytest.mark.parametrize(
    ("taken", "recent"),
    [
        (datetime(2025, 9, 7, 12, tzinfo=UTC), True),  # 15 calendar months before 7 Dec 2026
        (datetime(2025, 9, 7, 11, 59, tzinfo=UTC), False),
        (datetime(2025, 9, 8, tzinfo=UTC), True),
    ],
)
def test_a_window_in_months_is_calendar_months(taken: datetime, recent: bool) -> None:
    built = ruleset(
        [POTASSIUM],
        {
            "recent": recorded_within(Duration(15, "months")),
            "not-recent": Not(recorded_within(Duration(15, "months")), ()),
        },
    )
    record = Record("potassium", "o/k", time=taken)

    assert fired(built, [record]) == ({"recent"} if recent else {"not-recent"})


def test_a_window_of_months_is_read_on_the_ruleset_s_calendar() -> None:
    # 1 month before 31 March is 28 February, in the ruleset's zone
    as_of = datetime(2026, 3, 31, 12, tzinfo=UTC)
    built = ruleset([POTASSIUM], {"recent": recorded_within(Duration(1, "months"))})

    assert fired(
        built, [Record("potassium", "o/k", time=datetime(2026, 2, 28, 12, tzinfo=UTC))], as_of
    ) == {"recent"}
    assert (
        fired(
            built, [Record("potassium", "o/k", time=datetime(2026, 2, 28, 11, tzinfo=UTC))], as_of
        )
        == set()
    )


def present_within(concept: str, days: int) -> Presence:
    window = Window("within", Duration(days, "days"), None, f"within {days} days")
    return Presence(concept, "present", None, f"{concept} present within {days} days", (), window)


def test_an_event_counts_when_its_period_overlaps_the_window() -> None:
    built = ruleset([DIALYSIS], {"dialysed": present_within("dialysis", 90)})

    def procedure(start_days: int, end_days: int) -> Record:
        return Record(
            "dialysis",
            "Procedure/d",
            time=AS_OF - timedelta(days=start_days),
            end=AS_OF - timedelta(days=end_days),
            status="completed",
        )

    assert fired(built, [procedure(100, 80)]) == {"dialysed"}
    assert fired(built, [procedure(100, 95)]) == set()
    ongoing = Record("dialysis", "Procedure/d", time=AS_OF - timedelta(days=400), ongoing=True)
    assert fired(built, [ongoing]) == {"dialysed"}


def test_an_active_condition_counts_in_the_window_of_its_onset_only() -> None:
    # "coded AKI dated within 30 days": an AKI still active 40 days after its onset is not
    built = ruleset([WEAKNESS], {"weak": present_within("weakness", 30)})

    def condition(onset_days: int) -> Record:
        return Record(
            "weakness", "Condition/c", time=AS_OF - timedelta(days=onset_days), ongoing=True
        )

    assert fired(built, [condition(40)]) == set()
    assert fired(built, [condition(30)]) == {"weak"}


def test_a_finding_recorded_absent_in_the_window_is_not_present() -> None:
    built = ruleset([WEAKNESS], {"weak": present_within("weakness", 7)})

    absent = Record("weakness", "Observation/w", time=AS_OF - timedelta(days=1), present=False)
    old = Record("weakness", "Observation/w0", time=AS_OF - timedelta(days=30))
    assert fired(built, [absent, old]) == set()
    assert fired(built, [Record("weakness", "Observation/w", time=AS_OF - timedelta(days=6))]) == {
        "weak"
    }


def test_within_before_excludes_the_anchor_s_own_time() -> None:
    window = Window(
        "before", Duration(24, "hours"), "potassium", "within 24 hours before potassium"
    )
    text = "weakness present within 24 hours before potassium"
    built = ruleset(
        [POTASSIUM, WEAKNESS], {"weak": Presence("weakness", "present", None, text, (), window)}
    )
    potassium = result(6.5, 10, "o/k")

    def weak(hours_ago: float) -> Record:
        return Record("weakness", "o/w", time=AS_OF - timedelta(hours=hours_ago))

    assert fired(built, [potassium, weak(20)]) == {"weak"}
    assert fired(built, [potassium, weak(10)]) == set()  # at the anchor's own time
    assert fired(built, [potassium, weak(5)]) == set()  # after it


def test_within_of_reaches_both_sides_of_the_anchor_but_not_past_as_of() -> None:
    window = Window("of", Duration(6, "hours"), "potassium", "within 6 hours of potassium")
    text = "weakness present within 6 hours of potassium"
    built = ruleset(
        [POTASSIUM, WEAKNESS], {"weak": Presence("weakness", "present", None, text, (), window)}
    )
    potassium = result(6.5, 10, "o/k")

    def weak(hours_ago: float) -> Record:
        return Record("weakness", "o/w", time=AS_OF - timedelta(hours=hours_ago))

    assert fired(built, [potassium, weak(15)]) == {"weak"}
    assert fired(built, [potassium, weak(5)]) == {"weak"}
    assert fired(built, [potassium, weak(17)]) == set()


def test_a_window_on_a_concept_may_anchor_on_itself() -> None:
    window = Window("within", Duration(7, "days"), None, "within 7 days")
    mine = Window("since", Duration(7, "days"), "potassium", "since 7 days before potassium")

    def count(w: Window) -> Compare:
        return Compare("potassium", "count", ">=", "2", f"potassium count {w.text} >= 2", (), w)

    built = ruleset([POTASSIUM], {"twice": count(window), "twice-before": count(mine)})
    records = [result(5.0, 24 * 10, "o/1"), result(5.1, 24 * 5, "o/2"), result(5.2, 24 * 9, "o/3")]

    assert fired(built, records) == {"twice-before"}


def test_windows_and_trends_reach_past_the_lookback_but_the_latest_does_not() -> None:
    fortnight = replace(POTASSIUM, lookback=timedelta(days=14), decimals=2)
    recorded = Presence("potassium", "recorded", None, "potassium recorded", ())
    trend = Trend(
        "potassium", "rise", Duration(30, "days"), None, None, ">", "0.5 mmol/L", "rise", ()
    )
    built = ruleset(
        [fortnight],
        {
            "recent": recorded_within(Duration(15, "months")),
            "current": recorded,
            "rise": trend,
        },
    )
    old = result(5.0, 24 * 20, "o/old")

    assert fired(built, [old]) == {"recent"}
    assert fired(built, [old, result(5.6, 24, "o/new")]) == {"recent", "current", "rise"}


def test_a_finding_present_at_a_site_within_a_window_reads_that_site() -> None:
    window = Window("within", Duration(7, "days"), None, "within 7 days")
    text = "weakness present at calf within 7 days"
    calf = {"calf": (Code("http://snomed.info/sct", "53840002"),)}
    built = ruleset(
        [WEAKNESS], {"calf": Presence("weakness", "present", "calf", text, (), window)}, sites=calf
    )

    def weak(site: str) -> Record:
        return Record("weakness", "o/w", time=AS_OF - timedelta(days=1), site=site)

    assert fired(built, [weak("sct#53840002")]) == {"calf"}
    assert fired(built, [weak("sct#61685007")]) == set()


def test_a_windowed_scope_gates_a_rule_that_reads_the_finding_without_the_window() -> None:
    scope = present_within("weakness", 7)
    unwindowed = Presence("weakness", "present", None, "weakness present", ())
    built = replace(ruleset([WEAKNESS], {"weak": unwindowed}), scope=scope)

    old = Record("weakness", "o/w", time=AS_OF - timedelta(days=20))
    assert fired(built, [old]) == set()
    assert fired(built, [Record("weakness", "o/w", time=AS_OF - timedelta(days=2))]) == {"weak"}
