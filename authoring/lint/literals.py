"""Reasoning over a condition's disjunctive normal form (`engine.conditions.to_dnf`): when two
literals are the same condition, when a conjunction can never hold, and when one conjunction
implies another. Comparisons are read as intervals of the value in the concept's canonical
unit (`engine.thresholds.resolve_threshold`), so `2.5 mmol/L` and a parameter of 2.5 mmol/L
are one threshold and `k < 3` with `k > 4` is seen as impossible."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from engine.conditions import Atom, Compare, Literal_, Window
from engine.model import Ruleset
from engine.thresholds import ThresholdError, resolve_threshold

NEGATED_OP: dict[str, str] = {"<": ">=", "<=": ">", ">": "<=", ">=": "<"}
Key = tuple[object, ...]
BLANK: dict[str, object] = {"text": "", "path": ()}  # what `plain` leaves of where and how


def plain(value: Any) -> Any:
    """`value` with every `text` and `path` field emptied, recursively: two atoms written
    differently but meaning the same compare equal."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {
            f.name: BLANK[f.name] if f.name in BLANK else plain(getattr(value, f.name))
            for f in dataclasses.fields(value)
        }
        return dataclasses.replace(value, **changes)
    if isinstance(value, tuple):
        return tuple(plain(v) for v in value)
    return value


def literal_key(literal: Literal_, ruleset: Ruleset) -> tuple[object, bool]:
    """What a literal means, for equality: a comparison by its measure and the values it
    allows (`k >= 5.5 mmol/L` is `k >= mild_potassium` when that is 5.5 mmol/L), any other
    atom as written but for its text and place."""
    atom, negated = literal
    if isinstance(atom, Compare):
        allowed = compare_interval((atom, False), ruleset)
        if allowed is not None:
            return ("compare", measure_key(atom), allowed), negated
    return plain(atom), negated


def conjunction_key(
    conjunction: Sequence[Literal_], ruleset: Ruleset
) -> frozenset[tuple[object, bool]]:
    return frozenset(literal_key(lit, ruleset) for lit in conjunction)


def measure_key(compare: Compare) -> Key:
    """What a comparison measures: the concept, its attribute and the window it reads."""
    return (compare.concept, compare.attribute, window_key(compare.window))


def window_key(window: Window | None) -> Key:
    if window is None:
        return ()
    return (window.relation, str(window.length), window.anchor, str(window.near))


@dataclass(frozen=True, slots=True)
class Interval:
    """The values `lo .. hi` (each end included when its flag says so)."""

    lo: float = -math.inf
    lo_closed: bool = False
    hi: float = math.inf
    hi_closed: bool = False

    @property
    def empty(self) -> bool:
        return self.lo > self.hi or (self.lo == self.hi and not (self.lo_closed and self.hi_closed))

    def meet(self, other: Interval) -> Interval:
        if (self.lo, not self.lo_closed) >= (other.lo, not other.lo_closed):
            lo, lo_closed = self.lo, self.lo_closed
        else:
            lo, lo_closed = other.lo, other.lo_closed
        if (self.hi, self.hi_closed) <= (other.hi, other.hi_closed):
            hi, hi_closed = self.hi, self.hi_closed
        else:
            hi, hi_closed = other.hi, other.hi_closed
        return Interval(lo, lo_closed, hi, hi_closed)

    def within(self, other: Interval) -> bool:
        """Whether every value of this interval is in `other`."""
        return self.meet(other) == self or self.empty

    def words(self, unit: str) -> str:
        """`>= 5.5 and < 6 mmol/L`, `< 2.5 mmol/L`, `exactly 3`."""
        suffix = f" {unit}" if unit and unit != "1" else ""
        if self.lo == self.hi:
            return f"exactly {self.lo:g}{suffix}"
        parts = []
        if self.lo != -math.inf:
            parts.append(f"{'>=' if self.lo_closed else '>'} {self.lo:g}")
        if self.hi != math.inf:
            parts.append(f"{'<=' if self.hi_closed else '<'} {self.hi:g}")
        return " and ".join(parts or ["any value"]) + suffix


def interval(op: str, value: float) -> Interval:
    if op == "<":
        return Interval(hi=value)
    if op == "<=":
        return Interval(hi=value, hi_closed=True)
    if op == ">":
        return Interval(lo=value)
    if op == ">=":
        return Interval(lo=value, lo_closed=True)
    return Interval(value, True, value, True)


def compare_interval(literal: Literal_, ruleset: Ruleset) -> Interval | None:
    """The values a comparison literal allows, or None when it is no comparison, its threshold
    does not resolve, or it is a negated equality (two intervals)."""
    atom, negated = literal
    if not isinstance(atom, Compare):
        return None
    op: str = atom.op
    if negated:
        if op not in NEGATED_OP:
            return None
        op = NEGATED_OP[op]
    try:
        value = resolve_threshold(atom, ruleset)
    except (ThresholdError, KeyError):
        return None
    return interval(op, value)


def contradiction(conjunction: Sequence[Literal_], ruleset: Ruleset) -> str | None:
    """Why the conjunction can never hold (the literals that clash, as written), or None.

    A literal and its negation clash; so do comparisons of one measure whose intervals do not
    meet, when one of them is not negated (a negated comparison also holds when no value is
    recorded)."""
    seen: dict[tuple[object, bool], Atom] = {}
    for atom, negated in conjunction:
        key = literal_key((atom, negated), ruleset)
        other = seen.get((key[0], not negated))
        if other is not None:
            first, second = (other, atom) if negated else (atom, other)
            return f"`{first.text}` and `not {second.text}`"
        seen[key] = atom
    groups: dict[Key, list[tuple[Literal_, Interval]]] = {}
    for literal in conjunction:
        allowed = compare_interval(literal, ruleset)
        if allowed is not None and isinstance(literal[0], Compare):
            groups.setdefault(measure_key(literal[0]), []).append((literal, allowed))
    for members in groups.values():
        if all(negated for (_, negated), _ in members):
            continue
        met = Interval()
        for _, allowed in members:
            met = met.meet(allowed)
        if met.empty:
            texts = [("not " if neg else "") + atom.text for (atom, neg), _ in members]
            return " and ".join(f"`{t}`" for t in texts)
    return None


def implies(conjunction: Sequence[Literal_], other: Sequence[Literal_], ruleset: Ruleset) -> bool:
    """Whether every patient meeting `conjunction` meets `other`: each literal of `other` is
    one of `conjunction`'s, or a comparison that a positive comparison of the same measure in
    `conjunction` keeps within."""
    have = conjunction_key(conjunction, ruleset)
    positive: dict[Key, Interval] = {}
    for literal in conjunction:
        allowed = compare_interval(literal, ruleset)
        if allowed is not None and not literal[1] and isinstance(literal[0], Compare):
            key = measure_key(literal[0])
            positive[key] = positive.get(key, Interval()).meet(allowed)
    for literal in other:
        if literal_key(literal, ruleset) in have:
            continue
        atom = literal[0]
        needed = compare_interval(literal, ruleset)
        if needed is None or not isinstance(atom, Compare):
            return False
        known = positive.get(measure_key(atom))
        if known is None or not known.within(needed):
            return False
    return True
