"""Parameters and concepts compared: a threshold's old and new value with the rules that read
it, a concept's codes added and removed (with their displays), and its other settings."""

from __future__ import annotations

import dataclasses

from engine.model import Concept, Ruleset

from .change import Change
from .plain import field_change, plain, words
from .rules import code_text


def _mentions(ruleset: Ruleset) -> list[tuple[str, frozenset[str]]]:
    """What reads parameters: the scope, each rule, each level's proposals, with their words."""
    found = [("scope", words(ruleset.scope))] if ruleset.scope is not None else []
    found += [(rule.id, words((rule.when, rule.then))) for rule in ruleset.rules]
    found += [(f"level {lv.id}", words(lv.proposals)) for lv in ruleset.levels]
    return found


def _users(mentions: list[tuple[str, frozenset[str]]], name: str) -> list[str]:
    """The rules (and the scope, levels' proposals) that mention `name`."""
    return [user for user, said in mentions if name in said]


def _used_by(names: list[str], limit: int = 6) -> str:
    if not names:
        return " (read by no rule)"
    shown = ", ".join(names[:limit]) + (
        f", and {len(names) - limit} more" if len(names) > limit else ""
    )
    return f" (rules {shown})"


def parameter_changes(old: Ruleset, new: Ruleset) -> list[Change]:
    """Parameters added, removed and changed, each with the rules that read it."""
    found: list[Change] = []
    if plain(old.parameters) == plain(new.parameters):
        return found
    old_mentions, new_mentions = _mentions(old), _mentions(new)
    for name, p in new.parameters.items():
        if name not in old.parameters:
            found.append(
                Change(
                    "parameters",
                    "added",
                    name,
                    f"{name}: {p.text} added{_used_by(_users(new_mentions, name))}",
                )
            )
    for name, p in old.parameters.items():
        if name not in new.parameters:
            found.append(
                Change(
                    "parameters",
                    "removed",
                    name,
                    f"{name}: {p.text} removed{_used_by(_users(old_mentions, name))}",
                )
            )
    for name, p in new.parameters.items():
        before = old.parameters.get(name)
        if before is not None and plain(before) != plain(p):
            now_users = _users(new_mentions, name)
            users = now_users + [u for u in _users(old_mentions, name) if u not in now_users]
            text = f"{name}: {before.text} -> {p.text}{_used_by(users)}"
            found.append(Change("parameters", "changed", name, text))
    return found


def _concept_summary(concept: Concept) -> str:
    codes = ", ".join(code_text(c) for c in concept.codes[:3])
    more = f" and {len(concept.codes) - 3} more" if len(concept.codes) > 3 else ""
    return f"{concept.label} [{concept.kind}]" + (f": {codes}{more}" if codes else "")


def concept_changes(old: Ruleset, new: Ruleset) -> list[Change]:
    """Concepts added and removed; codes added and removed; settings changed."""
    found = []
    for name, c in new.concepts.items():
        if name not in old.concepts:
            found.append(
                Change("concepts", "added", name, f"concept {name} added: {_concept_summary(c)}")
            )
    for name, c in old.concepts.items():
        if name not in new.concepts:
            found.append(
                Change(
                    "concepts", "removed", name, f"concept {name} removed: {_concept_summary(c)}"
                )
            )
    for name, after in new.concepts.items():
        before = old.concepts.get(name)
        if before is None or plain(before) == plain(after):
            continue
        old_codes = {c.key: c for c in (*before.codes, *before.prefixes)}
        new_codes = {c.key: c for c in (*after.codes, *after.prefixes)}
        for key, code in new_codes.items():
            if key not in old_codes:
                found.append(
                    Change(
                        "concepts", "added", name, f"concept {name}: code {code_text(code)} added"
                    )
                )
        for key, code in old_codes.items():
            if key not in new_codes:
                found.append(
                    Change(
                        "concepts",
                        "removed",
                        name,
                        f"concept {name}: code {code_text(code)} removed",
                    )
                )
        for f in dataclasses.fields(Concept):
            if f.name in {"name", "codes", "prefixes"}:
                continue
            a, b = getattr(before, f.name), getattr(after, f.name)
            if plain(a) != plain(b):
                found.append(
                    Change(
                        "concepts",
                        "changed",
                        name,
                        f"concept {name}: {field_change(f.name, a, b)}",
                    )
                )
    return found
