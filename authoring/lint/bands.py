"""Threshold bands: suggesting rules that differ only in where one measured value (a concept's
latest, lowest, ... in one window) lies. Their bands must not overlap with different levels
(`band-overlap`), must leave no value between them to no rule (`band-gap`: `< 2.5` and `> 2.5`
leave 2.5 to nobody), and must rise or fall in level with the value (`band-order`: moderate
below mild)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from itertools import pairwise

from engine.conditions import Compare, suppressed_rule, to_dnf
from engine.model import Rule

from .context import Context
from .issues import Issue
from .literals import Interval, Key, compare_interval, conjunction_key, measure_key


@dataclass(frozen=True)
class Band:
    rule: Rule
    values: Interval
    rank: int


def families(
    context: Context, dead: Collection[str]
) -> dict[tuple[Key, frozenset[object]], list[Band]]:
    """Bands grouped by the measure they bound and everything else their alternative says
    (the rules in `dead`, which can never fire, bound nothing)."""
    found: dict[tuple[Key, frozenset[object]], list[Band]] = {}
    for rule in context.suggesting():
        if rule.id in dead or suppressed_rule(rule.id):
            continue
        for alternative in to_dnf(rule.when):
            measures = {measure_key(a) for a, _ in alternative if isinstance(a, Compare)}
            for measure in measures:
                bounds = [
                    lit
                    for lit in alternative
                    if isinstance(lit[0], Compare) and measure_key(lit[0]) == measure
                ]
                values = Interval()
                for literal in bounds:
                    allowed = compare_interval(literal, context.ruleset)
                    if allowed is None:
                        break
                    values = values.meet(allowed)
                else:
                    rest = conjunction_key(
                        [lit for lit in alternative if lit not in bounds], context.ruleset
                    )
                    band = Band(rule, values, context.rank(rule.then.suggest or ""))
                    found.setdefault((measure, rest), []).append(band)
    return {key: bands for key, bands in found.items() if len({b.rule.id for b in bands}) > 1}


def check(context: Context, dead: Collection[str]) -> list[Issue]:
    issues: list[Issue] = []
    for (measure, _), bands in families(context, dead).items():
        concept = context.ruleset.concepts.get(str(measure[0]))
        unit = concept.unit or "" if concept is not None else ""
        if measure[1] == "span":
            unit = "days"
        issues += overlaps(context, bands, unit)
        ordered = sorted(bands, key=lambda b: (b.values.lo, not b.values.lo_closed))
        for side in sides(ordered):
            issues += gaps(context, side, unit) + order(context, side, unit)
    return list(dict.fromkeys(issues))


def sides(ordered: list[Band]) -> list[list[Band]]:
    """The bands split at a normal range: a range of values between two bands, each the
    mildest of the bands on its side (low potassium bands below it, high ones above)."""
    for n in range(1, len(ordered)):
        below, above = ordered[n - 1], ordered[n]
        between = gap(below.values, above.values)
        if between is None or between.lo == between.hi:
            continue
        if below.rank == min(b.rank for b in ordered[:n]) and above.rank == min(
            b.rank for b in ordered[n:]
        ):
            return [ordered[:n], *sides(ordered[n:])]
    return [ordered]


def gap(low: Interval, high: Interval) -> Interval | None:
    """The values between two bands ordered by their lower end, or None when they meet."""
    between = Interval(low.hi, not low.hi_closed, high.lo, not high.lo_closed)
    return None if high.lo < low.hi or between.empty else between


def overlaps(context: Context, bands: list[Band], unit: str) -> list[Issue]:
    issues = []
    for i, one in enumerate(bands):
        for other in bands[i + 1 :]:
            common = one.values.meet(other.values)
            if one.rank == other.rank or common.empty or one.rule.id == other.rule.id:
                continue
            message = (
                f"rule {other.rule.id} ({other.rule.then.suggest}, {other.values.words(unit)}) "
                f"overlaps rule {one.rule.id} ({one.rule.then.suggest}, "
                f"{one.values.words(unit)}): {common.words(unit)} is in both bands"
            )
            issues.append(context.rule_issue("band-overlap", other.rule, message))
    return issues


def gaps(context: Context, ordered: list[Band], unit: str) -> list[Issue]:
    issues = []
    for below, above in pairwise(ordered):
        low, high = below.values, above.values
        between = gap(low, high)
        if between is None:
            continue
        message = (
            f"no rule owns {between.words(unit)} between rule {below.rule.id} "
            f"({low.words(unit)}) and rule {above.rule.id} ({high.words(unit)})"
        )
        issues.append(context.rule_issue("band-gap", above.rule, message))
    return issues


def order(context: Context, ordered: list[Band], unit: str) -> list[Issue]:
    """The levels must rise (or fall) with the value, in the direction from the lowest band's
    level to the highest band's."""
    direction = ordered[-1].rank - ordered[0].rank
    if direction == 0:
        return []
    for below, above in pairwise(ordered):
        step = above.rank - below.rank
        if step * direction < 0:
            side = "above" if direction > 0 else "below"
            message = (
                f"rule {above.rule.id} ({above.rule.then.suggest}, {above.values.words(unit)}) "
                f"lies beyond rule {below.rule.id} ({below.rule.then.suggest}, "
                f"{below.values.words(unit)}): a milder level {side} a more severe one"
            )
            return [context.rule_issue("band-order", above.rule, message)]
    return []
