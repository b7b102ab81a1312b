"""Dimension vectors in words, as clinicians read them in warnings and errors.

Each vector has one name and no two vectors share one: callers compare names to tell whether
two units measure the same kind of thing. Vectors without a name of their own are described
by their base dimensions (`mass per length squared`).
"""

from __future__ import annotations

from .ucum import Vector

__all__ = ["describe"]


def _v(**powers: int) -> Vector:
    return tuple(sorted(powers.items()))


_NAMED: dict[Vector, str] = {
    (): "number",
    _v(N=1, L=-3): "substance concentration",
    _v(M=1, L=-3): "mass concentration",
    _v(EQ=1, L=-3): "equivalent concentration",
    _v(OSM=1, L=-3): "osmolarity",
    _v(OSM=1, M=-1): "osmolality",
    _v(N=1, M=-1): "substance content",
    _v(L=-3): "number concentration",
    _v(T=1): "duration",
    # the engine's first mass rate was a daily amount; the name stays, whatever the time unit
    _v(M=1, T=-1): "mass per day",
    _v(T=-1): "frequency",
    _v(L=1): "length",
    _v(L=2): "area",
    _v(L=3): "volume",
    _v(M=1): "mass",
    _v(N=1): "amount of substance",
    _v(EQ=1): "amount of equivalents",
    _v(OSM=1): "amount of osmoles",
    _v(M=1, L=-2): "mass per area",
    _v(M=1, L=-1, T=-2): "pressure",
    _v(L=3, T=-1): "volume flow rate",
    _v(N=1, T=-1): "catalytic activity",
    _v(N=1, T=-1, L=-3): "catalytic concentration",
    _v(L=1, T=-1): "velocity",
    _v(M=1, L=1, T=-2): "force",
    _v(M=1, L=2, T=-2): "energy",
    _v(M=1, L=2, T=-3): "power",
    _v(TH=1): "temperature",
    _v(Q=1, T=-1): "electric current",
    _v(M=1, L=2, T=-2, Q=-1): "electric potential",
    _v(**{"[pH]": 1}): "acidity (pH)",
}

_BASES = {
    "L": "length",
    "M": "mass",
    "T": "time",
    "N": "amount of substance",
    "EQ": "equivalents",
    "OSM": "osmoles",
    "TH": "temperature",
    "Q": "charge",
    "J": "luminous intensity",
    "A": "angle",
}

_POWERS = {1: "", 2: " squared", 3: " cubed"}


def describe(vector: Vector) -> str:
    """The name of a dimension: a word for the common ones, else its base dimensions."""
    named = _NAMED.get(vector)
    if named is not None:
        return named
    above = [_base(base, power) for base, power in vector if power > 0]
    below = [_base(base, -power) for base, power in vector if power < 0]
    text = " times ".join(above) if above else "one"
    return " per ".join([text, *below])


def _base(base: str, power: int) -> str:
    # an arbitrary unit's base dimension is named by its own code, e.g. [IU]
    if base == "L" and power in (2, 3):
        return "area" if power == 2 else "volume"
    if base.startswith("{"):  # an annotation, e.g. {1.73_m2}
        return base[1:-1] + _POWERS.get(power, f" to the power {power}")
    name = _BASES.get(base, f"{base} units")
    return name + _POWERS.get(power, f" to the power {power}")
