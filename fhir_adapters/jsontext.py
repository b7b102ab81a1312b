"""JSON text to Python values, as `json.loads` reads them, at orjson's speed, repeated keys told.

Text orjson refuses (NaN) or would read wrongly (integers past 64 bits: a run of 19 digits) goes
to `json.loads`; a number longer than int() reads is a `ValueError` that says so.

A key repeated in one JSON object is never read as one of its values in silence. Inside a FHIR
resource (the outermost object with a `resourceType` other than Bundle on the way to the key)
it makes that resource a `RepeatedKeys`, which readers leave out with a warning naming the key
(`valueQuantity.value appears twice`). Anywhere else, or for `resourceType` itself, `loads`
raises `RepeatedKeyError`, naming the key and its line.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson

__all__ = ["RepeatedKeyError", "RepeatedKeys", "loads", "standard_loads", "told"]

Step = str | int


class RepeatedKeyError(ValueError):
    """A key appears more than once in a JSON object that is not inside a FHIR resource."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line


class RepeatedKeys(dict[str, Any]):
    """A FHIR resource in which some key appears more than once: it must not be read.

    Its items are what `json.loads` gives (the last value of a repeated key); `problems` says
    which keys repeat, each by its path inside the resource."""

    problems: tuple[str, ...]

    def __init__(self, data: dict[str, Any], problems: tuple[str, ...]) -> None:
        super().__init__(data)
        self.problems = problems

    def __reduce__(self) -> tuple[Any, ...]:
        # pickled (the resource cache's key) with its problems: never equal to a sound resource
        return (RepeatedKeys, (dict(self), self.problems))


def loads(text: bytes | str) -> Any:
    """The value of JSON `text`, a resource with a repeated key as a `RepeatedKeys`; raises
    `RepeatedKeyError` for a repeated key outside any resource, or `json.JSONDecodeError`,
    `ValueError` (or `RecursionError`) as `standard_loads` does."""
    raw = text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass")
    if _LONG_RUN not in raw.translate(_DIGITS_AS_ZERO):
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass
        else:
            try:
                written = orjson.dumps(value)
            except orjson.JSONEncodeError:  # nested deeper than orjson writes (254 levels)
                return _told(text, value)
            return _told(text, value) if _may_repeat(raw, written) else value
    value = standard_loads(text)
    if isinstance(text, bytes) and json.detect_encoding(text) != "utf-8":
        # UTF-16 and -32 code units may hold a colon's byte: count colons in UTF-8
        raw = text.decode(json.detect_encoding(text)).encode("utf-8", "surrogatepass")
    try:
        written = json.dumps(value).encode("utf-8", "surrogatepass")
    except RecursionError:
        return _told(text, value)
    return _told(text, value) if _may_repeat(raw, written) else value


def told(text: str, value: Any) -> tuple[Any, bool]:
    """`value`, read from `text` by a parser that keeps a repeated key's last value (json's
    `raw_decode`), with repeated keys told as `loads` tells them; and whether any was."""
    raw = text.encode("utf-8", "surrogatepass")
    try:
        written = orjson.dumps(value)
    except (orjson.JSONEncodeError, TypeError):  # past 64-bit integers, or nested too deeply
        try:
            written = json.dumps(value).encode("utf-8", "surrogatepass")
        except RecursionError:
            return _told(text, value), True
    if not _may_repeat(raw, written):
        return value, False
    return _told(text, value), True


def standard_loads(text: bytes | str) -> Any:
    """`json.loads`, but a number too long for int() is a `ValueError` saying so. Repeated
    keys are not looked for: the last one is read."""
    try:
        return json.loads(text)
    except ValueError as error:
        if type(error) is not ValueError:  # JSONDecodeError, UnicodeDecodeError: json's own
            raise
        # The only bare ValueError json.loads raises: int() refusing a number that long.
        raise ValueError(f"a number has more than {sys.get_int_max_str_digits()} digits") from None


# 2**63 has 19 digits: a longer integer does not fit orjson's 64 bits. Digits mapped to "0",
# 19 zeros in a row are 19 digits in a row (a run inside a string sends the text to json
# too, which reads it just as well); the search is C-speed, 30 µs for 60 KB.
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_LONG_RUN = b"0" * 19


def _may_repeat(raw: bytes, written: bytes) -> bool:
    """Whether the text read may repeat a key, from the text and its value written again.

    Outside strings, a colon follows each key once; inside, a colon is written as itself or
    escaped (`\\u003a`). The value written again has a colon after each key it kept and the
    colons of the strings it kept, unescaped: every key occurrence the parser dropped took at
    least its own colon away, so the counts are equal exactly when no key was repeated (a
    backslash written before `u003a` as text counts too many: scanned, never missed)."""
    escaped = len(_ESCAPED_COLON.findall(raw))
    return raw.count(b":") + escaped != written.count(b":")


