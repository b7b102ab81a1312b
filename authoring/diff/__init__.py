"""`vigil diff`: what changed between two versions of a ruleset, and what it does to patients."""

from .change import Change
from .changes import RulesetDiff, diff_rulesets
from .impact import Impact, Move, RuleShift, population_impact

__all__ = [
    "Change",
    "Impact",
    "Move",
    "RuleShift",
    "RulesetDiff",
    "diff_rulesets",
    "population_impact",
]
