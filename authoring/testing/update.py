"""`vigil test --update`: rewrite the `expect:` block of a failing scenario to what its ruleset
gives now, leaving every other byte of the file as it was.

Only the keys that do not hold are rewritten (a passing `fired:` keeps its rules and its
comments); a key that no longer says anything (`no warnings` when there are warnings) goes.
A flow-style block (`expect: {...}`) is written again in block style. The rewritten file must
load as a scenario again, or it is left alone.
"""

from __future__ import annotations

import json
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from engine.yaml_source import load_yaml
from fhir_adapters.scenarios import ScenarioError, load_scenario

from .differences import Difference, Value
from .suite import ScenarioReport

_PLAIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.#/-]*$")


@dataclass(frozen=True, slots=True)
class Updated:
    """A scenario file rewritten, and the `expect:` keys that changed."""

    file: Path
    keys: tuple[str, ...]


class UpdateError(Exception):
    """A scenario whose `expect:` block cannot be rewritten; the message says where and why."""


def update(reports: list[ScenarioReport]) -> list[Updated]:
    """Rewrite each failing scenario's `expect:` to what its ruleset gives now. Raises
    `UpdateError` for a file that cannot be rewritten safely (before writing it)."""
    updated = []
    for report in reports:
        if report.passed or not report.differences:
            continue
        try:
            text = report.file.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as error:
            raise UpdateError(f"{report.file}: cannot be read again: {error}") from None
        new = rewrite(text, str(report.file), report.differences)
        if new == text:
            continue
        with tempfile.TemporaryDirectory() as folder:
            check = Path(folder) / report.file.name
            check.write_text(new, encoding="utf-8")
            try:
                load_scenario(check)
            except ScenarioError as error:
                problems = "; ".join(p.message for p in error.problems)
                message = f"{report.file}: the rewritten expect: would not load ({problems})"
                raise UpdateError(message) from None
        try:
            report.file.write_text(new, encoding="utf-8")
        except OSError as error:
            raise UpdateError(f"{report.file}: cannot be written: {error.strerror}") from None
        updated.append(Updated(report.file, tuple(d.key for d in report.differences)))
    return updated


def rewrite(text: str, file: str, changes: tuple[Difference, ...] | list[Difference]) -> str:
    """`text` with the keys of `changes` in its `expect:` block set to their values."""
    source, problems = load_yaml(text, file)
    if source is None or problems or not isinstance(source.data, dict):
        raise UpdateError(f"{file}: cannot be read as YAML")
    expect = source.data.get("expect")
    start = source.key_marks.get(("expect",))
    if not isinstance(expect, dict) or start is None:
        raise UpdateError(f"{file}: has no expect: block to update")
    lines = text.splitlines(keepends=True)
    first = start[0] - 1  # the `expect:` line, 0-based
    end = _block_end(lines, first)
    marks = {k: source.key_marks.get(("expect", k)) for k in expect}
    block_style = bool(expect) and all(m is not None and m[0] - 1 > first for m in marks.values())
    values = {d.key: d.value for d in changes}
    if not block_style:
        merged = {k: values[k] if k in values else _as_value(expect[k]) for k in expect}
        body = [line for k, v in merged.items() if v is not None for line in _key_lines(k, v, 2)]
        newline = _newline(lines[first])
        return "".join([*lines[:first], "expect:" + newline, *body, *lines[end:]])
    spans = _key_spans(end, {k: m[0] - 1 for k, m in marks.items() if m})
    leading = min((begin for begin, _ in spans.values()), default=end)
    out = lines[:leading]  # the `expect:` line and any comments before its first key
    for key, (begin, stop) in spans.items():
        if key not in values:
            out += lines[begin:stop]
            continue
        value = values[key]
        mark = marks[key]
        column = mark[1] - 1 if mark is not None else 2
        if value is not None:
            written = _key_lines(key, value, column)
            comment = trailing_comment(lines[begin])
            if comment and len(written) == 1:  # `escalation: none  # why` keeps its why
                written = [written[0].rstrip("\n") + comment + _newline(lines[begin])]
            out += written
        # comment lines after the key's own lines stay
        out += [line for line in lines[begin + 1 : stop] if line.lstrip().startswith("#")]
    out += lines[end:]
    return "".join(out)


def trailing_comment(line: str) -> str:
    """The comment ending a YAML line with the spaces before it (`   # why`), or ''; a `#`
    inside quotes or not after a space is text, not a comment."""
    quote = ""
    for i, char in enumerate(line):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and i > 0 and line[i - 1] in " \t":
            start = len(line[:i].rstrip(" \t"))
            return line[start:].rstrip("\r\n")
    return ""


def _block_end(lines: list[str], first: int) -> int:
    """The index after the last line of the block starting at `first`: up to the next line at
    column 0 that is not blank or a comment, less trailing blank and column-0 comment lines."""
    end = first + 1
    while end < len(lines) and (not lines[end].strip() or lines[end][0] in " \t#"):
        end += 1
    while end > first + 1 and (not lines[end - 1].strip() or lines[end - 1][0] == "#"):
        end -= 1
    return end


def _key_spans(end: int, starts: dict[str, int]) -> dict[str, tuple[int, int]]:
    """Each key's lines [begin, stop) inside the block, in file order."""
    ordered = sorted(starts.items(), key=lambda item: item[1])
    spans = {}
    for i, (key, begin) in enumerate(ordered):
        stop = ordered[i + 1][1] if i + 1 < len(ordered) else end
        spans[key] = (begin, stop)
    return spans


def _newline(line: str) -> str:
    return "\r\n" if line.endswith("\r\n") else "\n"


def _as_value(raw: object) -> Value:
    if isinstance(raw, str):
        return raw
    if isinstance(raw, list):
        return tuple(str(v) for v in raw)
    if isinstance(raw, dict):
        return {
            str(k): tuple(str(x) for x in v) if isinstance(v, list) else str(v)
            for k, v in raw.items()
        }
    if raw is True:
        return "true"
    return None if raw is None or raw is False else str(raw)


def _scalar(text: str) -> str:
    return (
        text
        if _PLAIN.match(text) and text not in ("true", "false", "null", "yes", "no")
        else json.dumps(text)
    )


def _key_lines(key: str, value: Value, column: int) -> list[str]:
    indent = " " * column
    if value is None:
        return []
    if isinstance(value, str):
        if key == "no warnings":
            return [f"{indent}{key}: {value}\n"]
        return [f"{indent}{key}: {_scalar(value)}\n"]
    if isinstance(value, tuple):
        return [f"{indent}{key}: [{', '.join(_scalar(v) for v in value)}]\n"]
    lines = [f"{indent}{key}:\n"]
    for name, item in value.items():
        if isinstance(item, str):
            lines.append(f"{indent}  {_scalar(name)}: {json.dumps(item)}\n")
        elif key == "evidence":
            lines.append(f"{indent}  {_scalar(name)}: [{', '.join(_scalar(v) for v in item)}]\n")
        else:
            lines.append(f"{indent}  {_scalar(name)}:\n")
            lines += [f"{indent}    - {json.dumps(t)}\n" for t in item]
    return lines
