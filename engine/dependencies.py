"""Which rules depend on which, and the order (strata) in which they may run.

A rule that tests that a finding is *not* there, or that no suggestion reached a level, may only
run once every rule that could produce that finding or suggestion has run. Strata make that so:
a rule sits one stratum above every rule it depends on negatively, and no lower than the rules it
depends on positively. A cycle through derivations has no such order and is refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .conditions import Condition, FindingRef, NoSuggestion, to_dnf
from .levels import Ladder
from .model import Rule


@dataclass(frozen=True, slots=True)
class Cycle(Exception):
    rules: tuple[str, ...]

    def __str__(self) -> str:
        return " -> ".join((*self.rules, self.rules[0]))


def dependencies(
    condition: Condition, rules: Sequence[Rule], levels: Ladder
) -> list[tuple[str, bool]]:
    """(rule id, negative) for every rule whose output `condition` reads."""
    derivers: dict[str, list[str]] = {}
    for rule in rules:
        if rule.then.derive:
            derivers.setdefault(rule.then.derive, []).append(rule.id)
    found: list[tuple[str, bool]] = []
    for branch in to_dnf(condition):
        for atom, negated in branch:
            if isinstance(atom, FindingRef):
                found += [(r, negated) for r in derivers.get(atom.name, [])]
            elif isinstance(atom, NoSuggestion):
                if atom.level is not None and atom.level not in levels:
                    continue  # the loader reports the unknown level; the cycle check goes on
                floor = levels.rank(atom.level) if atom.level else 1
                found += [
                    (r.id, True)
                    for r in rules
                    if r.then.suggest is not None
                    and r.then.suggest in levels
                    and levels.rank(r.then.suggest) >= floor
                ]
    return found


def strata(rules: Sequence[Rule], levels: Ladder) -> dict[str, int]:
    """Stratum of every rule; raises `Cycle` naming the rules of a derivation cycle."""
    edges = {rule.id: dependencies(rule.when, rules, levels) for rule in rules}
    result: dict[str, int] = {}
    visiting: list[str] = []

    def visit(rule_id: str) -> int:
        if rule_id in result:
            return result[rule_id]
        if rule_id in visiting:
            raise Cycle(tuple(visiting[visiting.index(rule_id) :]))
        visiting.append(rule_id)
        level = 0
        for dep, negative in edges[rule_id]:
            level = max(level, visit(dep) + (1 if negative else 0))
        visiting.pop()
        result[rule_id] = level
        return level

    for rule in rules:
        visit(rule.id)
    return result
