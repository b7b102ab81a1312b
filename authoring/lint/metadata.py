"""What a reviewer asks of a ruleset as a whole: a citation for every suggesting rule
(`no-citation`) and at least one reviewer (`no-reviewers`)."""

from __future__ import annotations

from engine.conditions import suppressed_rule

from .context import Context
from .issues import Issue


def check(context: Context) -> list[Issue]:
    issues = [
        context.rule_issue(
            "no-citation", rule, f"rule {rule.id} suggests {rule.then.suggest} but cites nothing"
        )
        for rule in context.suggesting()
        if not rule.then.cite and not suppressed_rule(rule.id)
    ]
    if not context.ruleset.reviewers:
        where = ("reviewers",) if "reviewers" in context.source.data else ("id",)
        message = f"ruleset {context.ruleset.id} has no reviewers"
        issues.append(context.key_issue("no-reviewers", context.ruleset.id, where, message))
    return issues
