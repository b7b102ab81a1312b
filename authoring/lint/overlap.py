"""Rules that compete for one patient: two rules on the same condition suggesting different
levels (`same-condition-levels`), and a rule that never decides the escalation because, under
`hit-policy: {show: escalation}`, a rule of a higher level fires whenever it does (`shadowed`).
"""

from __future__ import annotations

from collections.abc import Collection

from engine.conditions import suppressed_rule, to_dnf
from engine.model import Rule

from .context import Context
from .issues import Issue
from .literals import conjunction_key, implies


def same_condition(context: Context) -> list[Issue]:
    first: dict[frozenset[object], Rule] = {}
    issues = []
    for rule in context.suggesting():
        key = frozenset(conjunction_key(alt, context.ruleset) for alt in to_dnf(rule.when))
        other = first.setdefault(key, rule)
        if other is not rule and other.then.suggest != rule.then.suggest:
            message = (
                f"rule {rule.id} suggests {rule.then.suggest} on the same condition as rule "
                f"{other.id}, which suggests {other.then.suggest}"
            )
            issues.append(context.rule_issue("same-condition-levels", rule, message))
    return issues


def shown_anyway(rule: Rule, context: Context) -> bool:
    """Whether the hit policy shows the rule's proposals below the escalation level too."""
    return any(
        rule.id in shows.rules or rule.then.suggest in shows.levels
        for shows in context.ruleset.hit_policy.shows()
    )


def shadowed(context: Context, dead: Collection[str]) -> list[Issue]:
    if context.ruleset.hit_policy.show != "escalation":
        return []
    ruleset = context.ruleset
    live = [r for r in context.suggesting() if r.id not in dead and not suppressed_rule(r.id)]
    dnf = {rule.id: to_dnf(rule.when) for rule in live}
    issues = []
    for rule in live:
        if rule.then.derive or shown_anyway(rule, context):
            continue
        level = context.rank(rule.then.suggest or "")
        for higher in live:
            if context.rank(higher.then.suggest or "") <= level:
                continue
            if all(
                any(implies(mine, theirs, ruleset) for theirs in dnf[higher.id])
                for mine in dnf[rule.id]
            ):
                message = (
                    f"rule {rule.id} ({rule.then.suggest}) never decides the escalation: "
                    f"whenever it fires, rule {higher.id} ({higher.then.suggest}) fires too"
                )
                issues.append(context.rule_issue("shadowed", rule, message))
                break
    return issues


def check(context: Context, dead: Collection[str]) -> list[Issue]:
    """`dead`: the rules that can never fire, which shadow nothing and are not shadowed."""
    return same_condition(context) + shadowed(context, dead)
