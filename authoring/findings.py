"""What an authoring command reports about a ruleset: one located finding per line.

Every command prints findings the same way, `file:line:column: level: message`, so an editor
or CI can jump to them, and `--format json` gives the same fields.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from engine import Problem

Level = Literal["error", "warning", "note"]


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing to tell an author, located in a file; line 0 is the file (or folder) as a
    whole, printed without a position. `code` names the kind of finding (`unused-parameter`),
    for JSON readers and for answering a warning in the YAML."""

    file: str
    line: int
    column: int
    level: Level
    message: str
    code: str = ""

    def __str__(self) -> str:
        where = self.file if self.line == 0 else f"{self.file}:{self.line}:{self.column}"
        return f"{where}: {self.level}: {self.message}"

    def to_dict(self) -> dict[str, str | int]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "level": self.level,
            "code": self.code,
            "message": self.message,
        }

    @classmethod
    def from_problem(cls, problem: Problem, code: str = "invalid") -> Finding:
        """A loading problem as an error finding."""
        return cls(problem.file, problem.line, problem.column, "error", problem.message, code)


def in_file_order(findings: Iterable[Finding]) -> list[Finding]:
    """Findings sorted by file, line and column, errors before warnings at one place."""
    rank = {"error": 0, "warning": 1, "note": 2}
    return sorted(findings, key=lambda f: (f.file, f.line, f.column, rank[f.level], f.message))


def exit_code(findings: Iterable[Finding]) -> int:
    """1 when any finding is an error, else 0."""
    return 1 if any(f.level == "error" for f in findings) else 0
