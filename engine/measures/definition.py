"""What a measure is: the atom a condition reads, keyed by its canonical text, and the
integer durable_rules compares it with (numbers in millionths, rounded towards the side on
which the comparison stays exact)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Literal, TypeAlias

from .. import units
from ..clock import Duration, from_ucum
from ..conditions import (
    ATTRIBUTES,
    AboveReference,
    Atom,
    CodedIs,
    Compare,
    Marked,
    MedicationState,
    NotRechecked,
    Op,
    Presence,
    RegionState,
    ResultTest,
    Streak,
    Trend,
    Window,
)
from ..model import Ruleset
from ..summary import Reading
from ..thresholds import ThresholdError, is_difference, resolve_multiple, resolve_threshold

SCALE = 1_000_000  # numbers durable_rules compares are in millionths
MEASURE_PREFIX = "m_"  # a fact attribute that is a measure
Rounding = Literal["floor", "ceil", "exact"]
MeasuredAtom: TypeAlias = (
    Compare
    | Presence
    | AboveReference
    | Trend
    | Streak
    | MedicationState
    | CodedIs
    | Marked
    | RegionState
    | ResultTest
    | NotRechecked
)
# which way an inexact value may be rounded without changing the comparison's outcome:
# v >= T and v < T hold exactly when floor(v) does; v > T and v <= T when ceil(v) does
_ROUNDING: dict[str, Rounding] = {
    "<": "floor",
    ">=": "floor",
    ">": "ceil",
    "<=": "ceil",
    "=": "exact",
}
TREND_WORDS = {
    "rise": "rise",
    "rise-from-median": "rise from median",
    "rise-from-previous": "rise from previous",
    "fall": "fall",
    "ratio-to-lowest": "ratio to lowest",
    "ratio-to-median": "ratio to median",
    "percent-change": "percent change",
}


@dataclass(frozen=True, slots=True)
class Measure:
    """One measure a rule reads: the atom (with its durations resolved) and, for a number,
    how its value is rounded to an integer (None: a yes/no measure)."""

    key: str
    atom: MeasuredAtom
    rounding: Rounding | None
    threshold: Decimal | None = None  # a streak's threshold, which it tests itself
    multiple: Decimal | None = None  # above `multiple` times a reference range
    fallback: Decimal | None = None  # ... or the fallback limit, in the concept's unit
    start: Decimal | None = None  # a held comparison's start threshold


@dataclass(frozen=True, slots=True)
class Measured:
    """A measure's value for one patient, in words, with the readings it rests on."""

    value: Decimal
    words: str
    evidence: tuple[Reading, ...]


def is_measured(atom: Atom, ruleset: Ruleset) -> bool:
    """Whether `atom` reads a measure (anything beyond the summary's plain attributes)."""
    if isinstance(atom, Compare):
        concept = ruleset.concepts[atom.concept]
        return (
            atom.window is not None
            or atom.attribute not in ATTRIBUTES
            or (concept.kind == "demographic" and concept.field == "age")
            or (concept.ties == "any" and atom.attribute == "latest")
        )
    if isinstance(atom, Presence):
        return (
            atom.window is not None
            or atom.state == "recorded-absent"
            or atom.evidence is not None
            or atom.until is not None
        )
    return isinstance(
        atom,
        AboveReference
        | Trend
        | Streak
        | MedicationState
        | CodedIs
        | Marked
        | RegionState
        | ResultTest
        | NotRechecked,
    )


def measure_of(atom: MeasuredAtom, ruleset: Ruleset) -> tuple[Measure, int | None]:
    """The measure `atom` reads and the scaled integer it is compared with (None: the measure
    is yes/no and the atom holds when it is 1). Raises ThresholdError in clinical words."""
    resolved = _resolved(atom, ruleset)
    threshold: Decimal | None = None
    rounding: Rounding | None = None
    number: int | None = None
    multiple: Decimal | None = None
    fallback: Decimal | None = None
    start: Decimal | None = None
    if isinstance(atom, Streak):
        threshold = decimal_of(_value_threshold(atom.concept, atom.op, atom.threshold, ruleset))
        if atom.start_op is not None and atom.start_threshold is not None:
            given = atom.start_threshold
            start = decimal_of(_value_threshold(atom.concept, atom.start_op, given, ruleset))
    elif isinstance(atom, Compare | Trend):
        rounding = _ROUNDING[atom.op]
        number = round(_threshold(atom, ruleset) * SCALE)
    elif isinstance(atom, AboveReference):
        if atom.multiple is not None:
            multiple = decimal_of(resolve_multiple(atom.multiple, ruleset))
        if atom.fallback is not None:
            fallback = decimal_of(_value_threshold(atom.concept, ">", atom.fallback, ruleset))
    canonical = _canonical(resolved, rounding, threshold, (multiple, fallback, start))
    if isinstance(atom, Compare) and ruleset.concepts[atom.concept].ties == "any":
        # of tied results, the one most in the comparison's favour is read: its direction
        canonical += favoured_side(atom.op)
    key = MEASURE_PREFIX + hashlib.sha256(canonical.encode()).hexdigest()[:10]
    return Measure(key, resolved, rounding, threshold, multiple, fallback, start), number