_ESCAPED_COLON = re.compile(rb"\\u003[aA]")  # searched as fast as a count when there is none


def _told(text: bytes | str, value: Any) -> Any:
    """`value` with each resource holding a repeated key made a `RepeatedKeys`; raises
    `RepeatedKeyError` for the first repeated key that is in no resource."""
    if isinstance(text, bytes):
        text = text.decode(json.detect_encoding(text), "surrogatepass")
    marked: dict[int, tuple[list[Any], dict[str, Any], list[str]]] = {}
    holder: list[Any] = [value]  # the root's container, so that the root can be replaced too
    for repeat in _repeats(text):
        found = _resource_on(holder, repeat)
        if found is None:
            continue  # inside a value a repeated key above it dropped: that one is told
        if isinstance(found, str):
            raise RepeatedKeyError(found, repeat.line)
        parent, slot, resource, inside = found
        entry = marked.setdefault(id(resource), ([parent, slot], resource, []))
        entry[2].append(_problem(inside, repeat))
    for (parent, slot), resource, problems in marked.values():
        parent[slot] = RepeatedKeys(resource, tuple(problems))
    return holder[0]


@dataclass(frozen=True, slots=True)
class _Repeat:
    path: tuple[Step, ...]  # from the root to the object holding the key
    key: str
    count: int
    line: int  # of its second occurrence


def _problem(inside: tuple[Step, ...], repeat: _Repeat) -> str:
    return f"{_dotted((*inside, repeat.key))} appears {_times(repeat.count)}"


def _dotted(path: tuple[Step, ...]) -> str:
    """The path as FHIR writes it (`component[0].code`), its end alone when it is long."""
    where = ""
    for step in path:
        where += f"[{step}]" if isinstance(step, int) else (f".{step}" if where else step)
    return where if len(where) <= _SHOWN else "..." + where[-_SHOWN:]


_SHOWN = 80


def _times(count: int) -> str:
    return "twice" if count == 2 else f"{count} times"


def _is_resource(node: object) -> bool:
    if not isinstance(node, dict):
        return False
    kind = node.get("resourceType")
    return isinstance(kind, str) and kind != "Bundle"


def _resource_on(
    holder: list[Any], repeat: _Repeat
) -> tuple[Any, Step, dict[str, Any], tuple[Step, ...]] | str | None:
    """The outermost resource on the way to the repeated key (its container, its slot there,
    itself, and the path inside it), or the message for a key in no resource, or None when
    the way leads through a dropped value."""
    parent: Any = holder
    slot: Step = 0
    node: Any = holder[0]
    for depth in range(len(repeat.path) + 1):
        # the object holding a repeated resourceType is not known to be a resource
        if _is_resource(node) and (depth < len(repeat.path) or repeat.key != "resourceType"):
            return parent, slot, node, repeat.path[depth:]
        if depth == len(repeat.path):
            break
        step = repeat.path[depth]
        if isinstance(step, int):
            if not isinstance(node, list) or step >= len(node):
                return None
        elif not isinstance(node, dict) or step not in node:
            return None
        parent, slot, node = node, step, node[step]
    return (
        f"line {repeat.line}: key {_dotted((*repeat.path, repeat.key))!r} appears"
        f" {_times(repeat.count)}: which value is meant cannot be told"
    )


# In JSON that parses, every `"` outside a string opens one: matched from the start, each
# match of the string pattern is one whole string, and the other characters here are structure.
_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[{}\[\]:,]', re.DOTALL)


def _repeats(text: str) -> Iterator[_Repeat]:
    """Every key that appears more than once in one object of `text`, which is valid JSON."""
    # per open object: path, {key: offsets}, expecting a key; per open array: path, index
    stack: list[list[Any]] = []
    for match in _TOKEN.finditer(text):
        token = match.group()
        top = stack[-1] if stack else None
        first = token[0]
        if first == '"':
            if top is not None and top[0] == "{" and top[4]:
                key = json.loads(token) if "\\" in token else token[1:-1]
                top[3] = key
                top[2].setdefault(key, []).append(match.start())
        elif first == ":":
            assert top is not None
            top[4] = False
        elif first == ",":
            assert top is not None
            if top[0] == "{":
                top[4] = True
            else:
                top[3] += 1
        elif first in "{[":
            path: tuple[Step, ...] = () if top is None else (*top[1], top[3])
            if first == "{":
                stack.append(["{", path, {}, "", True])
            else:
                stack.append(["[", path, None, 0, False])
        else:
            closed = stack.pop()
            if closed[0] == "{":
                for key, offsets in closed[2].items():
                    if len(offsets) > 1:
                        line = text.count("\n", 0, offsets[1]) + 1
                        yield _Repeat(closed[1], key, len(offsets), line)
