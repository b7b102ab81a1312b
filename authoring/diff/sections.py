"""The ruleset's other parts compared: metadata, levels, referrals, citations, red flags,
notes, and the rest (scope, hit policy, sites, regions, dates, card, products)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypeVar

from engine.model import Level, Ruleset

from .change import Change, Kind
from .plain import condition_text, field_change, fields_changed, plain, short, text_change
from .rules import proposal_changes, referral_text

T = TypeVar("T")


def metadata_changes(old: Ruleset, new: Ruleset) -> list[Change]:
    """Id, version, status, title, description, time zone, authors and reviewers."""
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


def level_changes(old: Ruleset, new: Ruleset) -> list[Change]:
    """Levels added, removed, changed (title, indicator, label, proposals) or reordered."""
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
            parts += proposal_changes(a.proposals, b.proposals)
            if parts:
                found.append(Change("levels", "changed", i, f"level {i}: {'; '.join(parts)}"))
    common_before = [i for i in before if i in after]
    common_after = [i for i in after if i in before]
    if common_before != common_after:
        text = f"levels reordered: {' < '.join(common_before)} -> {' < '.join(common_after)}"
        found.append(Change("levels", "changed", "order", text))
    return found


def referral_changes(old: Ruleset, new: Ruleset) -> list[Change]:
    """The referral proposed at each level, added, removed or changed."""
    found = []
    for level in sorted({*old.referrals, *new.referrals}):
        a, b = old.referrals.get(level), new.referrals.get(level)
        if plain(a) != plain(b):
            kind: Kind = "added" if a is None else "removed" if b is None else "changed"
            text = f"referral at {level}: {referral_text(a)} -> {referral_text(b)}"
            found.append(Change("referrals", kind, level, text))
    return found


def flag_id(flag: object) -> str:
    """The name a red flag is known by: its id, else its concept, finding or label."""
    for name in ("id", "concept", "finding", "label"):
        value = getattr(flag, name, None)
        if value:
            return str(value)
    return "?"


def named_changes(
    section: str, old: Mapping[str, T], new: Mapping[str, T], describe: Callable[[T], str]
) -> list[Change]:
    """Items of one section keyed by id: added, removed, and the fields that changed."""
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
        found.append(Change(section, "changed", k, f"{singular} {k}: {fields_changed(before, v)}"))
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


def other_changes(old: Ruleset, new: Ruleset) -> list[Change]:
    """The rest of the model, a line per part that changed."""
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
            text = field_change(name, a, b)
        found.append(Change("other", "changed", name, text))
    return found
