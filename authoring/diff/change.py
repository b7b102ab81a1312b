"""One difference between two versions of a ruleset, as every section of the diff reports it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["added", "removed", "changed"]
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
