"""YAML read into plain Python data, remembering where every value stood in the file.

Clinicians' errors must point at a line and column; PyYAML's node tree has those marks but its
plain loader drops them. This module composes the node tree, builds the data, and keeps a map
from each value's path (keys and list indexes) to its 1-based line and column.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from .errors import Problem
from .yaml_errors import syntax_problem

Path = tuple[str | int, ...]

# A ruleset is input from people: aliases (`*name` repeating what `&name` marks) can make a small
# file expand without end, so the values built are bounded. The largest ruleset durable_rules can
# run (4,000 rules) stays far below it.
MAX_VALUES = 250_000
MERGE = "tag:yaml.org,2002:merge"  # `<<: *name` copies the keys of the mapping `&name` marks


class TooLarge(Exception):
    """The YAML expands to more than MAX_VALUES values."""


@dataclass
class Source:
    file: str
    data: Any
    marks: dict[Path, tuple[int, int]] = field(default_factory=dict)
    key_marks: dict[Path, tuple[int, int]] = field(default_factory=dict)

    def where(self, path: Sequence[str | int]) -> tuple[int, int]:
        """Line and column of `path`, or of its nearest located ancestor."""
        key = tuple(path)
        while key not in self.marks and key:
            key = key[:-1]
        return self.marks.get(key, (1, 1))

    def problem(
        self, path: Sequence[str | int], message: str, *, at_key: bool = False, code: str = ""
    ) -> Problem:
        """A problem located at the value of `path` (or at its key, for misspelt keys)."""
        key_mark = self.key_marks.get(tuple(path)) if at_key else None
        line, column = key_mark or self.where(path)
        return Problem(self.file, line, column, message, code)


class _Builder:
    def __init__(self, file: str) -> None:
        self.file = file
        self.marks: dict[Path, tuple[int, int]] = {}
        self.key_marks: dict[Path, tuple[int, int]] = {}
        self.problems: list[Problem] = []
        self.built = 0
        self._scalars = yaml.SafeLoader("")

    def _mark(self, path: Path, node: yaml.Node) -> None:
        self.marks[path] = (node.start_mark.line + 1, node.start_mark.column + 1)

    def build(self, node: yaml.Node, path: Path) -> Any:
        self.built += 1
        if self.built > MAX_VALUES:
            raise TooLarge
        if isinstance(node, yaml.MappingNode):
            # merged keys first (their marks at the mapping merged), those written here override
            merged = self._merged(node, path)
            self._mark(path, node)
            result: dict[str, Any] = {}
            for key_node, value_node in node.value:
                if key_node.tag == MERGE:
                    continue
                key = self._scalars.construct_object(key_node)
                if not isinstance(key, str):
                    key = str(key)
                if key in result:
                    line, col = key_node.start_mark.line + 1, key_node.start_mark.column + 1
                    first = self.key_marks.get((*path, key), (line, col))[0]
                    message = (
                        f"duplicate key `{key}`: first at line {first} (YAML keeps only one of "
                        "them): give each its own name, or remove one"
                    )
                    self.problems.append(Problem(self.file, line, col, message, "duplicate-key"))
                    continue
                mark = key_node.start_mark
                self.key_marks[(*path, key)] = (mark.line + 1, mark.column + 1)
                result[key] = self.build(value_node, (*path, key))
            return {**{k: v for k, v in merged.items() if k not in result}, **result}
        self._mark(path, node)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        try:
            return self._scalars.construct_object(node)
        except (ValueError, TypeError, OverflowError) as error:
            # e.g. 2001-13-01 reads as a date that does not exist; keep the text, say why
            line, col = node.start_mark.line + 1, node.start_mark.column + 1
            self.problems.append(Problem(self.file, line, col, f"{node.value!r}: {error}"))
            return node.value

    def _merged(self, node: yaml.MappingNode, path: Path) -> dict[str, Any]:
        """The keys `<<` merges into `node`: of one mapping, or of a list of them, where an
        earlier mapping's key wins."""
        merged: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag != MERGE:
                continue
            sources = (
                value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
            )
            for source in sources:
                if not isinstance(source, yaml.MappingNode):
                    line, col = source.start_mark.line + 1, source.start_mark.column + 1
                    message = "`<<` merges a mapping (`<<: *name`) or a list of them"
                    self.problems.append(Problem(self.file, line, col, message, "duplicate-key"))
                    continue
                for key, value in self.build(source, path).items():
                    merged.setdefault(key, value)
        return merged


def load_yaml(text: str, file: str) -> tuple[Source | None, list[Problem]]:
    """Parse `text`; on a syntax error return no source and the located problem."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        if node is None:
            return None, [Problem(file, 1, 1, "the file is empty")]
        builder = _Builder(file)
        data = builder.build(node, ())
    except yaml.MarkedYAMLError as error:
        return None, [syntax_problem(error, text, file)]
    except yaml.reader.ReaderError as error:
        before = text[: error.position]
        line, col = before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1
        reason = f"{error.reason} {error.character!r}"
        return None, [Problem(file, line, col, f"not valid YAML: {reason}")]
    except yaml.YAMLError as error:
        reason = (str(error) or "invalid YAML").splitlines()[0]
        return None, [Problem(file, 1, 1, f"not valid YAML: {reason}")]
    except RecursionError:
        return None, [Problem(file, 1, 1, "not valid YAML: nested too deeply, or refers to itself")]
    except TooLarge:
        message = (
            f"the file expands to more than {MAX_VALUES:,} values (YAML aliases, `*name`, repeat "
            "what `&name` marks): write the repeated parts once, or split the ruleset"
        )
        return None, [Problem(file, 1, 1, message)]
    return Source(file, data, builder.marks, builder.key_marks), builder.problems
