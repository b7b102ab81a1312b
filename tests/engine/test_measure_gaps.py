"""The measures that close the hyperkalaemia ruleset's language gaps, through
`Evaluator.evaluate` on hand-built rulesets: a trend with a fallback (`else`), a comparison
that has held for a duration, a rise from the median or the previous result, a window of
`M to N before X`, `within N after X`, above a multiple of the reference range with a fallback
limit, the previous result's marker, and the ties of a percent change's baseline."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from engine.codes import Code
from engine.conditions import Condition, parse_condition
from engine.model import Concept, Parameter
from engine.records import Quantity, Record
from tests.engine.hand_built import AS_OF, POTASSIUM, evaluate, fired, result, ruleset, words

DAY = 24
K2 = replace(POTASSIUM, decimals=2)
CREATININE = Concept(
    "creatinine", (Code("http://loinc.org", "2160-0"),), unit="umol/L", kind="quantity"
)
EGFR = Concept(
    "egfr", (Code("http://loinc.org", "62238-1"),), unit="mL/min", kind="quantity", ties="lowest"
)
CK = Concept("creatine_kinase", (Code("http://loinc.org", "2157-6"),), unit="U/L", kind="quantity")
DIALYSIS = Concept(
    "dialysis", (Code("http://snomed.info/sct", "302497006"),), kind="event", resource="Procedure"
)
RAASI = Concept("raasi", (Code("http://www.whocc.no/atc", "C09"),), kind="medication")
PARAMETERS = [
    Parameter("ck_multiple", 5, "1", "5"),
    Parameter("ck_normal_high", 190, "U/L", "190 U/L"),
]


def when(text: str) -> Condition:
    return parse_condition(text, ())


def creatinine(value: float, days_ago: float, source: str) -> Record:
    return result(
        value, days_ago * DAY, source, concept="creatinine", unit="umol/L", code="loinc#2160-0"
    )


def egfr(value: float, days_ago: float, source: str) -> Record:
    return result(
        value, days_ago * DAY, source, concept="egfr", unit="mL/min", code="loinc#62238-1"
    )


def k(value: float, days_ago: float, source: str, **more: object) -> Record:
    return result(value, days_ago * DAY, source, **more)


# -- a trend with a fallback ---------------------------------------------------------------


AKI = "creatinine ratio to lowest over 7 days else median over 7 to 365 days within 7 days >= 1.5"


def test_the_fallback_median_is_used_only_without_a_comparator_in_the_first_range() -> None:
    rules = ruleset([CREATININE], {"aki": when(AKI)})
    year = [creatinine(80, 200, "o/a"), creatinine(100, 100, "o/b"), creatinine(120, 30, "o/c")]

    # no creatinine in the 7 days before: 150 against the median 100
    assert fired(rules, [*year, creatinine(150, 1, "o/now")]) == {"aki"}
    assert fired(rules, [*year, creatinine(149, 1, "o/now")]) == set()
    # one in the 7 days before: the lowest of those (140) decides, not the median
    recent = creatinine(140, 4, "o/recent")
    assert fired(rules, [*year, recent, creatinine(150, 1, "o/now")]) == set()


def test_the_fallback_is_judged_for_each_creatinine_in_the_window() -> None:
    rules = ruleset([CREATININE], {"aki": when(AKI)})
    year = [creatinine(100, 100, "o/b"), creatinine(100, 60, "o/c")]
    # 3 days ago: none in its 7 days before, 160 >= 1.5 x 100; today's has a comparator
    records = [*year, creatinine(160, 3, "o/b1"), creatinine(161, 0, "o/b2")]

    evaluation = evaluate(rules, records)

    assert {f.name for f in evaluation.findings} == {"aki"}
    assert "ratio to median 1.6 over 7 to 365 days (o/c → o/b1)" in words(evaluation, "aki")[0]


def test_the_fallback_range_ends_where_the_first_one_begins() -> None:
    # only today's creatinine is judged
    rules = ruleset([CREATININE], {"aki": when(AKI.replace("within 7 days", "within 1 day"))})
    year = [creatinine(50, 100, "o/a"), creatinine(50, 50, "o/b")]
    # exactly 7 days before: inside the first range (120 / 100), so the median is not used
    assert fired(rules, [*year, creatinine(100, 7, "o/c"), creatinine(120, 0, "o/d")]) == set()
    # an hour older: in the median's range (median 50), and the first range is empty
    older = creatinine(100, 7 + 1 / 24, "o/c")
    assert fired(rules, [*year, older, creatinine(120, 0, "o/d")]) == {"aki"}


# -- a comparison that has held for a duration ---------------------------------------------


LOW_EGFR = "egfr < 60 mL/min for 90 days within 365 days"


@pytest.mark.parametrize(
    ("records", "expected"),
    [
        ([egfr(55, 200, "o/1"), egfr(50, 0, "o/2")], {"ckd"}),
        ([egfr(55, 90, "o/1"), egfr(50, 0, "o/2")], {"ckd"}),  # exactly 90 days
        ([egfr(55, 89, "o/1"), egfr(50, 0, "o/2")], set()),
        ([egfr(55, 200, "o/1"), egfr(65, 100, "o/x"), egfr(50, 0, "o/2")], set()),
        # an older normal value before the earlier low one does not matter
        ([egfr(70, 400, "o/0"), egfr(55, 200, "o/1"), egfr(50, 0, "o/2")], {"ckd"}),
        ([egfr(55, 200, "o/1"), egfr(60, 0, "o/2")], set()),  # the latest is not below 60
        ([egfr(55, 500, "o/1"), egfr(50, 400, "o/2")], set()),  # the latest is over a year old
    ],
)
def test_a_comparison_held_for_90_days(records: list[Record], expected: set[str]) -> None:
    rules = ruleset([EGFR], {"ckd": when(LOW_EGFR)})

    assert fired(rules, records) == expected


def test_a_held_comparison_is_explained_with_both_ends() -> None:
    rules = ruleset([EGFR], {"ckd": when(LOW_EGFR)})

    evaluation = evaluate(rules, [egfr(55, 200, "o/1"), egfr(50, 0, "o/2")])

    assert words(evaluation, "ckd") == ["< 60 mL/min for 90 days: 55 → 50 mL/min ['o/1', 'o/2']"]


def test_the_ties_rule_decides_the_latest_of_a_held_comparison() -> None:
    rules = ruleset([EGFR], {"ckd": when(LOW_EGFR)})
    # two at one time: eGFR ties to the lower, so the latest is 55
    both = [egfr(55, 0, "o/low"), egfr(65, 0, "o/high")]

    assert fired(rules, [egfr(50, 200, "o/1"), *both]) == {"ckd"}


# -- a rise from the median, else from the previous result ----------------------------------


STABLE = "potassium rise from median over 365 days else rise from previous < 0.5 mmol/L"


def test_a_rise_from_the_median_of_the_year_before() -> None:
    rules = ruleset([K2], {"stable": when(STABLE)})
    # the year's median of 5.6, 5.0, 5.7, 5.1 is 5.35; 5.84 - 5.35 is 0.49
    year = [k(5.6, 300, "o/1"), k(5.0, 200, "o/2"), k(5.7, 100, "o/3"), k(5.1, 50, "o/4")]

    assert fired(rules, [*year, k(5.84, 0, "o/now")]) == {"stable"}
    assert fired(rules, [*year, k(5.85, 0, "o/now")]) == set()  # a rise of exactly 0.50


def test_without_a_result_in_the_year_the_previous_one_is_the_baseline() -> None:
    rules = ruleset([K2], {"stable": when(STABLE)})

    assert fired(rules, [k(5.5, 500, "o/old"), k(5.9, 0, "o/now")]) == {"stable"}
    assert fired(rules, [k(5.4, 500, "o/old"), k(5.9, 0, "o/now")]) == set()
    assert fired(rules, [k(5.9, 0, "o/now")]) == set()  # nothing to compare with


# -- a window of M to N before X --------------------------------------------------------------


@pytest.mark.parametrize(("days", "inside"), [(89, False), (90, True), (730, True), (731, False)])
def test_a_window_from_90_to_730_days_before_the_anchor(days: int, inside: bool) -> None:
    atom = when("potassium_result highest within 90 to 730 days before potassium >= 5.5 mmol/L")
    history = replace(POTASSIUM, name="potassium_result", codes=())
    rules = ruleset([POTASSIUM, history], {"p0": atom})
    anchor = k(5.6, 2, "o/index")
    earlier = k(5.7, 2 + days, "o/p0", concept="potassium_result")

    assert fired(rules, [anchor, earlier]) == ({"p0"} if inside else set())


# -- within N after X -----------------------------------------------------------------------


def dialysis(hours_after_sample: float, **more: object) -> Record:
    sample = AS_OF - timedelta(hours=30)
    return Record(
        "dialysis",
        "Procedure/d",
        time=sample + timedelta(hours=hours_after_sample),
        status="completed",
        **more,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("hours", "after"), [(0, False), (0.1, True), (24, True), (24.1, False), (-2, False)]
)
def test_within_24_hours_after_the_sample(hours: float, after: bool) -> None:
    atom = when("dialysis present within 24 hours after potassium")
    rules = ruleset([POTASSIUM, DIALYSIS], {"pre-dialysis": atom})

    fired_ = fired(rules, [result(6.1, 30, "o/k"), dialysis(hours)])

    assert fired_ == ({"pre-dialysis"} if after else set())


def test_within_after_counts_a_session_by_its_start_and_not_after_as_of() -> None:
    atom = when("dialysis present within 24 hours after potassium")
    rules = ruleset([POTASSIUM, DIALYSIS], {"pre-dialysis": atom})
    sample = result(6.1, 3, "o/k")
    # an ongoing session that began before the sample is not after it
    ongoing = dialysis(-5, ongoing=True)
    assert fired(rules, [result(6.1, 30, "o/k"), ongoing]) == set()
    # a session booked after as_of has not happened
    booked = Record("dialysis", "Procedure/d", time=AS_OF + timedelta(hours=2))
    assert fired(rules, [sample, booked]) == set()


# -- above a multiple of the reference range, else a fallback limit -------------------------


CK_ABOVE = "creatine_kinase above ck_multiple times reference range else ck_normal_high"


def ck(value: float, days_ago: float, high: Quantity | None = None) -> Record:
    return result(
        value,
        days_ago * DAY,
        f"Observation/ck{value}",
        concept="creatine_kinase",
        unit="U/L",
        code="loinc#2157-6",
        reference_high=high,
    )


@pytest.mark.parametrize(
    ("value", "high", "expected"),
    [
        (951, None, True),  # 5 x 190
        (950, None, False),
        (1250, Quantity(250, "U/L"), False),  # its own limit: 5 x 250
        (1251, Quantity(250, "U/L"), True),
        (600, Quantity(100, "U/L"), True),
    ],
)
def test_above_five_times_its_own_limit_else_the_fallback(
    value: float, high: Quantity | None, expected: bool
) -> None:
    rules = ruleset([CK], {"rhabdo": when(CK_ABOVE)}, parameters=PARAMETERS)

    assert fired(rules, [ck(value, 1, high)]) == ({"rhabdo"} if expected else set())


def test_an_unreadable_limit_falls_back_with_a_warning_naming_the_result() -> None:
    rules = ruleset([CK], {"rhabdo": when(CK_ABOVE)}, parameters=PARAMETERS)

    evaluation = evaluate(rules, [ck(1000, 1, Quantity(190, "mg"))])

    assert {f.name for f in evaluation.findings} == {"rhabdo"}
    assert [(w.message, w.source) for w in evaluation.warnings] == [
        (
            "creatine_kinase reference range high 190 mg cannot be converted to U/L; "
            "reference range ignored; 190 used",
            "Observation/ck1000",
        )
    ]


def test_a_window_reads_every_result_in_it() -> None:
    atom = when(f"{CK_ABOVE} since 7 days before potassium")
    rules = ruleset([POTASSIUM, CK], {"rhabdo": atom}, parameters=PARAMETERS)
    index = result(6.2, 2 * DAY, "o/k")

    assert fired(rules, [index, ck(2000, 8), ck(100, 0)]) == {"rhabdo"}
    assert fired(rules, [index, ck(2000, 10), ck(100, 0)]) == set()  # before the window


# -- the previous result's marker ------------------------------------------------------------


def test_the_previous_result_s_marker() -> None:
    atom = when("potassium previous marked haemolysed")
    rules = ruleset([K2], {"previous-haemolysed": atom})
    marked = frozenset({"haemolysed"})

    assert fired(rules, [k(6.2, 2, "o/1", markers=marked), k(6.3, 0, "o/2")]) == {
        "previous-haemolysed"
    }
    assert fired(rules, [k(6.2, 2, "o/1"), k(6.3, 0, "o/2", markers=marked)]) == set()
    assert fired(rules, [k(6.3, 0, "o/2", markers=marked)]) == set()


# -- the percent change's baseline window and ties ------------------------------------------


FALL = "egfr percent change after raasi started with baseline within 365 days <= -25"


def started(days_ago: int) -> Record:
    return Record(
        "raasi",
        "MedicationRequest/r",
        time=AS_OF - timedelta(days=days_ago),
        status="active",
        code="atc#C09",
    )


def test_a_baseline_older_than_365_days_before_the_start_is_not_read() -> None:
    rules = ruleset([EGFR, RAASI], {"fall": when(FALL)})
    follow_up = egfr(30, 3, "o/after")

    assert fired(rules, [started(60), egfr(50, 60 + 366, "o/old"), follow_up]) == set()
    assert fired(rules, [started(60), egfr(50, 60 + 365, "o/base"), follow_up]) == {"fall"}


def test_same_time_results_tie_towards_the_larger_fall() -> None:
    rules = ruleset([EGFR, RAASI], {"fall": when(FALL)})
    # baseline 50 and 52 at one time: 52 counts; follow-up 39 and 41: 39 counts (a 25 % fall)
    records = [
        started(60),
        egfr(50, 70, "o/base-low"),
        egfr(52, 70, "o/base-high"),
        egfr(41, 3, "o/after-high"),
        egfr(39, 3, "o/after-low"),
    ]

    evaluation = evaluate(rules, records)

    assert {f.name for f in evaluation.findings} == {"fall"}
    assert "(o/base-high → o/after-low)" in words(evaluation, "fall")[0]


# -- comparators of any of the concept's codes ----------------------------------------------


def test_a_trend_across_codes_compares_results_of_every_code_of_the_concept() -> None:
    rise = "creatinine rise over 48 hours across codes within 7 days >= 26 umol/L"
    same_code = "creatinine rise over 48 hours within 7 days >= 26 umol/L"
    rules = ruleset([CREATININE], {"across": when(rise), "same-code": when(same_code)})
    # 1.0 mg/dL reported under another code is 88.42 umol/L once converted by the adapter
    other = result(88.42, 40, "o/mass", concept="creatinine", unit="umol/L", code="loinc#14682-9")

    assert fired(rules, [other, creatinine(115, 0, "o/now")]) == {"across"}
    assert fired(rules, [other, creatinine(114, 0, "o/now")]) == set()


def test_across_codes_goes_with_a_trend_only() -> None:
    with pytest.raises(ValueError, match="'across codes' goes with a trend"):
        when("creatinine highest across codes > 100 umol/L")


# -- a held comparison that starts at a result of its own ------------------------------------


SINCE_MILD = "potassium < 6.0 mmol/L for 90 to 730 days since a result >= 5.5 mmol/L"


@pytest.mark.parametrize(
    ("records", "expected"),
    [
        ([k(5.6, 300, "o/p0"), k(5.4, 100, "o/1"), k(5.6, 0, "o/now")], {"stable"}),
        ([k(5.6, 89, "o/p0"), k(5.6, 0, "o/now")], set()),  # p0 less than 90 days before
        ([k(5.6, 731, "o/p0"), k(5.6, 0, "o/now")], set()),  # more than 730 days before
        ([k(5.4, 300, "o/p0"), k(5.6, 0, "o/now")], set()),  # not mild
        # a 6.2 before p0 does not matter; one after it does
        ([k(6.2, 500, "o/x"), k(5.6, 300, "o/p0"), k(5.6, 0, "o/now")], {"stable"}),
        ([k(5.6, 500, "o/p0"), k(6.2, 360, "o/x"), k(5.4, 100, "o/1"), k(5.6, 0, "o/now")], set()),
    ],
)
def test_a_comparison_held_since_an_earlier_result(
    records: list[Record], expected: set[str]
) -> None:
    rules = ruleset([K2], {"stable": when(SINCE_MILD)})

    assert fired(rules, records) == expected
