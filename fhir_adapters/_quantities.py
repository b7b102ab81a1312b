"""FHIR Quantities as engine `Quantity`s: the unit decided, never guessed.

The unit is decided from `system` + `code` when the system is UCUM, or when there is no system
and the code is a unit Vigil reads (unless the `unit` text names another: then the value is
left out). The human-readable `unit` is read when there is no such code (no code, a code Vigil
cannot read, or a code of another system, which is not known to be UCUM).
`engine.units.lookup` accepts unambiguous spellings (`mEq/L`, `mmol/l`). When `unit` and a
UCUM `code` name two different units Vigil knows, the code is kept and `unit_disagreement`
says so, for a warning. A value its unit cannot have (`engine.units.impossible`: -2.2 mmol/L,
-0 mmol/L) is an `ImpossibleValue`.
"""

from __future__ import annotations

import math

from fhir.resources.R4B.quantity import Quantity as FhirQuantity

from engine import units
from engine.records import Quantity

__all__ = [
    "UCUM",
    "ImpossibleValue",
    "QuantityProblem",
    "UnitConflict",
    "read_quantity",
    "resolve_unit",
    "unit_disagreement",
]

UCUM = "http://unitsofmeasure.org"


class QuantityProblem(ValueError):
    """Why a FHIR Quantity cannot be used; the message is written for a warning."""


class ImpossibleValue(QuantityProblem):
    """The value cannot have been measured: a negative concentration, duration or rate."""


class UnitConflict(QuantityProblem):
    """The unit text and the unit code name two different units, and nothing says which holds."""


def resolve_unit(quantity: FhirQuantity) -> str | None:
    """The engine's UCUM code for the quantity's unit; None when it states no unit at all."""
    code, system, text = quantity.code, quantity.system, quantity.unit
    if code and system == UCUM:
        candidate = code
    elif code and system is None and _known(code) is not None:
        # FHIR wants a system beside a code, but a unit code Vigil reads is read as UCUM (a
        # clear 2.1 mmol/L must not be lost), unless the unit text names another unit
        text_unit = _known_text(text)
        if text_unit is not None and text_unit != _known(code):
            raise UnitConflict(
                f"unit {text!r} and unit code {code!r} (without a system) name different units"
            )
        candidate = code
    elif text:
        candidate = text
    elif code and system is None:
        raise QuantityProblem(f"unit code {code!r} (without a system) is not one Vigil can read")
    elif code:
        raise QuantityProblem(f"unit code {code!r} of {system} is not a UCUM unit")
    else:
        return None
    try:
        return units.lookup(candidate).code
    except units.UnitError:
        raise QuantityProblem(f"unit {candidate!r} is not one Vigil can read") from None


def unit_disagreement(quantity: FhirQuantity, what: str = "value") -> str | None:
    """A warning when `unit` and `code` are two different units Vigil knows, naming the one
    used, or when a code without a system is read as UCUM beside a unit text Vigil cannot
    read (which might say otherwise); None when they agree, or there is nothing to contradict."""
    code, text = quantity.code, quantity.unit
    if not code:
        return None
    code_unit, text_unit = _known(code), _known_text(text)
    if quantity.system is None and code_unit is not None and text_unit is None and _claims(text):
        return (
            f"{what} unit {text!r} is not one Vigil reads; its unit code {code!r} (without a"
            f" system) is read as UCUM ({code_unit})"
        )
    if code_unit is None or text_unit is None or code_unit == text_unit:
        return None
    if quantity.system == UCUM:
        return (
            f"{what} unit {text!r} disagrees with its UCUM code {code!r}: "
            f"the code is trusted ({code_unit})"
        )
    if quantity.system is None:
        return None  # `resolve_unit` leaves such a value out
    return (
        f"{what} unit {text!r} disagrees with its code {code!r} (of {quantity.system}, so not"
        f" known to be UCUM): the unit is used ({text_unit})"
    )


def _known_text(text: str | None) -> str | None:
    """The unit a `unit` text names, when it claims one (`_claims`) that Vigil reads."""
    return _known((text or "").strip()) if _claims(text) else None


def _claims(text: str | None) -> bool:
    """Whether a `unit` text claims a unit at all: blank text or an annotation alone
    (`{total}`, which UCUM reads as 1) does not."""
    stripped = (text or "").strip()
    return bool(stripped) and not units.is_annotation(stripped)


def _known(unit: str) -> str | None:
    try:
        return units.lookup(unit).code
    except units.UnitError:
        return None


def read_quantity(quantity: FhirQuantity, what: str = "value") -> Quantity:
    """The quantity with its unit resolved; `QuantityProblem` says why it cannot be used."""
    if quantity.value is None:
        raise QuantityProblem(f"{what} has no number")
    if quantity.comparator:
        bound = f"{quantity.comparator}{quantity.value}"
        raise QuantityProblem(f"{what} is a bound ({bound}), not a result")
    value = float(quantity.value)
    if not math.isfinite(value):
        raise QuantityProblem(f"{what} {quantity.value} is not a finite number")
    unit = resolve_unit(quantity)
    unit = unit if unit is not None else "1"
    reason = units.impossible(value, unit)
    if reason is not None:
        raise ImpossibleValue(f"{what} {reason}")
    return Quantity(value, unit)
