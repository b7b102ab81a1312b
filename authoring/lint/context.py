"""What every family of lint checks reads: the loaded ruleset, where its parts stand in the
YAML, and the level order; and the one way a check makes a located `Issue`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from engine.conditions import suppressed_rule
from engine.levels import Ladder, ladder
from engine.model import Rule, Ruleset
from engine.yaml_source import Source

from .issues import Issue


@dataclass
class Context:
    """A ruleset with its YAML source; `rule_index` maps a rule id to its place in `rules:`."""

    ruleset: Ruleset
    source: Source
    levels: Ladder = field(init=False)
    rule_index: dict[str, int] = field(init=False)

    def __post_init__(self) -> None:
        self.levels = ladder(self.ruleset)
        written = self.source.data.get("rules") if isinstance(self.source.data, dict) else None
        self.rule_index = {}
        for i, spec in enumerate(written if isinstance(written, list) else []):
            if isinstance(spec, dict) and isinstance(spec.get("id"), str):
                self.rule_index.setdefault(spec["id"], i)

    def issue(self, code: str, subject: str, path: Sequence[str | int], message: str) -> Issue:
        """An issue located at the YAML value of `path` (or its nearest written ancestor)."""
        line, column = self.source.where(path)
        return Issue(code, subject, line, column, message)

    def key_issue(self, code: str, subject: str, path: Sequence[str | int], message: str) -> Issue:
        """An issue located at the key of `path` (`potassium:` under `concepts:`)."""
        mark = self.source.key_marks.get(tuple(path))
        if mark is None:
            return self.issue(code, subject, path, message)
        return Issue(code, subject, mark[0], mark[1], message)

    def rule_path(self, rule: Rule) -> tuple[str | int, ...]:
        """Where `rule` is written; a rule's hidden `(suppressed)` twin is its own rule's."""
        written = suppressed_rule(rule.id) or rule.id
        index = self.rule_index.get(written)
        return ("rules", index) if index is not None else ()

    def rule_issue(self, code: str, rule: Rule, message: str) -> Issue:
        return self.issue(code, rule.id, self.rule_path(rule), message)

    def rank(self, level: str) -> int:
        return self.levels.rank(level) if level in self.levels else 0

    def suggesting(self) -> list[Rule]:
        """The rules that suggest a level, in the order written."""
        return [r for r in self.ruleset.rules if r.then.suggest is not None]
