"""Each line of the general language parses into the atom the engine reads."""

from __future__ import annotations

import pytest

from engine.clock import Duration
from engine.conditions import (
    AboveReference,
    CodedIs,
    Compare,
    ConditionSyntaxError,
    Marked,
    MedicationState,
    Not,
    Presence,
    Streak,
    Trend,
    Window,
    parse_condition,
    parse_duration,
)

PATH = ("rules", 0, "when")


def within(amount: int, unit: str, text: str) -> Window:
    return Window("within", Duration(amount, unit), None, text)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "heart_rate < bradycardia_hr since feature_window before potassium",
            Compare(
                "heart_rate",
                "latest",
                "<",
                "bradycardia_hr",
                "heart_rate < bradycardia_hr since feature_window before potassium",
                PATH,
                Window(
                    "since", "feature_window", "potassium", "since feature_window before potassium"
                ),
            ),
        ),
        (
            "weakness present since 24 hours before potassium",
            Presence(
                "weakness",
                "present",
                None,
                "weakness present since 24 hours before potassium",
                PATH,
                Window(
                    "since", Duration(24, "hours"), "potassium", "since 24 hours before potassium"
                ),
            ),
        ),
        (
            "aki_coded present within 30 days",
            Presence(
                "aki_coded",
                "present",
                None,
                "aki_coded present within 30 days",
                PATH,
                within(30, "days", "within 30 days"),
            ),
        ),
        (
            "neurology_referral present within 12 months",
            Presence(
                "neurology_referral",
                "present",
                None,
                "neurology_referral present within 12 months",
                PATH,
                within(12, "months", "within 12 months"),
            ),
        ),
        (
            "lipids not recorded within 365 days",
            Not(
                Presence(
                    "lipids",
                    "recorded",
                    None,
                    "lipids not recorded within 365 days",
                    PATH,
                    within(365, "days", "within 365 days"),
                ),
                PATH,
            ),
        ),
        (
            "potassium recorded within 1 year",
            Presence(
                "potassium",
                "recorded",
                None,
                "potassium recorded within 1 year",
                PATH,
                within(1, "years", "within 1 year"),
            ),
        ),
        (
            "creatinine median within 365 days > 100 umol/L",
            Compare(
                "creatinine",
                "median",
                ">",
                "100 umol/L",
                "creatinine median within 365 days > 100 umol/L",
                PATH,
                within(365, "days", "within 365 days"),
            ),
        ),
        (
            "potassium previous >= moderate_potassium",
            Compare(
                "potassium",
                "previous",
                ">=",
                "moderate_potassium",
                "potassium previous >= moderate_potassium",
                PATH,
            ),
        ),
        (
            "potassium rise over 1 to 12 hours > 0.5 mmol/L",
            Trend(
                "potassium",
                "rise",
                Duration(12, "hours"),
                Duration(1, "hours"),
                None,
                ">",
                "0.5 mmol/L",
                "potassium rise over 1 to 12 hours > 0.5 mmol/L",
                PATH,
            ),
        ),
        (
            "creatinine rise over 48 hours within 7 days >= 26 umol/L",
            Trend(
                "creatinine",
                "rise",
                Duration(48, "hours"),
                None,
                None,
                ">=",
                "26 umol/L",
                "creatinine rise over 48 hours within 7 days >= 26 umol/L",
                PATH,
                within(7, "days", "within 7 days"),
            ),
        ),
        (
            "creatinine ratio to lowest over 7 days within 7 days >= aki_ratio",
            Trend(
                "creatinine",
                "ratio-to-lowest",
                Duration(7, "days"),
                None,
                None,
                ">=",
                "aki_ratio",
                "creatinine ratio to lowest over 7 days within 7 days >= aki_ratio",
                PATH,
                within(7, "days", "within 7 days"),
            ),
        ),
        (
            "creatinine ratio to median over 7 to 365 days >= aki_ratio",
            Trend(
                "creatinine",
                "ratio-to-median",
                Duration(365, "days"),
                Duration(7, "days"),
                None,
                ">=",
                "aki_ratio",
                "creatinine ratio to median over 7 to 365 days >= aki_ratio",
                PATH,
            ),
        ),
        (
            "egfr percent change after raasi started <= -25",
            Trend(
                "egfr",
                "percent-change",
                None,
                None,
                "raasi",
                "<=",
                "-25",
                "egfr percent change after raasi started <= -25",
                PATH,
            ),
        ),
        (
            "potassium last 2 results >= 6.0 mmol/L",
            Streak(
                "potassium", 2, ">=", "6.0 mmol/L", "potassium last 2 results >= 6.0 mmol/L", PATH
            ),
        ),
        (
            "potassium above reference range",
            AboveReference("potassium", "potassium above reference range", PATH),
        ),
        (
            "potassium marked haemolysed",
            Marked("potassium", "haemolysed", "potassium marked haemolysed", PATH),
        ),
        ("raasi active", MedicationState("raasi", "active", "raasi active", PATH)),
        ("raasi on hold", MedicationState("raasi", "on-hold", "raasi on hold", PATH)),
        ("raasi confirmed", MedicationState("raasi", "confirmed", "raasi confirmed", PATH)),
        (
            "raasi started within 90 days",
            MedicationState(
                "raasi",
                "started",
                "raasi started within 90 days",
                PATH,
                within(90, "days", "within 90 days"),
            ),
        ),
        (
            "nsaid ended within 14 days",
            MedicationState(
                "nsaid",
                "ended",
                "nsaid ended within 14 days",
                PATH,
                within(14, "days", "within 14 days"),
            ),
        ),
        ("age >= old_age", Compare("age", "latest", ">=", "old_age", "age >= old_age", PATH)),
        ("sex is female", CodedIs("sex", "female", "sex is female", PATH)),
        (
            "ecg_rhythm is sct#426177001",
            CodedIs("ecg_rhythm", "sct#426177001", "ecg_rhythm is sct#426177001", PATH),
        ),
        (
            "potassium < 3 mmol/L within 2 weeks of creatinine",
            Compare(
                "potassium",
                "latest",
                "<",
                "3 mmol/L",
                "potassium < 3 mmol/L within 2 weeks of creatinine",
                PATH,
                Window("of", Duration(2, "weeks"), "creatinine", "within 2 weeks of creatinine"),
            ),
        ),
        (
            "weakness present within 24 hours before potassium",
            Presence(
                "weakness",
                "present",
                None,
                "weakness present within 24 hours before potassium",
                PATH,
                Window(
                    "before", Duration(24, "hours"), "potassium", "within 24 hours before potassium"
                ),
            ),
        ),
        (
            "weakness present after raasi started",
            Presence(
                "weakness",
                "present",
                None,
                "weakness present after raasi started",
                PATH,
                Window("after-start", None, "raasi", "after raasi started"),
            ),
        ),
    ],
)
def test_each_new_line_parses_to_its_atom(line: str, expected: object) -> None:
    assert parse_condition(line, PATH) == expected


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ("potassium present within 12", "'12' has no unit"),
        ("potassium present within 12 of creatinine", "'12' has no unit"),
        ("potassium present within 12 fortnights", "'fortnights' in '12 fortnights' is not a unit"),
        ("potassium present within 1.5 days", "a whole number of days"),
        ("potassium rise over 12 > 0.5 mmol/L", "'12' has no unit"),
        ("potassium present since 2 days", "write 'since <duration> before <concept>'"),
        ("potassium < 3 mmol/L within 1 day within 2 days", "two windows"),
        ("potassium marked haemolysed within 2 days", "does not apply here"),
        ("potassium average > 3 mmol/L", "'average' in"),
        ("raasi active within 90 days", "a window goes with started or ended"),
    ],
)
def test_a_line_that_cannot_be_read_says_why(line: str, words: str) -> None:
    with pytest.raises(ConditionSyntaxError) as caught:
        parse_condition(line, PATH)
    assert words in str(caught.value)
    assert caught.value.path == PATH


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("24 hours", Duration(24, "hours")),
        ("1 hour", Duration(1, "hours")),
        ("90 days", Duration(90, "days")),
        ("2 weeks", Duration(2, "weeks")),
        ("15 months", Duration(15, "months")),
        ("1 year", Duration(1, "years")),
    ],
)
def test_durations_in_words(text: str, expected: Duration) -> None:
    assert parse_duration(text) == expected
