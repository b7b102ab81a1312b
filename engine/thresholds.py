"""The number a comparison tests against, in the unit the engine compares in, whether a value
meets it (exactly, in decimal), and the durations windows and trends are read over."""

from __future__ import annotations

from decimal import Decimal

from . import units
from .clock import Duration, DurationUnit
from .conditions import Compare, Streak, Trend, TrendMeasure
from .model import Concept, Parameter, Ruleset

# UCUM codes of the calendar and clock units a duration parameter may be written in
_DURATION_UNITS: dict[str, DurationUnit] = {
    "h": "hours",
    "d": "days",
    "wk": "weeks",
    "mo": "months",
    "a": "years",
}
DURATION_UCUM: dict[DurationUnit, str] = {name: code for code, name in _DURATION_UNITS.items()}


class ThresholdError(ValueError):
    pass


class ThresholdOutOfRange(ThresholdError):
    """The number itself cannot be right for what it is compared with (a negative count)."""


class DimensionMismatch(ThresholdError):
    """A threshold's unit measures something else than its concept's unit does (a mass
    against a substance concentration); `unit` and `concept_unit` name both."""

    def __init__(self, message: str, unit: str, concept_unit: str) -> None:
        super().__init__(message)
        self.unit = unit
        self.concept_unit = concept_unit


def parameter_duration(parameter: Parameter) -> Duration | None:
    """The parameter as a Duration (`feature_window: 24 hours`), or None when it is not a whole
    number of hours, days, weeks, months or years."""
    unit = _DURATION_UNITS.get(parameter.unit)
    if unit is None or parameter.value != int(parameter.value) or parameter.value <= 0:
        return None
    return Duration(int(parameter.value), unit)


def is_difference(measure: TrendMeasure) -> bool:
    """Whether a trend measure is a difference in the concept's unit (a rise or fall), not a
    plain number (a ratio or a percentage)."""
    return measure.startswith(("rise", "fall"))


def resolve_multiple(text: str, ruleset: Ruleset) -> float:
    """`5` or a unit-less parameter in `above 5 times reference range`: a plain number above 0.
    Raises `ThresholdError` in clinical words."""
    parameter = ruleset.parameters.get(text)
    if parameter is not None:
        value, unit, shown = parameter.value, parameter.unit, f"{parameter.name} ({parameter.text})"
    else:
        try:
            value, unit = units.parse_quantity(text)
        except units.UnitError:
            raise ThresholdError(f"{text!r} is neither a parameter nor a number") from None
        shown = text
    if unit != "1" or value <= 0:
        raise ThresholdOutOfRange(
            f"{shown} times the reference range: the multiple is a plain number above 0"
        )
    return value


def resolve_threshold(compare: Compare | Trend | Streak, ruleset: Ruleset) -> float:
    """The threshold of `compare` in the unit its measure is compared in: the concept's
    canonical unit (days for spans, plain numbers for counts, sites, ratios and percentages,
    completed years for an age). Raises `ThresholdError` in clinical words."""
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
    if units.is_duration(unit) and value <= 0:
        raise ThresholdOutOfRange(f"threshold {shown} is a duration, which must be more than 0")
    if isinstance(compare, Trend) and not is_difference(compare.measure):
        if unit != "1":
            what = "a percentage" if compare.measure == "percent-change" else "a ratio"
            raise ThresholdError(
                f"{compare.concept} {what} is a plain number; {shown} has a unit ({unit})"
            )
        return value
    attribute = compare.attribute if isinstance(compare, Compare) else "latest"
    if attribute in ("count", "sites", "regions"):
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
    if concept.kind == "demographic":
        return _years(compare, value, unit, shown)
    return _in_concept_unit(compare, concept, value, unit, shown)


def _years(compare: Compare | Trend | Streak, value: float, unit: str, shown: str) -> float:
    """An age threshold: a plain number of completed years, or a duration in years."""
    if unit == "1":
        return value
    if unit == "a":
        return value
    raise ThresholdError(
        f"{compare.concept} is an age in completed years; {shown} is not "
        "(write e.g. 80 or 80 years)"
    )


def _in_concept_unit(
    compare: Compare | Trend | Streak, concept: Concept, value: float, unit: str, shown: str
) -> float:
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
            value,
            unit,
            concept.unit,
            molar_mass=concept.molar_mass,
            valence=concept.valence,
            same_as=concept.same_as,
        )
    except units.UnitError:
        raise DimensionMismatch(
            f"threshold {shown} is in {unit} ({units.dimension(unit)}), which cannot be compared "
            f"with {compare.concept} in {concept.unit} ({units.dimension(concept.unit)})",
            unit,
            concept.unit,
        ) from None


def meets(value: Decimal, op: str, threshold: Decimal) -> bool:
    """Whether `value op threshold` holds, compared exactly."""
    if op == "<":
        return value < threshold
    if op == "<=":
        return value <= threshold
    if op == ">":
        return value > threshold
    if op == ">=":
        return value >= threshold
    return value == threshold
