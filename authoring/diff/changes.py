"""What changed between two versions of a ruleset, in the words of the ruleset's authors.

`diff_rulesets(old, new)` compares the loaded models (never the YAML text): metadata, levels,
parameters (with the rules that read each), concepts and their codes (value-set codes too,
with displays where the ruleset gives them), rules (condition, level, derived finding, texts,
citations, proposals), referrals, citations, red flags, notes and the rest. A change carries
the line of its item in the new file (the old one for a removal) when the model knows it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal, TypeVar

from engine.codes import Code
from engine.conditions import All, Condition
from engine.model import Concept, Level, Proposal, Rule, Ruleset

from .plain import condition_text, plain, short, words

Kind = Literal["added", "removed", "changed"]
T = TypeVar("T")
SECTIONS = (
    "metadata",
    "levels",
    "parameters",
    "concepts",
    "rules",
    "referrals",
    "citations",
    "red flags",
    "notes",
    "other",
)


@dataclass(frozen=True, slots=True)
class Change:
    """One difference: in `section`, `subject` (a rule id, a parameter name) was added,
    removed or changed; `text` says how in a line a clinician reads."""

    section: str
    kind: Kind
    subject: str
    text: str
    line: int = 0

    def to_dict(self) -> dict[str, str | int]:
        return {
            "section": self.section,
            "kind": self.kind,
            "subject": self.subject,
            "text": self.text,
            "line": self.line,
        }


@dataclass(frozen=True)
class RulesetDiff:
    """Every change from `old` to `new`, in section order."""

    old: Ruleset
    new: Ruleset
    changes: tuple[Change, ...] = field(default=())

    @property
    def identical(self) -> bool:
        return not self.changes

    def in_section(self, section: str) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.section == section)

    def to_dict(self) -> dict[str, object]:
        return {
            "old": {"id": self.old.id, "version": self.old.version, "key": self.old.key},
            "new": {"id": self.new.id, "version": self.new.version, "key": self.new.key},
            "changes": [c.to_dict() for c in self.changes],
        }


def diff_rulesets(old: Ruleset, new: Ruleset) -> RulesetDiff:
    """The changes from `old` to `new`, metadata first, then levels, parameters, concepts,
    rules and the rest; within a section, additions, removals and changes in file order."""
    changes = [
        *_metadata(old, new),
        *_levels(old, new),
        *_parameters(old, new),
        *_concepts(old, new),
        *_rules(old, new),
        *_referrals(old, new),
        *_named(
            "citations",
            old.citations,
            new.citations,
            lambda c: f"{c.label}" + (f" <{c.url}>" if c.url else ""),
        ),
        *_named(
            "red flags",
            {_flag_id(f): f for f in old.red_flags},
            {_flag_id(f): f for f in new.red_flags},
            lambda f: f.label,
        ),
        *_named(
            "notes",
            {n.id: n for n in old.notes},
            {n.id: n for n in new.notes},
            lambda n: short(n.text),
        ),
        *_other(old, new),
    ]
    if old.version == new.version and any(c.section != "metadata" for c in changes):
        text = f"the rules changed but the version is still {new.version}: bump it to release"
        changes.insert(0, Change("metadata", "changed", "version", text))
    return RulesetDiff(old, new, tuple(changes))


def _metadata(old: Ruleset, new: Ruleset) -> list[Change]:
    found = []
    for name in ("id", "version", "status", "title", "description", "time_zone"):
        before, after = getattr(old, name), getattr(new, name)
        if before != after:
            text = f"{name}: {text_change(str(before), str(after))}"
            found.append(Change("metadata", "changed", name, text))
    for name in ("authors", "reviewers"):
        before_set, after_set = set(getattr(old, name)), set(getattr(new, name))
        for person in sorted(after_set - before_set):
            found.append(Change("metadata", "added", name, f"{name[:-1]} {person} added"))
        for person in sorted(before_set - after_set):
            found.append(Change("metadata", "removed", name, f"{name[:-1]} {person} removed"))
    return found


def _level_text(level: Level) -> str:
    return f"{level.id} ({level.title}, {level.indicator})"


def _levels(old: Ruleset, new: Ruleset) -> list[Change]:
    before = {lv.id: lv for lv in old.levels}
    after = {lv.id: lv for lv in new.levels}
    found = [
        Change("levels", "added", i, f"level {_level_text(after[i])} added")
        for i in after
        if i not in before
    ]
    found += [
        Change("levels", "removed", i, f"level {_level_text(before[i])} removed")
        for i in before
        if i not in after
    ]
    for i in after:
        if i in before and before[i] != after[i]:
            a, b = before[i], after[i]
            parts = [
                f"{name} {short(getattr(a, name))} -> {short(getattr(b, name))}"
                for name in ("title", "indicator", "label")
                if getattr(a, name) != getattr(b, name)
            ]
            parts += _proposal_parts(a.proposals, b.proposals)
            if parts:
                found.append(Change("levels", "changed", i, f"level {i}: {'; '.join(parts)}"))
    common_before = [i for i in before if i in after]
    common_after = [i for i in after if i in before]
    if common_before != common_after:
        text = f"levels reordered: {' < '.join(common_before)} -> {' < '.join(common_after)}"
        found.append(Change("levels", "changed", "order", text))
    return found


def _proposal_label(proposal: Proposal) -> str:
    return f"{proposal.label} ({proposal.code.compact()}, {proposal.priority})"


def _proposal_parts(old: Iterable[Proposal], new: Iterable[Proposal]) -> list[str]:
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
                _field_change(f.name, getattr(was, f.name), getattr(p, f.name))
                for f in dataclasses.fields(p)
                if plain(getattr(was, f.name)) != plain(getattr(p, f.name))
            ]
            parts.append(f"proposal {p.label} ({p.code.compact()}): {', '.join(fields)}")
    return parts


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


def _parameters(old: Ruleset, new: Ruleset) -> list[Change]:
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


def _code_text(code: Code) -> str:
    return code.compact() + (f" ({code.display})" if code.display else "")


def _concept_summary(concept: Concept) -> str:
    codes = ", ".join(_code_text(c) for c in concept.codes[:3])
    more = f" and {len(concept.codes) - 3} more" if len(concept.codes) > 3 else ""
    return f"{concept.label} [{concept.kind}]" + (f": {codes}{more}" if codes else "")


def _concepts(old: Ruleset, new: Ruleset) -> list[Change]:
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
                        "concepts", "added", name, f"concept {name}: code {_code_text(code)} added"
                    )
                )
        for key, code in old_codes.items():
            if key not in new_codes:
                found.append(
                    Change(
                        "concepts",
                        "removed",
                        name,
                        f"concept {name}: code {_code_text(code)} removed",
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
                        f"concept {name}: {_field_change(f.name, a, b)}",
                    )
                )
    return found


def _field_change(name: str, before: object, after: object) -> str:
    """`name before -> after` in words; long texts by the words that differ, other values
    too long for a line as `name changed`."""
    label = name.replace("_", " ")
    if isinstance(before, str) and isinstance(after, str):
        return f"{label} {text_change(before, after)}"
    simple = (str, int, float, bool, type(None), timedelta)
    if isinstance(before, simple) and isinstance(after, simple):
        return f"{label} {short(before)} -> {short(after)}"
    if dataclasses.is_dataclass(before) and dataclasses.is_dataclass(after):
        changed = [
            f.name.replace("_", " ")
            for f in dataclasses.fields(before)
            if plain(getattr(before, f.name)) != plain(getattr(after, f.name, None))
        ]
        return f"{label}: {', '.join(changed)} changed" if changed else f"{label} changed"
    text_a, text_b = short(before), short(after)
    if len(text_a) + len(text_b) <= 100 and "(" not in text_a + text_b:
        return f"{label} {text_a} -> {text_b}"
    return f"{label} changed"


def text_change(before: str, after: str, context: int = 3) -> str:
    """Two texts as `old -> new`, a long one cut to the words that differ and a few around."""
    if len(before) + len(after) <= 100:
        return f"{short(before)} -> {short(after)}"
    a, b = before.split(), after.split()
    start = 0
    while start < min(len(a), len(b)) and a[start] == b[start]:
        start += 1
    end = 0
    while end < min(len(a), len(b)) - start and a[-1 - end] == b[-1 - end]:
        end += 1
    first = max(0, start - context)

    def cut(words: list[str]) -> str:
        last = len(words) - max(0, end - context)
        middle = " ".join(words[first:last]) or "(nothing)"
        return ("…" if first else "") + short(middle, 120) + ("…" if last < len(words) else "")

    return f"{cut(a)} -> {cut(b)}"


def _rule_level(rule: Rule) -> str:
    return rule.then.suggest or (f"derives {rule.then.derive}" if rule.then.derive else "-")


def _rule_summary(rule: Rule) -> str:
    what = f"suggests {rule.then.suggest}" if rule.then.suggest else f"derives {rule.then.derive}"
    return f"{rule.title}: {what} when {condition_text(rule.when)}"


def _rules(old: Ruleset, new: Ruleset) -> list[Change]:
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
    parts += _proposal_parts(a.then.proposals, b.then.proposals)
    if plain(a.then.referral) != plain(b.then.referral):
        parts.append(
            f"referral {_referral_text(a.then.referral)} -> {_referral_text(b.then.referral)}"
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


def _referral_text(referral: object) -> str:
    code = getattr(referral, "code", None)
    if not isinstance(code, Code):
        return "-"
    return f"{_code_text(code)} {getattr(referral, 'priority', '')}".strip()


def _referrals(old: Ruleset, new: Ruleset) -> list[Change]:
    found = []
    for level in sorted({*old.referrals, *new.referrals}):
        a, b = old.referrals.get(level), new.referrals.get(level)
        if plain(a) != plain(b):
            kind: Kind = "added" if a is None else "removed" if b is None else "changed"
            text = f"referral at {level}: {_referral_text(a)} -> {_referral_text(b)}"
            found.append(Change("referrals", kind, level, text))
    return found


def _flag_id(flag: object) -> str:
    for name in ("id", "concept", "finding", "label"):
        value = getattr(flag, name, None)
        if value:
            return str(value)
    return "?"


def _named(
    section: str, old: Mapping[str, T], new: Mapping[str, T], describe: Callable[[T], str]
) -> list[Change]:
    singular = section.rstrip("s")
    found = [
        Change(section, "added", k, f"{singular} {k} added: {describe(v)}")
        for k, v in new.items()
        if k not in old
    ]
    found += [
        Change(section, "removed", k, f"{singular} {k} removed: {describe(v)}")
        for k, v in old.items()
        if k not in new
    ]
    for k, v in new.items():
        before = old.get(k)
        if before is None or plain(before) == plain(v):
            continue
        assert dataclasses.is_dataclass(v)
        parts = [
            _field_change(f.name, getattr(before, f.name), getattr(v, f.name))
            for f in dataclasses.fields(v)
            if plain(getattr(before, f.name)) != plain(getattr(v, f.name))
        ]
        found.append(Change(section, "changed", k, f"{singular} {k}: {'; '.join(parts)}"))
    return found


_OTHER = (
    "scope",
    "hit_policy",
    "sites",
    "regions",
    "site_regions",
    "dates",
    "card",
    "word_lists",
    "products",
    "code_systems",
    "unread_text_warnings",
)


def _other(old: Ruleset, new: Ruleset) -> list[Change]:
    found = []
    for name in _OTHER:
        a, b = getattr(old, name), getattr(new, name)
        if plain(a) == plain(b):
            continue
        if name == "scope":
            text = f"scope {condition_text(a)} -> {condition_text(b)}"
        elif isinstance(a, Mapping) and isinstance(b, Mapping):
            added = sorted(str(k) for k in b if k not in a)
            removed = sorted(str(k) for k in a if k not in b)
            changed = sorted(str(k) for k in b if k in a and plain(a[k]) != plain(b[k]))
            bits = [
                f"{label} {short(keys)}"
                for label, keys in (("added", added), ("removed", removed), ("changed", changed))
                if keys
            ]
            text = f"{name.replace('_', ' ')}: {'; '.join(bits)}"
        else:
            text = _field_change(name, a, b)
        found.append(Change("other", "changed", name, text))
    return found
