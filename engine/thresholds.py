"""The number a comparison tests against, in the unit the engine compares in."""

from __future__ import annotations

from . import units
from .conditions import Compare
from .model import Ruleset


class ThresholdError(ValueError):
    pass


class ThresholdOutOfRange(ThresholdError):
    """The number itself cannot be right for what it is compared with (a negative count)."""


def resolve_threshold(compare: Compare, ruleset: Ruleset) -> float:
    """The threshold of `compare` in its concept's canonical unit (days for spans, plain
    numbers for counts and sites). Raises `ThresholdError` in clinical words."""
    concept = ruleset.concepts[compare.concept]
    parameter = ruleset.parameters.get(compare.threshold)
    if parameter is not None:
        value, unit, shown = parameter.value, parameter.unit, f"{parameter.name} ({parameter.text})"
    else:
        try:
            value, unit = units.parse_quantity(compare.threshold)
        except units.UnitError:
            names = ", ".join(ruleset.parameters) or "none defined"
            raise ThresholdError(
                f"{compare.threshold!r} is neither a parameter nor a number with a unit "
                f"(parameters: {names})"
            ) from None
        shown = compare.threshold
    attribute = compare.attribute
    if units.is_duration(unit) and value <= 0:
        raise ThresholdOutOfRange(f"threshold {shown} is a duration, which must be more than 0")
    if attribute in ("count", "sites"):
        if unit != "1" or value != int(value) or value < 0:
            raise ThresholdOutOfRange(
                f"{compare.concept} {attribute} is a whole number, 0 or more; {shown} is not"
            )
        return value
    if attribute == "span":
        try:
            return units.convert(value, unit, "d")
        except units.UnitError:
            raise ThresholdError(
                f"{compare.concept} span is a duration; {shown} is not (write e.g. 14 days)"
            ) from None
    if concept.unit is None:
        if unit != "1":
            raise ThresholdError(f"{compare.concept} has no unit; {shown} has one ({unit})")
        return value
    if unit == "1":
        raise ThresholdError(
            f"threshold {shown} has no unit; {compare.concept} is measured in {concept.unit}"
        )
    try:
        return units.convert(
            value, unit, concept.unit, molar_mass=concept.molar_mass, valence=concept.valence
        )
    except units.UnitError:
        raise ThresholdError(
            f"threshold {shown} is in {unit} ({units.dimension(unit)}), which cannot be compared "
            f"with {compare.concept} in {concept.unit} ({units.dimension(concept.unit)})"
        ) from None
