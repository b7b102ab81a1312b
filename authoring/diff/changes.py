"""What changed between two versions of a ruleset, in the words of the ruleset's authors.

`diff_rulesets(old, new)` compares the loaded models (never the YAML text): metadata, levels,
parameters (with the rules that read each), concepts and their codes (value-set codes too,
with displays where the ruleset gives them), rules (condition, level, derived finding, texts,
citations, proposals), referrals, citations, red flags, notes and the rest. A change carries
the line of its item in the new file (the old one for a removal) when the model knows it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.model import Ruleset

from .change import Change
from .plain import short
from .rules import rule_changes
from .sections import (
    flag_id,
    level_changes,
    metadata_changes,
    named_changes,
    other_changes,
    referral_changes,
)
from .vocabulary import concept_changes, parameter_changes


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
        *metadata_changes(old, new),
        *level_changes(old, new),
        *parameter_changes(old, new),
        *concept_changes(old, new),
        *rule_changes(old, new),
        *referral_changes(old, new),
        *named_changes(
            "citations",
            old.citations,
            new.citations,
            lambda c: f"{c.label}" + (f" <{c.url}>" if c.url else ""),
        ),
        *named_changes(
            "red flags",
            {flag_id(f): f for f in old.red_flags},
            {flag_id(f): f for f in new.red_flags},
            lambda f: f.label,
        ),
        *named_changes(
            "notes",
            {n.id: n for n in old.notes},
            {n.id: n for n in new.notes},
            lambda n: short(n.text),
        ),
        *other_changes(old, new),
    ]
    if old.version == new.version and any(c.section != "metadata" for c in changes):
        text = f"the rules changed but the version is still {new.version}: bump it to release"
        changes.insert(0, Change("metadata", "changed", "version", text))
    return RulesetDiff(old, new, tuple(changes))
