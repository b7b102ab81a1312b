"""A ruleset's escalation levels, lowest first: each level's rank, and the highest of several.

No level is named here: they are the ruleset's (`Ruleset.levels`). The first level is the
"nothing to do" one: the escalation when no suggesting rule fired, and the level of
information rules, which never raise it.

A ruleset that declares no levels (one written before levels were declared, or built by hand)
has implied ones: `none` first, then the levels its rules suggest without a referral (in the
order the rules first name them), then the levels of its `referrals` in the order written. An
implied level's card indicator follows its referral's priority: none gives `info`, `routine`
gives `warning`, a more pressing one `critical`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from .conditions import NoSuggestion, atoms
from .errors import Problem, RulesetError
from .model import Indicator, Level, Referral, Ruleset

NOTHING = "none"  # the first level of a ruleset that declares no levels


@dataclass(frozen=True)
class Ladder:
    """The levels of one ruleset, lowest first (never empty)."""

    levels: tuple[Level, ...]
    ranks: Mapping[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "ranks", {lv.id: n for n, lv in enumerate(self.levels)})

    @property
    def first(self) -> Level:
        return self.levels[0]

    def __contains__(self, level: object) -> bool:
        return level in self.ranks

    def rank(self, level: str) -> int:
        """Position of `level`, 0 for the first; raises KeyError for a level not declared."""
        return self.ranks[level]

    def level(self, level: str) -> Level:
        """The declared level called `level`; raises KeyError for one not declared."""
        return self.levels[self.ranks[level]]

    def highest(self, levels: Iterable[str]) -> str:
        """The highest of `levels`; the first level when there are none."""
        return max(levels, key=self.rank, default=self.first.id)

    def is_first(self, level: str) -> bool:
        return self.rank(level) == 0


def ladder(ruleset: Ruleset) -> Ladder:
    """The ruleset's levels, declared or implied."""
    if ruleset.levels:
        return Ladder(ruleset.levels)
    named = [rule.then.suggest for rule in ruleset.rules if rule.then.suggest is not None]
    return Ladder(implied_levels(named, ruleset.referrals))


def implied_levels(named: Iterable[str], referrals: Mapping[str, Referral]) -> tuple[Level, ...]:
    """The levels of a ruleset that declares none: see the module's docstring."""
    plain = [lv for lv in dict.fromkeys(named) if lv not in referrals and lv != NOTHING]
    ordered = [NOTHING, *plain, *(lv for lv in referrals if lv != NOTHING)]
    return tuple(
        Level(lv, lv.replace("-", " ").capitalize(), _indicator(referrals.get(lv)))
        for lv in ordered
    )


def check_levels(ruleset: Ruleset, levels: Ladder) -> None:
    """Raise RulesetError when a rule suggests, or a condition names, a level the ruleset does
    not declare (a Ruleset built by hand skips the loader, which reports this at the line)."""
    where = str(ruleset.source or ruleset.key)
    known = ", ".join(lv.id for lv in levels.levels)
    problems = []
    for rule in ruleset.rules:
        named = [a.level for a in atoms(rule.when) if isinstance(a, NoSuggestion) and a.level]
        if rule.then.suggest is not None:
            named.append(rule.then.suggest)
        problems += [
            Problem(where, rule.line, 0, f"rule {rule.id}: there is no level {lv!r} ({known})")
            for lv in dict.fromkeys(named)
            if lv not in levels
        ]
    if problems:
        raise RulesetError(problems)


def _indicator(referral: Referral | None) -> Indicator:
    if referral is None:
        return "info"
    return "warning" if referral.priority == "routine" else "critical"
