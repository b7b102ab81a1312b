"""One lint warning before it is answered: its code, what it is about, where, and why.

A warning's `code` and `subject` (the rule, concept, parameter or finding id) are what a
`lint-answers:` entry in the ruleset names to answer it.
"""

from __future__ import annotations

from dataclasses import dataclass

CODES: dict[str, str] = {
    "never-fires": "a rule whose every alternative contradicts itself",
    "out-of-scope": "a rule that contradicts the ruleset's scope",
    "needs-underived-finding": "a rule that needs a finding no rule that can fire derives",
    "same-condition-levels": "two rules on the same condition suggesting different levels",
    "band-overlap": "threshold bands of one concept that overlap",
    "band-gap": "threshold bands of one concept that leave values to no rule",
    "band-order": "threshold bands whose levels are out of order",
    "shadowed": "a rule that never decides the escalation: a higher rule always fires with it",
    "unused-concept": "a concept nothing reads",
    "unused-parameter": "a parameter nothing reads",
    "unused-finding": "a derived finding nothing reads",
    "no-citation": "a suggesting rule without `cite`",
    "no-reviewers": "a ruleset without reviewers",
    "stale-answer": "a `lint-answers` entry that answers no warning",
}


@dataclass(frozen=True, slots=True)
class Issue:
    """A warning about `subject`, located at `line`:`column` of the ruleset file."""

    code: str
    subject: str
    line: int
    column: int
    message: str
