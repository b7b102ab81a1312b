"""FHIR Quantities as engine `Quantity`s: the unit decided, never guessed.

The unit is decided from `system` + `code` (UCUM); the human-readable `unit` is read only when
there is no UCUM code. `engine.units.lookup` accepts unambiguous spellings (`mEq/L`, `mmol/l`).
"""

from __future__ import annotations

import math

from fhir.resources.R4B.quantity import Quantity as FhirQuantity

from engine import units
from engine.records import Quantity

__all__ = ["UCUM", "QuantityProblem", "read_quantity", "resolve_unit"]

UCUM = "http://unitsofmeasure.org"


class QuantityProblem(ValueError):
    """Why a FHIR Quantity cannot be used; the message is written for a warning."""


def resolve_unit(quantity: FhirQuantity) -> str | None:
    """The engine's UCUM code for the quantity's unit; None when it states no unit at all."""
    code, system, text = quantity.code, quantity.system, quantity.unit
    if code and (system is None or system == UCUM):
        candidate = code
    elif text:
        candidate = text
    elif code:
        raise QuantityProblem(f"unit code {code!r} of {system} is not a UCUM unit")
    else:
        return None
    try:
        return units.lookup(candidate).code
    except units.UnitError:
        raise QuantityProblem(f"unit {candidate!r} is not one Vigil can read") from None


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
    return Quantity(value, unit if unit is not None else "1")
