"""UCUM expressions (case-sensitive form) and the atoms and prefixes clinical data uses.

`parse(text)` reads an expression by UCUM's grammar (`.` and `/` left to right, a leading `/`,
integer exponents, `10*9`, parentheses, annotations; metric prefixes on metric atoms only) into
a `Term`: an exact magnitude and a dimension vector over base dimensions. Unlike UCUM:
- an annotation beside other units is a base dimension of its own: `mL/min/{1.73_m2}` (an eGFR)
  is never `mL/min` (a clearance); annotations alone (`{score}`) are the unit 1;
- mol, eq and osm are base dimensions of their own: an equivalent becomes moles only with an
  analyte's valence, which this module does not know;
- each arbitrary unit (`[IU]`, `[CFU]`) is its own base dimension; units on a scale with its own
  zero (`Cel`, `[degF]`, `[pH]`) are `special`: they stand alone and are never converted.
Anything outside the tables raises `UcumError`; nothing is guessed.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

__all__ = ["ATOMS", "PREFIXES", "Atom", "Term", "UcumError", "Vector", "parse"]

# A dimension: (base dimension, exponent) pairs, sorted, exponents non-zero.
Vector = tuple[tuple[str, int], ...]

MAX_LENGTH = 200  # longer text is no unit anyone writes; refusing it bounds the parser's work
MAX_EXPONENT = 99


class UcumError(ValueError):
    """The text is not a UCUM expression made of the atoms this module knows."""


@dataclass(frozen=True, slots=True)
class Atom:
    """One UCUM unit atom: its size in base units, its dimension, whether it takes prefixes."""

    magnitude: Fraction
    vector: Vector
    metric: bool
    special: bool = False


@dataclass(frozen=True, slots=True)
class Term:
    """A parsed expression: `magnitude` base units of dimension `vector`. `special` names the
    atom of a scale with its own zero (the whole expression); `unity` is true for text made
    of annotations alone (`{score}`), which UCUM reads as 1."""

    magnitude: Fraction
    vector: Vector
    special: str | None = None
    unity: bool = False


def _vector(**exponents: int) -> Vector:
    return tuple(sorted((base, power) for base, power in exponents.items() if power))


def _atom(value: str | int | Fraction, vector: Vector, *, metric: bool) -> Atom:
    return Atom(Fraction(value), vector, metric)


_NONE: Vector = ()
_L = _vector(L=1)
_M = _vector(M=1)
_T = _vector(T=1)
_VOLUME = _vector(L=3)
_PRESSURE = _vector(M=1, L=-1, T=-2)
_ENERGY = _vector(M=1, L=2, T=-2)
_DAY = 86400
_JULIAN_YEAR = Fraction("365.25") * _DAY
_GREGORIAN_YEAR = Fraction("365.2425") * _DAY

# Base units: metre, gram, second, mole, equivalent, osmole, kelvin, coulomb, candela, radian.
ATOMS: dict[str, Atom] = {
    "m": _atom(1, _L, metric=True),
    "g": _atom(1, _M, metric=True),
    "s": _atom(1, _T, metric=True),
    "mol": _atom(1, _vector(N=1), metric=True),
    "eq": _atom(1, _vector(EQ=1), metric=True),
    "osm": _atom(1, _vector(OSM=1), metric=True),
    "K": _atom(1, _vector(TH=1), metric=True),
    "C": _atom(1, _vector(Q=1), metric=True),
    "cd": _atom(1, _vector(J=1), metric=True),
    "rad": _atom(1, _vector(A=1), metric=True),
    # numbers
    "10*": _atom(10, _NONE, metric=False),
    "10^": _atom(10, _NONE, metric=False),
    "%": _atom(Fraction(1, 100), _NONE, metric=False),
    "[ppth]": _atom(Fraction(1, 10**3), _NONE, metric=False),
    "[ppm]": _atom(Fraction(1, 10**6), _NONE, metric=False),
    "[ppb]": _atom(Fraction(1, 10**9), _NONE, metric=False),
    "[HPF]": _atom(1, _NONE, metric=False),
    "[LPF]": _atom(100, _NONE, metric=False),
    # time
    "min": _atom(60, _T, metric=False),
    "h": _atom(3600, _T, metric=False),
    "d": _atom(_DAY, _T, metric=False),
    "wk": _atom(7 * _DAY, _T, metric=False),
    "a_j": _atom(_JULIAN_YEAR, _T, metric=False),
    "a_g": _atom(_GREGORIAN_YEAR, _T, metric=False),
    "a": _atom(_JULIAN_YEAR, _T, metric=False),
    "mo_j": _atom(_JULIAN_YEAR / 12, _T, metric=False),
    "mo_g": _atom(_GREGORIAN_YEAR / 12, _T, metric=False),
    "mo": _atom(_JULIAN_YEAR / 12, _T, metric=False),
    "Hz": _atom(1, _vector(T=-1), metric=True),
    # volume, length, area, mass
    "L": _atom(Fraction(1, 1000), _VOLUME, metric=True),
    "l": _atom(Fraction(1, 1000), _VOLUME, metric=True),
    "[in_i]": _atom(Fraction("0.0254"), _L, metric=False),
    "[ft_i]": _atom(Fraction("0.3048"), _L, metric=False),
    "[lb_av]": _atom(Fraction("453.59237"), _M, metric=False),
    "[oz_av]": _atom(Fraction("453.59237") / 16, _M, metric=False),
    "[gr]": _atom(Fraction("0.06479891"), _M, metric=False),
    "t": _atom(10**6, _M, metric=True),
    # pressure, force, energy, power, electricity
    "Pa": _atom(1000, _PRESSURE, metric=True),
    "bar": _atom(10**8, _PRESSURE, metric=True),
    "m[Hg]": _atom(133322 * 1000, _PRESSURE, metric=True),
    "m[H2O]": _atom(Fraction("9806.65") * 1000, _PRESSURE, metric=True),
    "N": _atom(1000, _vector(M=1, L=1, T=-2), metric=True),
    "J": _atom(1000, _ENERGY, metric=True),
    "cal": _atom(Fraction("4.184") * 1000, _ENERGY, metric=True),
    "[Cal]": _atom(Fraction("4184") * 1000, _ENERGY, metric=False),
    "W": _atom(1000, _vector(M=1, L=2, T=-3), metric=True),
    "A": _atom(1, _vector(Q=1, T=-1), metric=True),
    "V": _atom(1000, _vector(M=1, L=2, T=-2, Q=-1), metric=True),
    # catalytic activity: UCUM's U is umol/min
    "kat": _atom(1, _vector(N=1, T=-1), metric=True),
    "U": _atom(Fraction(1, 60 * 10**6), _vector(N=1, T=-1), metric=True),
    # arbitrary units: each its own dimension ([iU] and [IU] are one unit)
    "[IU]": _atom(1, _vector(**{"[IU]": 1}), metric=True),
    "[iU]": _atom(1, _vector(**{"[IU]": 1}), metric=True),
    "[arb'U]": _atom(1, _vector(**{"[arb'U]": 1}), metric=False),
    "[CFU]": _atom(1, _vector(**{"[CFU]": 1}), metric=True),
    # scales with their own zero: never converted
    "Cel": Atom(Fraction(1), _vector(TH=1), metric=True, special=True),
    "[degF]": Atom(Fraction(1), _vector(TH=1), metric=False, special=True),
    "[pH]": Atom(Fraction(1), _vector(**{"[pH]": 1}), metric=False, special=True),
}

PREFIXES: dict[str, Fraction] = {
    symbol: Fraction(10) ** power
    for symbol, power in (
        ("Y", 24), ("Z", 21), ("E", 18), ("P", 15), ("T", 12), ("G", 9), ("M", 6), ("k", 3),
        ("h", 2), ("da", 1), ("d", -1), ("c", -2), ("m", -3), ("u", -6), ("n", -9),
        ("p", -12), ("f", -15), ("a", -18), ("z", -21), ("y", -24),
    )
}  # fmt: skip


def parse(text: str) -> Term:
    """The `Term` a case-sensitive UCUM expression stands for; `UcumError` says why not."""
    if len(text) > MAX_LENGTH:
        raise UcumError(f"longer than {MAX_LENGTH} characters")
    return _Parser(text).main()


def _combine(left: Term, right: Term, divide: bool) -> Term:
    sign = -1 if divide else 1
    powers = dict(left.vector)
    for base, power in right.vector:
        powers[base] = powers.get(base, 0) + sign * power
    magnitude = left.magnitude / right.magnitude if divide else left.magnitude * right.magnitude
    return Term(magnitude, _vector(**powers), unity=left.unity and right.unity)


def _power(atom: Atom, scale: Fraction, exponent: int) -> Term:
    vector = tuple((base, power * exponent) for base, power in atom.vector)
    return Term((scale * atom.magnitude) ** exponent, vector)


class _Parser:
    """Recursive descent over UCUM's grammar, one character position at a time."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.at = 0
        self.special: str | None = None
        self.components = 0

    def fail(self, why: str) -> UcumError:
        return UcumError(f"{why} at character {self.at + 1}")

    def peek(self) -> str:
        return self.text[self.at] if self.at < len(self.text) else ""

    def main(self) -> Term:
        if not self.text:
            raise UcumError("no unit")
        if self.peek() == "/":
            self.at += 1
            term = _combine(Term(Fraction(1), (), unity=True), self.term(), divide=True)
        else:
            term = self.term()
        if self.at < len(self.text):
            raise self.fail(f"unexpected {self.peek()!r}")
        if term.unity:  # annotations alone: the unit 1
            return Term(term.magnitude, (), unity=True)
        if self.special is not None:
            if self.components > 1 or term.vector != ATOMS[self.special].vector:
                raise UcumError(
                    f"{self.special} is a scale with its own zero: it cannot be combined with"
                    " other units or raised to a power"
                )
            return Term(term.magnitude, term.vector, special=self.special)
        return term

    def term(self) -> Term:
        term = self.component()
        while self.peek() in (".", "/"):
            divide = self.peek() == "/"
            self.at += 1
            term = _combine(term, self.component(), divide)
        return term

    def component(self) -> Term:
        self.components += 1
        char = self.peek()
        if char == "(":
            self.at += 1
            term = self.term()
            if self.peek() != ")":
                raise self.fail("missing ')'")
            self.at += 1
            return term
        if char == "{":
            return Term(Fraction(1), _vector(**{self.annotation(): 1}), unity=True)
        if char in ("", ".", "/", ")", "}"):
            raise self.fail("a unit is missing")
        term = self.annotatable()
        if self.peek() == "{":
            annotated = Term(Fraction(1), _vector(**{self.annotation(): 1}))
            return _combine(term, annotated, divide=False)
        return term

    def annotation(self) -> str:
        """The annotation at the cursor, braces included, which is its base dimension."""
        end = self.text.find("}", self.at)
        if end < 0 or "{" in self.text[self.at + 1 : end]:
            raise self.fail("an annotation '{' without its '}'")
        start, self.at = self.at, end + 1
        return self.text[start : self.at]

    def annotatable(self) -> Term:
        start = self.at
        while self.peek() not in ("", ".", "/", "(", ")", "{", "}"):
            if self.peek() == "[":
                close = self.text.find("]", self.at)
                if close < 0:
                    raise self.fail("'[' without its ']'")
                self.at = close + 1
            else:
                self.at += 1
        symbol = self.text[start : self.at]
        if symbol.isdigit() and symbol.isascii():
            return Term(Fraction(int(symbol)), ())
        # an exponent is the digits at the end, with an optional sign before them
        cut = len(symbol)
        while cut > 0 and symbol[cut - 1].isdigit() and symbol[cut - 1].isascii():
            cut -= 1
        digits_from = cut
        if cut < len(symbol) and cut > 0 and symbol[cut - 1] in "+-":
            cut -= 1
        name, exponent_text = symbol[:cut], symbol[cut:]
        if not name:
            raise UcumError(f"{symbol!r} is not a unit")
        exponent = 1
        if exponent_text:
            if len(symbol) - digits_from > 2:
                raise UcumError(f"the exponent of {symbol!r} is beyond {MAX_EXPONENT}")
            exponent = int(exponent_text)
        scale, code, atom = self.resolve(name)
        if atom.special:
            if exponent != 1 or scale != 1:
                raise UcumError(f"{code} is a scale with its own zero: it takes no power or prefix")
            self.special = code
        return _power(atom, scale, exponent)

    def resolve(self, name: str) -> tuple[Fraction, str, Atom]:
        """The prefix's size, the atom's code and the atom a unit symbol names."""
        atom = ATOMS.get(name)
        if atom is not None:
            return Fraction(1), name, atom
        for size in (2, 1):
            prefix, rest = name[:size], name[size:]
            if prefix in PREFIXES and rest in ATOMS:
                if not ATOMS[rest].metric:
                    raise UcumError(f"{rest} takes no prefix, so {name!r} is not a unit")
                return PREFIXES[prefix], rest, ATOMS[rest]
        raise UcumError(f"{name!r} is not a UCUM unit Vigil knows")
