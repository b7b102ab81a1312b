"""The condition lines that close the hyperkalaemia ruleset's language gaps: how each parses,
and each misuse as a one-line error in clinical words (at parse time, or located when the
ruleset loads)."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.clock import Duration
from engine.conditions import (
    AboveReference,
    ConditionSyntaxError,
    Marked,
    Presence,
    Streak,
    Trend,
    Window,
    parse_condition,
)
from tests.engine.test_language_loader import BASE, WHEN_LINE, problems, rule

PATH = ("rules", 0, "when")
DAYS_90 = Duration(90, "days")


def test_a_trend_with_a_fallback() -> None:
    line = (
        "creatinine ratio to lowest over 7 days else median over 7 to 365 days "
        "within 7 days >= aki_ratio"
    )

    atom = parse_condition(line, PATH)

    assert isinstance(atom, Trend)
    assert (atom.measure, atom.over, atom.gap) == ("ratio-to-lowest", Duration(7, "days"), None)
    assert (atom.else_measure, atom.else_over, atom.else_gap) == (
        "ratio-to-median",
        Duration(365, "days"),
        Duration(7, "days"),
    )
    assert atom.window == Window("within", Duration(7, "days"), None, "within 7 days")


@pytest.mark.parametrize(
    ("line", "measure", "over", "else_measure"),
    [
        ("potassium rise from median over 365 days < 0.5 mmol/L", "rise-from-median", 365, None),
        ("potassium rise from previous < 0.5 mmol/L", "rise-from-previous", None, None),
        (
            "potassium rise from median over 365 days else rise from previous < 0.5 mmol/L",
            "rise-from-median",
            365,
            "rise-from-previous",
        ),
        ("potassium rise from lowest over 365 days > 0.5 mmol/L", "rise", 365, None),
    ],
)
def test_rises_from_the_median_and_the_previous_result(
    line: str, measure: str, over: int | None, else_measure: str | None
) -> None:
    atom = parse_condition(line, PATH)

    assert isinstance(atom, Trend)
    assert atom.measure == measure
    assert atom.over == (Duration(over, "days") if over else None)
    assert atom.else_measure == else_measure


def test_a_comparison_held_for_a_duration() -> None:
    atom = parse_condition("egfr < ckd_egfr for at least 90 days within 365 days", PATH)

    assert atom == Streak(
        "egfr",
        1,
        "<",
        "ckd_egfr",
        "egfr < ckd_egfr for at least 90 days within 365 days",
        PATH,
        Window("within", Duration(365, "days"), None, "within 365 days"),
        lasting=DAYS_90,
    )


def test_a_window_from_m_to_n_before_a_concept() -> None:
    atom = parse_condition(
        "potassium_result highest within 90 to 730 days before potassium >= 5.5 mmol/L", PATH
    )

    assert getattr(atom, "window", None) == Window(
        "before",
        Duration(730, "days"),
        "potassium",
        "within 90 to 730 days before potassium",
        DAYS_90,
    )


def test_a_window_after_a_concept() -> None:
    atom = parse_condition("dialysis present within 24 hours after potassium", PATH)

    assert isinstance(atom, Presence)
    assert atom.window == Window(
        "after", Duration(24, "hours"), "potassium", "within 24 hours after potassium"
    )


def test_above_a_multiple_of_the_reference_range_with_a_fallback_and_a_window() -> None:
    line = (
        "creatine_kinase above 5 times reference range else 190 U/L since 7 days before potassium"
    )

    atom = parse_condition(line, PATH)

    assert isinstance(atom, AboveReference)
    assert (atom.multiple, atom.fallback) == ("5", "190 U/L")
    assert atom.window == Window(
        "since", Duration(7, "days"), "potassium", "since 7 days before potassium"
    )


def test_the_previous_result_s_marker() -> None:
    atom = parse_condition("potassium previous marked haemolysed", PATH)

    assert atom == Marked(
        "potassium", "haemolysed", "potassium previous marked haemolysed", PATH, "previous"
    )


def test_a_percent_change_with_its_baseline_window() -> None:
    line = "egfr percent change after raasi started with baseline within 365 days <= -25"

    atom = parse_condition(line, PATH)

    assert isinstance(atom, Trend)
    assert (atom.measure, atom.since, atom.over) == (
        "percent-change",
        "raasi",
        Duration(365, "days"),
    )


@pytest.mark.parametrize(
    ("line", "words"),
    [
        (
            "potassium highest within 730 to 90 days before creatinine >= 5.5 mmol/L",
            "write the shorter duration first",
        ),
        (
            "potassium highest within 90 to 730 days of creatinine >= 5.5 mmol/L",
            "a range of durations is read before a concept",
        ),
        ("potassium rise over 2 days else banana > 0.5 mmol/L", "after 'else' write the measure"),
        ("potassium fall from median over 2 days > 0.5 mmol/L", "fall from median is not a trend"),
        ("potassium lowest < 3 mmol/L for 90 days", "'for <duration>' reads the latest result"),
        ("potassium < 3 mmol/L for 90", "'90' has no unit"),
        ("potassium below 2 times reference range", "'times' and 'else' go with 'above"),
        ("potassium previous marked haemolysed within 2 days", "does not apply here"),
    ],
)
def test_a_misused_line_says_why(line: str, words: str) -> None:
    with pytest.raises(ConditionSyntaxError) as caught:
        parse_condition(line, PATH)
    assert words in str(caught.value)
    assert caught.value.path == PATH


@pytest.mark.parametrize(
    ("when", "message"),
    [
        (
            "creatinine rise over 2 days else ratio to median over 7 to 365 days >= 26 umol/L",
            "in 'creatinine rise over 2 days else ratio to median over 7 to 365 days >= 26 "
            "umol/L': a difference (rise, fall) and a ratio cannot stand in for each other "
            "after 'else'; use the same kind of measure on both sides",
        ),
        (
            "creatinine above high_potassium times reference range",
            "in 'creatinine above high_potassium times reference range': high_potassium "
            "(6.0 mmol/L) times the reference range: the multiple is a plain number above 0",
        ),
        (
            "creatinine above 5 times reference range else 3 days",
            "in 'creatinine above 5 times reference range else 3 days': the limit after "
            "'else': threshold 3 days is in d (duration), which cannot be compared with "
            "creatinine in umol/L (substance concentration)",
        ),
        (
            "egfr < 60 mL/min/{1.73_m2} for aki_ratio",
            "aki_ratio (1.5) is not a duration such as 24 hours, 90 days or 15 months, so it "
            "cannot be a window",
        ),
        (
            "potassium highest within aki_ratio to 730 days before creatinine > 5 mmol/L",
            "aki_ratio (1.5) is not a duration such as 24 hours, 90 days or 15 months, so it "
            "cannot be a window",
        ),
        (
            "dialysis present within 24 hours after kalium",
            "'kalium' in 'within 24 hours after kalium' is not a concept; a window is anchored "
            "on the latest reading of a concept",
        ),
    ],
)
def test_a_misused_line_is_located_when_the_ruleset_loads(
    tmp_path: Path, when: str, message: str
) -> None:
    found = problems(BASE + rule(when), tmp_path)

    assert found == [f"{WHEN_LINE}:11: {message}"]


def test_a_comparison_held_since_a_result_of_its_own() -> None:
    line = "potassium < 6.0 mmol/L for 90 to 730 days since a result >= mild_potassium"

    atom = parse_condition(line, PATH)

    assert isinstance(atom, Streak)
    assert (atom.threshold, atom.lasting, atom.lasting_most) == (
        "6.0 mmol/L",
        DAYS_90,
        Duration(730, "days"),
    )
    assert (atom.start_op, atom.start_threshold) == (">=", "mild_potassium")


def test_a_held_comparison_s_start_threshold_is_checked_when_the_ruleset_loads(
    tmp_path: Path,
) -> None:
    when = "potassium < high_potassium for 90 to 730 days since a result >= 5 /min"

    found = problems(BASE + rule(when), tmp_path)

    assert found == [
        f"{WHEN_LINE}:11: in '{when}': the result it starts at: threshold 5 /min is in /min "
        "(frequency), which cannot be compared with potassium in mmol/L (substance "
        "concentration)"
    ]
