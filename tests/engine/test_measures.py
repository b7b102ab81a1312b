"""The engine's measures, through `Evaluator.evaluate` on hand-built rulesets: trends, streaks,
previous and median, exact decimals, ties, reference ranges, markers, coded answers and ages."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Literal

import pytest

import engine
from engine.clock import Duration
from engine.codes import Code
from engine.compiler import compile_ruleset
from engine.conditions import (
    AboveReference,
    CodedIs,
    Compare,
    Marked,
    MedicationState,
    Not,
    Op,
    Streak,
    Trend,
    Window,
)
from engine.model import Concept, Parameter
from engine.records import Quantity, Record
from tests.engine.frozen import CALF_1
from tests.engine.hand_built import AS_OF, POTASSIUM, evaluate, fired, result, ruleset, words

HOUR = Duration(1, "hours")
K2 = replace(POTASSIUM, decimals=2)
CREATININE = Concept(
    "creatinine", (Code("http://loinc.org", "2160-0"),), unit="umol/L", kind="quantity"
)
EGFR = Concept("egfr", (Code("http://loinc.org", "62238-1"),), unit="mL/min", kind="quantity")
RAASI = Concept("raasi", (Code("http://www.whocc.no/atc", "C09"),), kind="medication")
AGE = Concept("age", (), kind="demographic", field="age")
SEX = Concept("sex", (), kind="demographic", field="sex")


def rise(op: Op, threshold: str, gap: Duration | None = HOUR) -> Trend:
    text = f"potassium rise over 1 to 12 hours {op} {threshold}"
    return Trend("potassium", "rise", Duration(12, "hours"), gap, None, op, threshold, text, ())


def creatinine(value: float, hours_ago: float, source: str) -> Record:
    return result(
        value, hours_ago, source, concept="creatinine", unit="umol/L", code="loinc#2160-0"
    )


def test_a_rise_of_exactly_the_threshold_is_not_above_it() -> None:
    rules = ruleset([K2], {"above": rise(">", "0.5 mmol/L"), "at-least": rise(">=", "0.5 mmol/L")})
    # 5.8 - 5.3 is 0.4999999999999991 in binary floating point; in decimal it is 0.50
    records = [result(5.3, 10, "Observation/k1"), result(5.8, 0, "Observation/k2")]

    assert fired(rules, records) == {"at-least"}


def test_a_rise_is_explained_with_its_two_results() -> None:
    rules = ruleset([K2], {"rise": rise(">", "0.5 mmol/L")})
    records = [result(5.2, 10, "Observation/k1"), result(5.8, 0, "Observation/k2")]

    assert words(evaluate(rules, records), "rise") == [
        "rise 0.6 mmol/L over 1 to 12 hours (Observation/k1 → Observation/k2) "
        "['Observation/k1', 'Observation/k2']"
    ]


def test_a_rise_reads_only_comparators_of_the_same_code_inside_the_range() -> None:
    rules = ruleset([K2], {"rise": rise(">", "0.5 mmol/L")})
    latest = result(6.0, 0, "Observation/k3")

    too_recent = result(5.0, 0.5, "Observation/k1")  # inside the 1-hour gap
    too_old = result(5.0, 13, "Observation/k2")
    other_code = result(5.0, 5, "Observation/k4", code="sct#1000651000000109")
    assert fired(rules, [too_recent, too_old, other_code, latest]) == set()
    assert fired(rules, [result(5.0, 5, "Observation/k5"), latest]) == {"rise"}


def test_a_rise_within_a_window_counts_any_result_in_it() -> None:
    window = Window("within", Duration(7, "days"), None, "within 7 days")
    text = "creatinine rise over 48 hours within 7 days >= 26 umol/L"
    trend = Trend(
        "creatinine", "rise", Duration(48, "hours"), None, None, ">=", "26 umol/L", text, (), window
    )
    rules = ruleset([CREATININE], {"aki": trend})
    # the rise was three days ago; the latest result has fallen back
    records = [creatinine(100, 100, "o/1"), creatinine(126, 72, "o/2"), creatinine(90, 1, "o/3")]

    assert fired(rules, records) == {"aki"}
    assert fired(rules, records[:1] + records[2:]) == set()


def test_a_ratio_of_exactly_one_and_a_half_is_one_and_a_half() -> None:
    def ratio(op: Op) -> Trend:
        text = f"creatinine ratio to lowest over 7 days {op} 1.5"
        return Trend(
            "creatinine", "ratio-to-lowest", Duration(7, "days"), None, None, op, "1.5", text, ()
        )

    rules = ruleset([CREATININE], {"at-least": ratio(">="), "above": ratio(">")})
    records = [creatinine(100, 48, "o/1"), creatinine(150, 0, "o/2")]

    assert fired(rules, records) == {"at-least"}


def test_a_ratio_to_median_divides_by_the_median_of_the_comparators() -> None:
    text = "creatinine ratio to median over 7 to 365 days >= 1.5"
    trend = Trend(
        "creatinine",
        "ratio-to-median",
        Duration(365, "days"),
        Duration(7, "days"),
        None,
        ">=",
        "1.5",
        text,
        (),
    )
    rules = ruleset([CREATININE], {"aki": trend})
    days = 24
    baseline = [
        creatinine(v, h * days, f"o/{h}") for v, h in ((80, 300), (120, 200), (90, 100), (100, 30))
    ]
    # median of 80, 90, 100, 120 is 95: 142 / 95 < 1.5 and 143 / 95 > 1.5; the result 2 days
    # before is inside the 7-day gap and is no comparator
    recent = creatinine(50, 2 * days, "o/recent")

    assert fired(rules, [*baseline, recent, creatinine(142, 0, "o/now")]) == set()
    assert fired(rules, [*baseline, recent, creatinine(143, 0, "o/now")]) == {"aki"}


def percent(threshold: str) -> Trend:
    text = f"egfr percent change after raasi started <= {threshold}"
    return Trend("egfr", "percent-change", None, None, "raasi", "<=", threshold, text, ())


def egfr(value: float, hours_ago: float, source: str) -> Record:
    return result(value, hours_ago, source, concept="egfr", unit="mL/min", code="loinc#62238-1")


@pytest.mark.parametrize(("after", "expected"), [(38.0, set()), (37.5, {"fall"})])
def test_a_fall_of_24_percent_is_not_25(after: float, expected: set[str]) -> None:
    rules = ruleset([EGFR, RAASI], {"fall": percent("-25")})
    start = Record(
        "raasi",
        "MedicationRequest/r",
        time=datetime(2026, 10, 1, tzinfo=UTC),
        status="active",
        code="atc#C09",
    )
    records = [
        egfr(60, 24 * 90, "o/old"),
        egfr(50, 24 * 67, "o/base"),  # 1 October, the day it started: still the baseline
        egfr(after, 24 * 3, "o/after"),
        start,
    ]

    evaluation = evaluate(rules, records)

    assert {f.name for f in evaluation.findings} == expected
    if expected:
        assert (
            "percent change -25% after raasi started (o/base → o/after)"
            in words(evaluation, "fall")[0]
        )


def test_a_percent_change_without_the_medication_is_false() -> None:
    rules = ruleset([EGFR, RAASI], {"fall": percent("-25"), "no-fall": Not(percent("-25"), ())})

    assert fired(rules, [egfr(50, 24 * 67, "o/base"), egfr(30, 24, "o/after")]) == {"no-fall"}


def test_previous_is_the_result_before_the_latest() -> None:
    def previous(op: Op) -> Compare:
        return Compare(
            "potassium", "previous", op, "6.0 mmol/L", f"potassium previous {op} 6.0 mmol/L", ()
        )

    rules = ruleset([K2], {"high": previous(">="), "low": previous("<")})
    records = [result(6.2, 20, "o/1"), result(5.1, 10, "o/2"), result(6.5, 0, "o/3")]

    assert fired(rules, records) == {"low"}
    assert fired(rules, [result(6.2, 20, "o/1"), result(6.5, 0, "o/3")]) == {"high"}
    assert fired(rules, [result(6.5, 0, "o/3")]) == set()


def test_an_even_number_of_results_has_the_mean_of_the_two_middle_ones_as_median() -> None:
    window = Window("within", Duration(365, "days"), None, "within 365 days")

    def median(op: Op) -> Compare:
        return Compare(
            "creatinine",
            "median",
            op,
            "100 umol/L",
            f"creatinine median within 365 days {op} 100 umol/L",
            (),
            window,
        )

    rules = ruleset([CREATININE], {"high": median(">"), "exactly": median("=")})
    records = [creatinine(v, 24 * (10 + i), f"o/{i}") for i, v in enumerate((90, 99, 101, 130))]

    assert fired(rules, records) == {"exactly"}
    assert fired(rules, [*records, creatinine(500, 24 * 400, "o/old")]) == {"exactly"}
    assert fired(rules, [*records[1:], creatinine(102, 1, "o/new")]) == {"high"}


@pytest.mark.parametrize(("raw", "below"), [(6.485, True), (6.495, False), (6.4949, True)])
def test_values_round_half_up_to_the_concept_s_places_before_comparing(
    raw: float, below: bool
) -> None:
    rules = ruleset(
        [K2],
        {"below": Compare("potassium", "latest", "<", "6.5 mmol/L", "potassium < 6.5 mmol/L", ())},
    )

    assert fired(rules, [result(raw, 1, "o/1")]) == ({"below"} if below else set())


@pytest.mark.parametrize(("ties", "expected"), [("highest", {"severe"}), ("lowest", set())])
def test_the_ties_rule_decides_which_simultaneous_result_is_the_latest(
    ties: Literal["highest", "lowest"], expected: set[str]
) -> None:
    concept = replace(K2, ties=ties)
    rules = ruleset(
        [concept],
        {
            "severe": Compare(
                "potassium", "latest", ">=", "6.0 mmol/L", "potassium >= 6.0 mmol/L", ()
            )
        },
    )
    records = [result(6.1, 1, "o/a"), result(5.9, 1, "o/b"), result(4.0, 30, "o/old")]

    evaluation = evaluate(rules, records)

    assert {f.name for f in evaluation.findings} == expected
    assert evaluation.warnings == ()  # the ruleset said which is latest: no ambiguity


def test_two_results_at_one_time_without_a_ties_rule_still_warn() -> None:
    rules = ruleset(
        [K2],
        {
            "severe": Compare(
                "potassium", "latest", ">=", "6.0 mmol/L", "potassium >= 6.0 mmol/L", ()
            )
        },
    )

    evaluation = evaluate(rules, [result(6.1, 1, "o/a"), result(5.9, 1, "o/b")])

    assert [w.message.split(":")[0] for w in evaluation.warnings] == ["potassium"]


def test_a_streak_needs_each_of_the_last_results() -> None:
    streak = Streak(
        "potassium", 2, ">=", "6.0 mmol/L", "potassium last 2 results >= 6.0 mmol/L", ()
    )
    rules = ruleset([K2], {"streak": streak})

    assert fired(
        rules, [result(5.0, 30, "o/0"), result(6.0, 20, "o/1"), result(6.3, 1, "o/2")]
    ) == {"streak"}
    assert (
        fired(rules, [result(6.4, 30, "o/0"), result(5.99, 20, "o/1"), result(6.3, 1, "o/2")])
        == set()
    )
    assert fired(rules, [result(6.3, 1, "o/2")]) == set()


def test_above_reference_range_reads_the_result_s_own_high_limit() -> None:
    atom = AboveReference("potassium", "potassium above reference range", ())
    rules = ruleset([K2], {"above": atom})

    def k(value: float, high: str) -> Record:
        return result(value, 1, "o/1", reference_high=Quantity(float(high), "mmol/L"))

    assert fired(rules, [k(5.4, "5.3")]) == {"above"}
    assert fired(rules, [k(5.3, "5.3")]) == set()
    assert fired(rules, [result(9.0, 1, "o/1")]) == set()  # no reference range


def test_a_reference_high_that_cannot_be_converted_is_a_warning_naming_the_result() -> None:
    rules = ruleset(
        [K2], {"above": AboveReference("potassium", "potassium above reference range", ())}
    )
    unusable = result(6.0, 1, "Observation/k", reference_high=Quantity(5.3, "mg"))

    evaluation = evaluate(rules, [unusable])

    assert evaluation.findings == ()
    assert [(w.message, w.source) for w in evaluation.warnings] == [
        (
            "potassium reference range high 5.3 mg cannot be converted to mmol/L; "
            "reference range ignored",
            "Observation/k",
        )
    ]


def test_a_marker_is_read_from_the_latest_result() -> None:
    rules = ruleset(
        [K2], {"haemolysed": Marked("potassium", "haemolysed", "potassium marked haemolysed", ())}
    )

    marked = result(6.8, 2, "o/1", markers=frozenset({"haemolysed"}))
    assert fired(rules, [marked]) == {"haemolysed"}
    assert fired(rules, [marked, result(5.0, 1, "o/2")]) == set()


def test_a_coded_answer_is_matched_by_system_and_code() -> None:
    rhythm = Concept("ecg_rhythm", (Code("http://loinc.org", "8884-9"),), kind="coded")
    rules = ruleset(
        [rhythm],
        {"sinus": CodedIs("ecg_rhythm", "sct#426177001", "ecg_rhythm is sct#426177001", ())},
    )

    def ecg(answer: str) -> Record:
        return Record("ecg_rhythm", "o/ecg", time=AS_OF, answer=answer, code="loinc#8884-9")

    assert fired(rules, [ecg("http://snomed.info/sct#426177001")]) == {"sinus"}
    assert fired(rules, [ecg("sct#426177001")]) == {"sinus"}
    assert fired(rules, [ecg("sct#49436004")]) == set()


def test_sex_is_the_patient_s_administrative_gender() -> None:
    rules = ruleset([SEX], {"female": CodedIs("sex", "female", "sex is female", ())})

    assert fired(rules, [Record("sex", "Patient/p", answer="female")]) == {"female"}
    assert fired(rules, [Record("sex", "Patient/p", answer="male")]) == set()
    assert fired(rules, []) == set()


def age_rules(zone: str = "UTC") -> engine.Ruleset:
    old = Parameter("old_age", 80, "a", "80 years")
    return ruleset(
        [AGE],
        {
            "old": Compare("age", "latest", ">=", "old_age", "age >= old_age", ()),
            "adult": Compare("age", "latest", ">=", "18", "age >= 18", ()),
        },
        parameters=[old],
        time_zone=zone,
    )


def born(day: str) -> Record:
    return Record(
        "age", "Patient/p", time=datetime.fromisoformat(day).replace(tzinfo=UTC), date_only=True
    )


def test_the_80th_birthday_on_the_as_of_date_is_80() -> None:
    assert fired(age_rules(), [born("1946-12-07")]) == {"old", "adult"}
    assert fired(age_rules(), [born("1946-12-08")]) == {"adult"}


def test_age_is_counted_on_the_as_of_date_in_the_ruleset_s_time_zone() -> None:
    evening = datetime(2026, 12, 6, 12, tzinfo=UTC)  # already 7 December in Auckland

    assert fired(age_rules(), [born("1946-12-07")], evening) == {"adult"}
    assert fired(age_rules("Pacific/Auckland"), [born("1946-12-07")], evening) == {"old", "adult"}


@pytest.mark.parametrize(("day", "adult"), [("2026-02-28", False), ("2026-03-01", True)])
def test_a_29_february_birthday_comes_on_1_march(day: str, adult: bool) -> None:
    as_of = datetime.fromisoformat(day).replace(hour=12, tzinfo=UTC)

    assert fired(age_rules(), [born("2008-02-29")], as_of) == ({"adult"} if adult else set())


def test_facts_compute_no_measure_no_rule_reads() -> None:
    calf = engine.load_ruleset(CALF_1)

    compiled = compile_ruleset(calf)

    assert compiled.measures == {}
    assert compiled.history == frozenset()  # nor keeps results older than a lookback


def test_one_measure_read_by_two_rules_is_one_attribute() -> None:
    one = rise(">", "0.5 mmol/L")
    other = replace(one, op=">=", text="potassium rise over 1 to 12 hours >= 0.5 mmol/L")
    opposite = replace(one, op="<=", text="potassium rise over 1 to 12 hours <= 0.5 mmol/L")
    again = replace(one, text="potassium  rise over 1 to 12 hours > 0.5 mmol/L")
    compiled = compile_ruleset(ruleset([K2], {"a": one, "b": again, "c": other, "d": opposite}))

    # > and >= round an inexact value differently (up and down), so they are two attributes;
    # <= rounds as > does, and a repeat is the same measure
    assert len(compiled.measures) == 2
    assert all(key.startswith("m_") and len(key) == 12 for key in compiled.measures)


def test_a_medication_state_is_false_without_records() -> None:
    rules = ruleset([RAASI], {"on": MedicationState("raasi", "active", "raasi active", ())})

    assert fired(rules, []) == set()


def test_a_date_only_result_ties_with_every_result_of_its_date() -> None:
    concept = replace(K2, ties="highest")
    severe = Compare("potassium", "latest", ">=", "6.0 mmol/L", "potassium >= 6.0 mmol/L", ())
    rules = ruleset([concept], {"severe": severe})
    dated = Record(
        "potassium",
        "o/dated",
        time=datetime(2026, 12, 7, tzinfo=UTC),
        value=Quantity(6.2, "mmol/L"),
        date_only=True,
        code="loinc#2823-3",
    )
    yesterday = replace(dated, source="o/yesterday", time=datetime(2026, 12, 6, tzinfo=UTC))

    evaluation = evaluate(rules, [dated, result(5.1, 1, "o/timed")])

    assert {f.name for f in evaluation.findings} == {"severe"}
    assert evaluation.warnings == ()
    assert fired(rules, [yesterday, result(5.1, 1, "o/timed")]) == set()


def test_a_percent_change_baseline_is_no_older_than_over_before_the_start() -> None:
    over = replace(percent("-25"), over=Duration(365, "days"))
    rules = ruleset([EGFR, RAASI], {"fall": over})
    start = Record(
        "raasi", "MedicationRequest/r", time=AS_OF - timedelta(days=60), status="active", code="g"
    )
    follow_up = egfr(30, 24 * 3, "o/after")

    assert fired(rules, [start, egfr(50, 24 * 500, "o/ancient"), follow_up]) == set()
    assert fired(rules, [start, egfr(50, 24 * 300, "o/base"), follow_up]) == {"fall"}


def test_a_fall_is_the_highest_comparator_minus_the_latest() -> None:
    text = "potassium fall over 48 hours >= 1.0 mmol/L"
    fall = Trend(
        "potassium", "fall", Duration(48, "hours"), None, None, ">=", "1.0 mmol/L", text, ()
    )
    rules = ruleset([K2], {"fall": fall})
    records = [result(6.5, 40, "o/1"), result(6.0, 20, "o/2"), result(5.5, 0, "o/3")]

    evaluation = evaluate(rules, records)

    assert words(evaluation, "fall") == ["fall 1 mmol/L over 48 hours (o/1 → o/3) ['o/1', 'o/3']"]
    assert fired(rules, [result(6.5, 50, "o/1"), *records[1:]]) == set()
