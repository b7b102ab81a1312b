"""Rules and thresholds in plain words: names replaced by meanings, thresholds in each unit
system a concept converts to exactly, and never in one it does not."""

from __future__ import annotations

from dataclasses import replace

from authoring.wording import rule_in_words, threshold_in_units, unit_systems
from engine.loader import check_text
from engine.model import Concept
from tests.authoring.docs.tiny import RULESET


def analyte(**keys: object) -> Concept:
    """A quantity concept with the keys given (unit, molar_mass, valence, same_as, ...)."""
    return replace(Concept(name="analyte", codes=(), kind="quantity"), **keys)


def test_molar_mass_and_valence_give_the_mass_and_equivalent_systems() -> None:
    monovalent = analyte(unit="mmol/L", molar_mass=39.098, valence=1)
    assert threshold_in_units(5.5, "mmol/L", monovalent) == [
        "5.5 mmol/L",
        "5.5 mEq/L",
        "≈21.5 mg/dL",
    ]


def test_a_threshold_in_another_unit_is_given_in_the_concepts_unit_first() -> None:
    divalent = analyte(unit="mmol/L", molar_mass=40.078, valence=2)
    assert threshold_in_units(8.0, "mg/dL", divalent)[:2] == ["≈2 mmol/L", "≈3.99 mEq/L"]


def test_without_a_molar_mass_or_valence_nothing_is_converted() -> None:
    assert unit_systems(analyte(unit="mmol/L")) == ["mmol/L"]
    assert threshold_in_units(5.5, "mmol/L", analyte(unit="mmol/L")) == ["5.5 mmol/L"]
    assert threshold_in_units(14, "d", analyte(unit="mmol/L")) == ["14 d"]  # not convertible
    assert threshold_in_units(3, "1", None) == ["3"]


def test_same_as_and_accepted_units_come_from_the_concept() -> None:
    activity = analyte(unit="U/L", same_as=(("[IU]/L", "U/L"),))
    assert threshold_in_units(190, "U/L", activity) == ["190 U/L", "190 IU/L"]
    only = analyte(unit="mmol/L", molar_mass=39.098, valence=1, accepted_units=("meq/L",))
    assert unit_systems(only) == ["mmol/L", "meq/L"]


def test_a_rule_in_words_names_meanings_not_names() -> None:
    ruleset = check_text(RULESET)
    assert rule_in_words(ruleset.rules[1], ruleset) == "\n".join(
        [
            "A slow heart (slow-heart)",
            "When:",
            "  - any of:",
            "    - heart rate is below 50 /min",
            "    - calcium is below 1.5 mmol/L (3 mEq/L; ≈6.01 mg/dL)",
            "Then it suggests the level “Review today” (review).",
        ]
    )
