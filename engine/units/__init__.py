"""The units Vigil understands, and exact conversion between them: the one home of units.

A unit is a UCUM expression (`mmol/L`, `mL/min/{1.73_m2}`, `10*9/L`, `mm[Hg]`, `/min`: the
grammar and atoms are `engine.units.ucum`) or a spelling seen in real data that means one
beyond doubt (`mEq/L`, `mmol/l`, `days`). Anything else is never guessed: callers get a
`UnitError` and report the value as unusable. Units of one dimension convert exactly; an
analyte's mass and equivalents become moles only with its molar mass or valence, which the
ruleset's concept states (divalent Mg: 1 mmol/L is 2 meq/L); units UCUM keeps apart are one
only where the concept says so (`same-as`: a CK's `[IU]/L` read as `U/L`). Dimensions are named
in words (`substance concentration`, `duration`) for clinicians' messages.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import timedelta
from fractions import Fraction
from functools import lru_cache

from . import ucum
from .dimensions import describe


class UnitError(ValueError):
    """A unit is unknown, or cannot be converted to the unit asked for."""


# An analyte's units declared equal though UCUM keeps them apart: (unit, the unit it is the
# same as) pairs of UCUM codes, read both ways, each standing for every unit of its dimension.
SameAs = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Unit:
    """A unit as Vigil reads it: its UCUM `code` (an alias's canonical one), the name of its
    `dimension` in words, its exact size in base units (metre, gram, second, mole, ...) as
    `magnitude`, its dimension `vector`, and whether it is a scale with its own zero."""

    code: str
    dimension: str
    magnitude: Fraction
    vector: ucum.Vector
    special: bool = False

    @property
    def factor(self) -> float:
        """Size of one of this unit in the base units of its dimension."""
        return float(self.magnitude)


_UNITY = "1"
_TIME_VECTOR: ucum.Vector = (("T", 1),)
_MASS_BASE, _MOLE_BASE, _EQUIV_BASE = "M", "N", "EQ"
_NUMBER = describe(())

# Spellings seen in real data and in clinicians' writing that are not UCUM (or are UCUM for
# something else, as `Mg` is a megagram), each meaning one unit beyond doubt. Matched without
# regard to case, before the text is read as UCUM.
_SPELLINGS: dict[str, str] = {
    "mmol/l": "mmol/L",
    "mol/l": "mol/L",
    "umol/l": "umol/L",
    "µmol/l": "umol/L",
    "g/l": "g/L",
    "g/dl": "g/dL",
    "mg/dl": "mg/dL",
    "mg/l": "mg/L",
    "meq/l": "meq/L",
    "eq/l": "eq/L",
    "sec": "s",
    "second": "s",
    "seconds": "s",
    "minute": "min",
    "minutes": "min",
    "mins": "min",
    "hour": "h",
    "hours": "h",
    "hr": "h",
    "hrs": "h",
    "day": "d",
    "days": "d",
    "week": "wk",
    "weeks": "wk",
    "mg/day": "mg/d",
    "mg/24.h": "mg/d",
    "mg/(24.h)": "mg/d",
    "g/day": "g/d",
    # spellings ../shared/clinical-spec-hyperkalaemia.md §5.4 accepts as written
    "micromol/L": "umol/L",
    "mmHg": "mm[Hg]",
    "mm Hg": "mm[Hg]",
    "bpm": "/min",
    "beats/min": "/min",
    "K/uL": "10*3/uL",
    "10e9/L": "10*9/L",
    "x10^9/L": "10*9/L",
    "IU/L": "[IU]/L",
    "mL/min/1.73m2": "mL/min/{1.73_m2}",
    "mL/min/1.73 m2": "mL/min/{1.73_m2}",
    "mL/min/1.73 m²": "mL/min/{1.73_m2}",
    # and these UCUM codes in any case (U/l, MM[HG])
    "U/L": "U/L",
    "[IU]/L": "[IU]/L",
    "mm[Hg]": "mm[Hg]",
}
# casefolded as the text is: the micro sign µ casefolds to the Greek letter μ
_ALIASES = {spelling.casefold(): code for spelling, code in _SPELLINGS.items()}


def spellings() -> dict[str, str]:
    """The spellings read as a unit though they are not its UCUM code (`mmHg`: `mm[Hg]`)."""
    return {s: code for s, code in _SPELLINGS.items() if s.casefold() != code.casefold()}


def lookup(unit: str) -> Unit:
    """Resolve a UCUM expression or an unambiguous spelling of one; raise `UnitError`
    otherwise. Blank text, and annotations alone (`{score}`), are the unit 1."""
    return _lookup(unit.strip())


@lru_cache(maxsize=2048)
def _lookup(text: str) -> Unit:
    code = _ALIASES.get(text.casefold(), text)
    if not code:
        code = _UNITY
    try:
        term = ucum.parse(code)
    except ucum.UcumError as error:
        raise UnitError(f"unknown unit {text!r}: {error}") from None
    if term.unity:
        code = _UNITY
    try:
        float(term.magnitude)
    except OverflowError:
        raise UnitError(f"unknown unit {text!r}: its size is beyond any measurement") from None
    return Unit(code, describe(term.vector), term.magnitude, term.vector, term.special is not None)


_ANNOTATION = re.compile(r"\{([^{}]*)\}")


def display(text: str) -> str:
    """`text` (a unit, or a number and its unit) for a clinician to read: each annotation's
    words without their braces (`mL/min/{1.73_m2}` is shown `mL/min/1.73_m2`), since braces
    in a card's text mark placeholders."""
    if "{" not in text:
        return text  # most units and texts: nothing to take out, no pattern to run
    return _ANNOTATION.sub(r"\1", text)


def is_known(unit: str) -> bool:
    try:
        lookup(unit)
    except UnitError:
        return False
    return True


def dimension(unit: str) -> str:
    return lookup(unit).dimension


def is_plain_number(unit: str) -> bool:
    """Whether `unit` is the number 1 (`1`, `{score}`, ``), not `%` or `10*3`."""
    known = lookup(unit)
    return known.vector == () and known.magnitude == 1 and not known.special


def is_annotation(text: str) -> bool:
    """Whether `text` is curly-brace annotations alone (`{total}`), which UCUM reads as 1."""
    try:
        return lookup(text).code == _UNITY and "{" in text
    except UnitError:
        return False


def is_duration(unit: str) -> bool:
    return lookup(unit).vector == _TIME_VECTOR


def _molar_forms(
    unit: Unit, molar_mass: float | None, valence: int | None
) -> list[tuple[ucum.Vector, Fraction]]:
    """The unit as it stands, and with one power of the analyte's mass (by its molar mass) or
    of its equivalents (by its valence) in the numerator turned into moles."""
    forms = [(unit.vector, unit.magnitude)]
    powers = dict(unit.vector)
    for base, per_mole in ((_MASS_BASE, molar_mass), (_EQUIV_BASE, valence)):
        if per_mole and powers.get(base, 0) >= 1:
            changed = dict(powers)
            changed[base] -= 1
            changed[_MOLE_BASE] = changed.get(_MOLE_BASE, 0) + 1
            vector = tuple(sorted((b, p) for b, p in changed.items() if p))
            forms.append((vector, unit.magnitude / Fraction(per_mole)))
    return forms


@lru_cache(maxsize=2048)
def _ratio(
    from_unit: str,
    to_unit: str,
    molar_mass: float | None,
    valence: int | None,
    same_as: SameAs = (),
) -> float | None:
    """The number a value in `from_unit` is multiplied by to be in `to_unit`, computed exactly
    and rounded once; None when there is none."""
    exact = _exact(lookup(from_unit), lookup(to_unit), molar_mass, valence)
    if exact is None:
        exact = _declared(lookup(from_unit), lookup(to_unit), molar_mass, valence, same_as)
    return None if exact is None else float(exact)


def _exact(
    source: Unit, target: Unit, molar_mass: float | None, valence: int | None
) -> Fraction | None:
    if source.special or target.special:
        same = source.special and target.special and source.code == target.code
        return Fraction(1) if same else None
    if source.vector == target.vector:
        return source.magnitude / target.magnitude
    for vector, size in _molar_forms(source, molar_mass, valence):
        for other, other_size in _molar_forms(target, molar_mass, valence):
            if vector == other:
                return size / other_size
    return None


def _declared(
    source: Unit, target: Unit, molar_mass: float | None, valence: int | None, same_as: SameAs
) -> Fraction | None:
    """The ratio through one pair declared the same: `source` to one side (a unit of its
    dimension converts exactly), the same number in the other side, that side to `target`."""
    for pair in same_as:
        one, other = lookup(pair[0]), lookup(pair[1])
        for near, far in ((one, other), (other, one)):
            into = _exact(source, near, molar_mass, valence)
            out = _exact(far, target, molar_mass, valence) if into is not None else None
            if into is not None and out is not None:
                return into * out
    return None


def convert(
    value: float,
    from_unit: str,
    to_unit: str,
    *,
    molar_mass: float | None = None,
    valence: int | None = None,
    same_as: SameAs = (),
    accepted: tuple[str, ...] = (),
) -> float:
    """Convert `value` between two units of one dimension, using the analyte's molar mass or
    valence where its mass or equivalents must become moles, and its `same_as` pairs where
    the analyte's units are declared equal. A scale with its own zero (`Cel`) converts only to
    itself. With `accepted`, only those units (and `to_unit`) are read. Raises `UnitError` for
    anything else."""
    if not math.isfinite(value):
        raise UnitError(f"value {value!r} is not a finite number")
    if not is_accepted(from_unit, (*accepted, to_unit) if accepted else ()):
        raise UnitError(f"{from_unit} is not among the units accepted ({', '.join(accepted)})")
    ratio = _ratio(from_unit, to_unit, molar_mass, valence, same_as)
    if ratio is not None:
        return value * ratio
    source, target = lookup(from_unit), lookup(to_unit)
    if source.special or target.special:
        raise UnitError(
            f"{from_unit} ({source.dimension}) cannot be converted to {to_unit}"
            f" ({target.dimension}): a scale with its own zero is never converted"
        )
    raise UnitError(
        f"{from_unit} ({source.dimension}) cannot be converted to {to_unit} ({target.dimension})"
    )


def same_as_problem(
    unit: str,
    same: str,
    analyte_unit: str,
    *,
    molar_mass: float | None = None,
    valence: int | None = None,
    earlier: SameAs = (),
) -> str | None:
    """Why declaring `unit` the same as `same`, for an analyte measured in `analyte_unit`, is
    wrong, or None: `same` must be of the analyte's dimension, `unit` one UCUM keeps apart
    from it and from every unit declared before (`earlier`); no scale with its own zero."""
    try:
        source, target = lookup(unit), lookup(same)
    except UnitError as error:
        return str(error)
    analyte = lookup(analyte_unit)
    if source.special or target.special:
        return f"{unit} is the same as {same}: a scale with its own zero is never read as another"
    if _exact(target, analyte, molar_mass, valence) is None:
        return (
            f"{unit} is the same as {same}, but {same} ({target.dimension}) cannot be converted "
            f"to {analyte_unit} ({analyte.dimension})"
        )
    ratio = _exact(source, target, molar_mass, valence)
    if ratio is not None:
        return (
            f"{unit} is converted to {same} already (1 {unit} = {float(ratio):g} {same}): "
            "same-as is for units that cannot be converted"
        )
    for before, _ in earlier:
        if _exact(source, lookup(before), molar_mass, valence) is not None:
            return (
                f"{unit} and {before} are of one dimension ({source.dimension}), so saying how "
                f"{before} reads says how {unit} reads: give only one of them"
            )
    return None


def is_accepted(unit: str, accepted: tuple[str, ...]) -> bool:
    """Whether `unit` is one of the `accepted` units, compared as UCUM codes (`mEq/L` is
    `meq/L`); every unit is when none are listed. Raises `UnitError` for an unknown unit."""
    if not accepted:
        return True
    return lookup(unit).code in {lookup(each).code for each in accepted}


def read_as(unit: str, same_as: SameAs) -> str:
    """The unit whose kind of quantity a value in `unit` is: `unit` itself, or the unit a
    `same_as` pair declares a unit of its dimension the same as (`[IU]/L` read as `U/L`)."""
    for declared, same in same_as:
        if _exact(lookup(unit), lookup(declared), None, None) is not None:
            return same
    return unit


def impossible(value: float, unit: str) -> str | None:
    """Why `value` in `unit` cannot be a measurement, or None when it can: a value that is not
    finite, or one with a minus sign (-0 too: no instrument reports it) in a dimension of
    amounts. Zero itself is possible (an analyte not detected). Raises `UnitError` for a unit
    that is not known."""
    if not math.isfinite(value):
        return f"{value} {unit} is not a finite number"
    known = lookup(unit)
    # Every dimension but plain numbers is an amount (a concentration, a duration, a rate),
    # which no measurement finds below zero; a plain number may be a score whose scale runs
    # below zero (RASS, -5 to +4), and a scale with its own zero (Cel) runs below it.
    signed = known.dimension == _NUMBER or known.special
    if math.copysign(1.0, value) < 0 and not signed:
        return f"{value:g} {unit} is negative, which a {known.dimension} cannot be"
    return None


def to_timedelta(value: float, unit: str) -> timedelta:
    """A duration given in a time unit, as a timedelta."""
    return timedelta(seconds=convert(value, unit, "s"))


_QUANTITY = re.compile(r"^\s*(?P<value>[-+]?(\d+(\.\d*)?|\.\d+))\s*(?P<unit>.*?)\s*$")


def parse_quantity(text: str) -> tuple[float, str]:
    """Read '2.5 mmol/L', '14 days' or '10' into (value, UCUM code). Raises `UnitError`."""
    match = _QUANTITY.match(text)
    if not match:
        raise UnitError(f"{text!r} is not a number followed by a unit")
    unit = match.group("unit")
    return float(match.group("value")), lookup(unit).code if unit else "1"
