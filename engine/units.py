"""The UCUM units Vigil understands, and exact conversion between them.

Only units listed here are ever converted. A unit outside the table is never guessed: callers
get a `UnitError` and report the value as unusable. Mass and equivalent concentrations convert
to molar ones only with the analyte's molar mass or valence, which the ruleset's concept states.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import timedelta


class UnitError(ValueError):
    """A unit is unknown, or cannot be converted to the unit asked for."""


@dataclass(frozen=True, slots=True)
class Unit:
    code: str
    dimension: str
    factor: float  # size of one of this unit in the dimension's base unit


_MOLAR = "substance concentration"
_MASS = "mass concentration"
_EQUIV = "equivalent concentration"
_TIME = "duration"
_MASS_RATE = "mass per day"
_NUMBER = "number"

_UNITS: dict[str, Unit] = {
    u.code: u
    for u in (
        Unit("mol/L", _MOLAR, 1.0),
        Unit("mmol/L", _MOLAR, 1e-3),
        Unit("umol/L", _MOLAR, 1e-6),
        Unit("g/L", _MASS, 1.0),
        Unit("g/dL", _MASS, 10.0),
        Unit("mg/dL", _MASS, 1e-2),
        Unit("mg/L", _MASS, 1e-3),
        Unit("eq/L", _EQUIV, 1.0),
        Unit("meq/L", _EQUIV, 1e-3),
        Unit("s", _TIME, 1.0),
        Unit("min", _TIME, 60.0),
        Unit("h", _TIME, 3600.0),
        Unit("d", _TIME, 86400.0),
        Unit("wk", _TIME, 604800.0),
        Unit("mg/d", _MASS_RATE, 1e-3),
        Unit("g/d", _MASS_RATE, 1.0),
        Unit("1", _NUMBER, 1.0),
    )
}

# Spellings seen in real data and in clinicians' writing that mean one listed unit beyond doubt.
_ALIASES: dict[str, str] = {
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
}

_ANNOTATION = re.compile(r"^\{[^{}]*\}$")


def lookup(unit: str) -> Unit:
    """Resolve a UCUM code or an unambiguous spelling of one; raise `UnitError` otherwise."""
    text = unit.strip()
    if text in _UNITS:
        return _UNITS[text]
    if text == "" or _ANNOTATION.match(text):
        return _UNITS["1"]
    alias = _ALIASES.get(text.casefold())
    if alias is not None:
        return _UNITS[alias]
    raise UnitError(f"unknown unit {unit!r}")


def is_known(unit: str) -> bool:
    try:
        lookup(unit)
    except UnitError:
        return False
    return True


def dimension(unit: str) -> str:
    return lookup(unit).dimension


def is_duration(unit: str) -> bool:
    return lookup(unit).dimension == _TIME


def _to_molar_factor(source: Unit, molar_mass: float | None, valence: int | None) -> float:
    """Factor taking a value in `source` to mol/L."""
    if source.dimension == _MOLAR:
        return source.factor
    if source.dimension == _MASS and molar_mass:
        return source.factor / molar_mass
    if source.dimension == _EQUIV and valence:
        return source.factor / valence
    raise UnitError(f"{source.code} cannot be converted to a substance concentration")


def convert(
    value: float,
    from_unit: str,
    to_unit: str,
    *,
    molar_mass: float | None = None,
    valence: int | None = None,
) -> float:
    """Convert `value` between two known units, using the analyte's molar mass or valence
    where mass or equivalents must become moles. Raises `UnitError` for anything else."""
    if not math.isfinite(value):
        raise UnitError(f"value {value!r} is not a finite number")
    source, target = lookup(from_unit), lookup(to_unit)
    if source.dimension == target.dimension:
        return value * source.factor / target.factor
    chemical = {_MOLAR, _MASS, _EQUIV}
    if source.dimension in chemical and target.dimension in chemical:
        try:
            moles = value * _to_molar_factor(source, molar_mass, valence)
            return moles / _to_molar_factor(target, molar_mass, valence)
        except UnitError:
            pass
    raise UnitError(
        f"{from_unit} ({source.dimension}) cannot be converted to {to_unit} ({target.dimension})"
    )


# Every dimension here but plain numbers is an amount (a concentration, a duration, a rate),
# which no measurement finds below zero; a plain number may be a score whose scale runs below
# zero (RASS, -5 to +4), so its sign is the ruleset's to judge.
_SIGNED = frozenset({_NUMBER})


def impossible(value: float, unit: str) -> str | None:
    """Why `value` in `unit` cannot be a measurement, or None when it can: a value that is not
    finite, or one with a minus sign (-0 too: no instrument reports it) in a dimension of
    amounts. Zero itself is possible (an analyte not detected). Raises `UnitError` for a unit
    not in the table."""
    if not math.isfinite(value):
        return f"{value} {unit} is not a finite number"
    dimension = lookup(unit).dimension
    if math.copysign(1.0, value) < 0 and dimension not in _SIGNED:
        return f"{value:g} {unit} is negative, which a {dimension} cannot be"
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
