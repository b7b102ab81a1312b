"""Vigil's exceptions.

The tree::

    VigilError
    ├── RulesetError        a ruleset cannot be loaded; carries every Problem found
    │   └── RulesetNotFound a ruleset reference names neither a packaged ruleset nor a file,
    │                       or a folder without ruleset.yaml
    ├── ArgumentError       an argument of the wrong type handed to the API (also a TypeError)
    ├── CodeError           text that is not a code (`parse_code`; also a ValueError)
    ├── FactError           input facts the engine cannot take (wrong type, unknown concept)
    └── EvaluationError     something went wrong while rules ran; names the rule where known
        └── EngineError     durable_rules itself failed (mapped from its own exceptions)

No exception of durable_rules, PyYAML or pydantic crosses the public API: each is caught at the
boundary and raised again as the most specific error here.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a ruleset, located in its source file; line 0 is the file (or
    folder) as a whole, printed without a position."""

    file: str
    line: int
    column: int
    message: str
    # the kind of problem (`unknown-key`, `duplicate-id`), for tools; not part of its identity
    code: str = field(default="", compare=False)

    def __str__(self) -> str:
        if self.line == 0:
            return f"{self.file}: {self.message}"
        return f"{self.file}:{self.line}:{self.column}: {self.message}"


class VigilError(Exception):
    """Base of every error Vigil raises on purpose."""


class RulesetError(VigilError):
    """A ruleset has problems; `problems` lists all of them, in file order."""

    def __init__(self, problems: list[Problem] | tuple[Problem, ...]) -> None:
        # one line each, whatever text a message quotes
        flat = [
            Problem(p.file, p.line, p.column, " ".join(p.message.split()), p.code) for p in problems
        ]
        self.problems = tuple(sorted(flat, key=lambda p: (p.file, p.line, p.column)))
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''} in ruleset"
        super().__init__("\n".join([head, *map(str, self.problems)]))


class RulesetNotFound(RulesetError):
    """A ruleset reference is neither a packaged ruleset id nor an existing path, or (`reason`
    says so) names a folder that holds no ruleset file."""

    def __init__(self, ref: str, known: tuple[str, ...] = (), *, reason: str | None = None) -> None:
        hint = f" (packaged rulesets: {', '.join(known)})" if known else ""
        problem = Problem(ref, 0, 0, reason or f"no packaged ruleset or file named {ref!r}{hint}")
        super().__init__([problem])
        self.args = (str(problem),)

    def __str__(self) -> str:
        return str(self.problems[0])


class ArgumentError(VigilError, TypeError):
    """An argument of the wrong type, named with what was expected."""


class CodeError(VigilError, ValueError):
    """Text that is not a code written `system#code`; the message says what is wrong."""


class FactError(VigilError):
    """Facts handed to the engine that it cannot use at all."""


class EvaluationError(VigilError):
    """A rule failed while running; `rule` names it when known."""

    def __init__(self, message: str, rule: str | None = None) -> None:
        self.rule = rule
        super().__init__(f"rule {rule!r}: {message}" if rule else message)


class EngineError(EvaluationError):
    """durable_rules raised or crashed a session; the original error is chained."""
