"""Rules compared: added, removed, renamed, and for a changed rule what changed in clinical
words (its condition, level, derived finding, texts, citations, proposals, referral)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping

from engine.codes import Code
from engine.conditions import All, Condition
from engine.model import Proposal, Rule, Ruleset

from .change import Change
from .plain import condition_text, field_change, plain, short


def _rule_summary(rule: Rule) -> str:
    what = f"suggests {rule.then.suggest}" if rule.then.suggest else f"derives {rule.then.derive}"
    return f"{rule.title}: {what} when {condition_text(rule.when)}"


def rule_changes(old: Ruleset, new: Ruleset) -> list[Change]:
    """Rules added, removed, renamed and changed, a line for each thing that changed."""
    before = {r.id: r for r in old.rules}
    after = {r.id: r for r in new.rules}
    renamed = _renamed(
        {i: r for i, r in before.items() if i not in after},
        {i: r for i, r in after.items() if i not in before},
    )
    found = [
        Change(
            "rules", "changed", i, f"rule {was} renamed to {i}, otherwise unchanged", after[i].line
        )
        for i, was in renamed.items()
    ]
    found += [
        Change("rules", "added", i, f"rule {i} added: {_rule_summary(r)}", r.line)
        for i, r in after.items()
        if i not in before and i not in renamed
    ]
    found += [
        Change("rules", "removed", i, f"rule {i} removed: {_rule_summary(r)}", r.line)
        for i, r in before.items()
        if i not in after and i not in renamed.values()
    ]
    for i, b in after.items():
        a = before.get(i)
        if a is None or plain(a) == plain(b):
            continue
        for part in _rule_parts(a, b):
            found.append(Change("rules", "changed", i, f"rule {i}: {part}", b.line))
    return found


def _renamed(removed: Mapping[str, Rule], added: Mapping[str, Rule]) -> dict[str, str]:
    """New id -> old id, for each added rule equal but for its id to a removed one."""
    content = {plain(dataclasses.replace(r, id="")): i for i, r in removed.items()}
    found: dict[str, str] = {}
    for i, rule in added.items():
        was = content.pop(plain(dataclasses.replace(rule, id="")), None)
        if was is not None:
            found[i] = was
    return found


def _rule_parts(a: Rule, b: Rule) -> list[str]:
    parts = []
    if a.title != b.title:
        parts.append(f"title {short(a.title)} -> {short(b.title)}")
    if plain(a.when) != plain(b.when):
        parts.append(_condition_change(a.when, b.when))
    if a.then.suggest != b.then.suggest:
        parts.append(f"level {short(a.then.suggest)} -> {short(b.then.suggest)}")
    if a.then.derive != b.then.derive:
        parts.append(f"derives {short(a.then.derive)} -> {short(b.then.derive)}")
    for name in ("summary", "detail"):
        x, y = getattr(a.then, name), getattr(b.then, name)
        if x != y:
            parts.append(f"{name} {short(x)} -> {short(y)}")
    for cite in sorted(set(b.then.cite) - set(a.then.cite)):
        parts.append(f"cites {cite}")
    for cite in sorted(set(a.then.cite) - set(b.then.cite)):
        parts.append(f"no longer cites {cite}")
    parts += proposal_changes(a.then.proposals, b.then.proposals)
    if plain(a.then.referral) != plain(b.then.referral):
        parts.append(
            f"referral {referral_text(a.then.referral)} -> {referral_text(b.then.referral)}"
        )
    for name in ("advice", "instructions", "summaries"):
        if plain(getattr(a.then, name)) != plain(getattr(b.then, name)):
            parts.append(f"{name} changed")
    return parts or ["changed"]


def _condition_change(before: Condition, after: Condition) -> str:
    """A changed condition: the parts of an all-of added and removed, when that is all that
    changed; else the whole condition before and after."""
    if isinstance(before, All) and isinstance(after, All):
        old_parts = [condition_text(c) for c in before.items]
        new_parts = [condition_text(c) for c in after.items]
        added = [p for p in new_parts if p not in old_parts]
        removed = [p for p in old_parts if p not in new_parts]
        kept = [p for p in new_parts if p in old_parts]
        if (added or removed) and kept == [p for p in old_parts if p in new_parts]:
            said = [f"now also requires {p}" for p in added]
            said += [f"no longer requires {p}" for p in removed]
            return f"condition {'; '.join(said)}"
    return f"condition {condition_text(before)} -> {condition_text(after)}"


def _proposal_label(proposal: Proposal) -> str:
    return f"{proposal.label} ({proposal.code.compact()}, {proposal.priority})"


def proposal_changes(old: Iterable[Proposal], new: Iterable[Proposal]) -> list[str]:
    """Proposals added, removed and changed, matched by code and label."""
    before = {(p.code.key, p.label): p for p in old}
    after = {(p.code.key, p.label): p for p in new}
    parts = [f"proposes {_proposal_label(p)}" for k, p in after.items() if k not in before]
    parts += [
        f"no longer proposes {_proposal_label(p)}" for k, p in before.items() if k not in after
    ]
    for key, p in after.items():
        was = before.get(key)
        if was is not None and plain(was) != plain(p):
            fields = [
                field_change(f.name, getattr(was, f.name), getattr(p, f.name))
                for f in dataclasses.fields(p)
                if plain(getattr(was, f.name)) != plain(getattr(p, f.name))
            ]
            parts.append(f"proposal {p.label} ({p.code.compact()}): {', '.join(fields)}")
    return parts


def referral_text(referral: object) -> str:
    """A referral as its code (and display) and priority; `-` for none."""
    code = getattr(referral, "code", None)
    if not isinstance(code, Code):
        return "-"
    return f"{code_text(code)} {getattr(referral, 'priority', '')}".strip()


def code_text(code: Code) -> str:
    """A code as `system#code`, with its display when the ruleset gives one."""
    return code.compact() + (f" ({code.display})" if code.display else "")
