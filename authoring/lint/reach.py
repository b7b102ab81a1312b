"""Rules that can never fire: every alternative of the condition contradicts itself
(`never-fires`), contradicts the ruleset's `scope:` (`out-of-scope`), or needs a finding that
only rules which can never fire derive (`needs-underived-finding`)."""

from __future__ import annotations

from dataclasses import dataclass

from engine.conditions import FindingRef, Literal_, suppressed_rule, to_dnf
from engine.model import Rule

from .context import Context
from .issues import Issue
from .literals import contradiction


@dataclass
class Alternative:
    """One conjunction of a rule's condition and what already rules it out."""

    literals: list[Literal_]
    clash: str | None  # why it contradicts itself
    scope_clash: str | None  # why it contradicts every alternative of the scope (the first's)
    needs: frozenset[str]  # findings it reads as derived

    @property
    def possible(self) -> bool:
        return self.clash is None and self.scope_clash is None


def alternatives(rule: Rule, context: Context) -> list[Alternative]:
    ruleset = context.ruleset
    scope = to_dnf(ruleset.scope) if ruleset.scope is not None else [[]]
    found = []
    for literals in to_dnf(rule.when):
        clash = contradiction(literals, ruleset)
        scope_clashes = [contradiction(literals + s, ruleset) for s in scope]
        scope_clash = scope_clashes[0] if clash is None and all(scope_clashes) else None
        needs = frozenset(a.name for a, neg in literals if isinstance(a, FindingRef) and not neg)
        found.append(Alternative(literals, clash, scope_clash, needs))
    return found


def dead_rules(context: Context) -> dict[str, list[Alternative]]:
    """The rules that can never fire, by id, with their alternatives (the greatest fixpoint:
    a finding is derivable while a rule that may fire derives it; a finding no rule derives,
    such as Vigil's own, is taken as derivable)."""
    rules = context.ruleset.rules
    alts = {rule.id: alternatives(rule, context) for rule in rules}
    derivers: dict[str, set[str]] = {}
    for rule in rules:
        if rule.then.derive:
            derivers.setdefault(rule.then.derive, set()).add(rule.id)
    dead: set[str] = set()
    changed = True
    while changed:
        changed = False
        underived = {f for f, by in derivers.items() if by <= dead}
        for rule in rules:
            if rule.id in dead:
                continue
            if not any(a.possible and not (a.needs & underived) for a in alts[rule.id]):
                dead.add(rule.id)
                changed = True
    return {rule_id: alts[rule_id] for rule_id in dead}


def check(context: Context, dead: dict[str, list[Alternative]]) -> list[Issue]:
    """A warning for each rule `dead_rules` found, saying why it can never fire."""
    derivers: dict[str, set[str]] = {}
    for rule in context.ruleset.rules:
        if rule.then.derive:
            derivers.setdefault(rule.then.derive, set()).add(rule.id)
    underived = {f for f, by in derivers.items() if by <= set(dead)}
    issues = []
    for rule in context.ruleset.rules:
        if rule.id not in dead or suppressed_rule(rule.id) is not None:
            continue
        alts = dead[rule.id]
        if all(a.clash for a in alts):
            reason = next(a.clash for a in alts if a.clash)
            message = f"rule {rule.id} can never fire: {reason} cannot both hold"
            issues.append(context.rule_issue("never-fires", rule, message))
        elif all(not a.possible for a in alts):
            reason = next(a.scope_clash for a in alts if a.scope_clash)
            message = (
                f"rule {rule.id} can never fire: it is out of the ruleset's scope, {reason} "
                "cannot both hold"
            )
            issues.append(context.rule_issue("out-of-scope", rule, message))
        else:
            names = sorted({f for a in alts if a.possible for f in a.needs & underived})
            message = (
                f"rule {rule.id} can never fire: it needs {', '.join(names)}, which no rule "
                "that can fire derives"
            )
            issues.append(context.rule_issue("needs-underived-finding", rule, message))
    return issues
