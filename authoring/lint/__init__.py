"""`vigil lint`: the static analysis a careful reviewer would do, as warnings.

Works from the loaded model and the parsed conditions' disjunctive normal form, with
thresholds in canonical units, never from the YAML's text: rules that can never fire, rules
that compete (same condition, shadowed), threshold bands that overlap, leave a gap or are out
of order, names nothing reads, and missing citations or reviewers. Every warning has a `code`
and a subject, and a `lint-answers:` entry in the ruleset naming both turns it into a note.
"""

from __future__ import annotations

from engine.model import Ruleset
from engine.yaml_source import Source

from ..findings import Finding, in_file_order
from ..source import load_with_source, ruleset_file
from . import bands, metadata, overlap, reach, usage
from .answers import answered
from .context import Context
from .issues import CODES, Issue

__all__ = [
    "CODES",
    "Issue",
    "lint",
    "lint_issues",
    "lint_with_subjects",
    "load_with_source",
    "ruleset_file",
]


def lint_issues(ruleset: Ruleset, source: Source) -> list[Issue]:
    """Every warning about the ruleset, before answers are applied."""
    context = Context(ruleset, source)
    dead = reach.dead_rules(context)
    return [
        *reach.check(context, dead),
        *overlap.check(context, dead),
        *bands.check(context, dead),
        *usage.check(context),
        *metadata.check(context),
    ]


def lint(ruleset: Ruleset, source: Source) -> list[Finding]:
    """The ruleset's lint findings in file order: unanswered warnings, answered ones as notes
    with their answer, and a warning for each answer that matches no warning."""
    return in_file_order(f for f, _ in lint_with_subjects(ruleset, source))


def lint_with_subjects(ruleset: Ruleset, source: Source) -> list[tuple[Finding, str]]:
    """`lint`'s findings in file order, each with its subject (the rule, concept, parameter,
    finding or ruleset id a `lint-answers:` entry names to answer it)."""
    found = answered(lint_issues(ruleset, source), ruleset, source)
    subjects = {id(f): subject for f, subject in found}
    return [(f, subjects[id(f)]) for f in in_file_order(f for f, _ in found)]