def favoured_side(op: Op) -> str:
    """Which of tied results a comparison reads: the lowest for `<`, `<=`, else the highest."""
    return "lowest" if op in ("<", "<=") else "highest"


def concepts_read(measure: Measure) -> tuple[str, ...]:
    """The concepts whose readings `measure` reads: its own, its window's anchor, the
    medication a percent change follows, the group of an old result."""
    atom = measure.atom
    if isinstance(atom, NotRechecked):
        return atom.group
    window = getattr(atom, "window", None)
    since = atom.since if isinstance(atom, Trend) else None
    anchor = window.anchor if window is not None else None
    unstarted = atom.unstarted if isinstance(atom, Streak) else ()
    return tuple(name for name in (atom.concept, anchor, since, *unstarted) if name is not None)


def _canonical(
    atom: MeasuredAtom,
    rounding: Rounding | None,
    threshold: Decimal | None,
    limits: tuple[Decimal | None, ...],
) -> str:
    fields = {
        name: getattr(atom, name)
        for name in atom.__dataclass_fields__
        if name not in ("text", "path", "op", "threshold", "multiple", "fallback")
        and name != "start_threshold"
    }
    if isinstance(atom, Streak):
        fields["op"] = atom.op
    window = fields.get("window")
    if isinstance(window, Window):
        fields["window"] = (window.relation, str(window.length), window.anchor, str(window.near))
    extra = (threshold, *limits) if any(limit is not None for limit in limits) else threshold
    return repr((type(atom).__name__, sorted(fields.items(), key=str), rounding, extra))


def _resolved(atom: MeasuredAtom, ruleset: Ruleset) -> MeasuredAtom:
    """`atom` with every duration parameter it names replaced by its Duration."""
    window = getattr(atom, "window", None)
    if window is not None:
        resolved = replace(
            window, length=duration(window.length, ruleset), near=duration(window.near, ruleset)
        )
        atom = replace(atom, window=resolved)
    if isinstance(atom, Trend):
        atom = replace(
            atom,
            over=duration(atom.over, ruleset),
            gap=duration(atom.gap, ruleset),
            else_over=duration(atom.else_over, ruleset),
            else_gap=duration(atom.else_gap, ruleset),
        )
    if isinstance(atom, Streak) and atom.lasting is not None:
        atom = replace(
            atom,
            lasting=duration(atom.lasting, ruleset),
            lasting_most=duration(atom.lasting_most, ruleset),
        )
    return atom


def duration(length: Duration | str | None, ruleset: Ruleset) -> Duration | None:
    """A window's or trend's length: as written, or the value of the duration parameter it
    names. Raises ThresholdError for a name that is no duration parameter."""
    if length is None or isinstance(length, Duration):
        return length
    parameter = ruleset.parameters.get(length)
    if parameter is None:
        raise ThresholdError(f"{length!r} is neither a duration nor a parameter")
    try:
        return from_ucum(parameter.value, parameter.unit)
    except ValueError as error:
        raise ThresholdError(f"parameter {length} ({parameter.text}): {error}") from None


def _threshold(atom: Compare | Trend, ruleset: Ruleset) -> float:
    concept = ruleset.concepts[atom.concept]
    if isinstance(atom, Trend) and not is_difference(atom.measure):
        value, unit = _quantity(atom.threshold, ruleset)
        if unit not in ("1", "%"):
            raise ThresholdError(
                f"{atom.concept} {TREND_WORDS[atom.measure]} is a plain number; "
                f"{atom.threshold} has a unit ({unit})"
            )
        return value
    if isinstance(atom, Compare) and concept.field == "age":
        value, unit = _quantity(atom.threshold, ruleset)
        if unit == "1":
            return value
        try:
            return units.convert(value, unit, "a")
        except units.UnitError:
            raise ThresholdError(
                f"{atom.concept} is an age in years; {atom.threshold} is not"
            ) from None
    if isinstance(atom, Trend):
        return _value_threshold(atom.concept, atom.op, atom.threshold, ruleset)
    return resolve_threshold(atom, ruleset)


def _value_threshold(concept: str, op: Op, threshold: str, ruleset: Ruleset) -> float:
    return resolve_threshold(Compare(concept, "latest", op, threshold, threshold, ()), ruleset)


def _quantity(threshold: str, ruleset: Ruleset) -> tuple[float, str]:
    parameter = ruleset.parameters.get(threshold)
    if parameter is not None:
        return parameter.value, parameter.unit
    try:
        return units.parse_quantity(threshold)
    except units.UnitError:
        raise ThresholdError(f"{threshold!r} is neither a parameter nor a number") from None


def scaled_value(value: Decimal, rounding: Rounding) -> int | None:
    """`value` in millionths, rounded as `rounding` says; None when an exact value is wanted
    and it has more places (it then equals no threshold)."""
    scaled = value * SCALE
    if rounding == "floor":
        return int(scaled.to_integral_value(ROUND_FLOOR))
    if rounding == "ceil":
        return int(scaled.to_integral_value(ROUND_CEILING))
    return int(scaled) if scaled == scaled.to_integral_value() else None


def decimal_of(value: float) -> Decimal:
    """A value as the decimal it was written as (its shortest text), not its binary value."""
    return Decimal(repr(value))
