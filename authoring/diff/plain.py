"""Loaded-model values as plain, comparable data and short words: what two versions of a
ruleset say, without where they say it.

`plain(value)` turns dataclasses, mappings and sequences into nested tuples and dicts, leaving
out positions (`path`, `line`, `source`) so that a rule moved in the file compares equal;
`words(value)` is every name a value mentions, to find what refers to a parameter;
`field_change` and `text_change` say a changed value in a line.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from datetime import timedelta
from enum import Enum
from pathlib import Path

from engine.conditions import All, Any_, Not

POSITIONS = frozenset({"path", "line", "source", "content_hash"})
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

Plain = object


def plain(value: object) -> Plain:
    """`value` as nested tuples, dicts and scalars, positions left out."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (
            type(value).__name__,
            tuple(
                (f.name, plain(getattr(value, f.name)))
                for f in dataclasses.fields(value)
                if f.name not in POSITIONS
            ),
        )
    if isinstance(value, Mapping):
        return tuple(sorted(((str(k), plain(v)) for k, v in value.items()), key=repr))
    if isinstance(value, frozenset | set):
        return tuple(sorted((plain(v) for v in value), key=repr))
    if isinstance(value, list | tuple):
        return tuple(plain(v) for v in value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, timedelta | Path):
        return str(value)
    return value


def words(value: object) -> frozenset[str]:
    """Every name-like word in the text a value holds (its conditions, thresholds, texts)."""
    found: set[str] = set()

    def visit(item: object) -> None:
        if isinstance(item, str):
            found.update(_NAME.findall(item))
        elif isinstance(item, tuple):
            for part in item:
                visit(part)
        elif isinstance(item, dict):
            for part in item.values():
                visit(part)

    visit(plain(value))
    return frozenset(found)


def condition_text(condition: object) -> str:
    """A condition as one line: its atoms as written, joined by and/or/not."""
    if condition is None:
        return "-"
    if isinstance(condition, All):
        return " and ".join(_grouped(item) for item in condition.items)
    if isinstance(condition, Any_):
        return " or ".join(_grouped(item) for item in condition.items)
    if isinstance(condition, Not):
        return f"not {_grouped(condition.item)}"
    text = getattr(condition, "text", None)
    return " ".join(text.split()) if isinstance(text, str) else repr(condition)


def _grouped(condition: object) -> str:
    text = condition_text(condition)
    return f"({text})" if isinstance(condition, All | Any_) and len(condition.items) > 1 else text


def short(value: object, limit: int = 80) -> str:
    """A value in a few words for a change line: text as is, None as `-`."""
    if value is None:
        return "-"
    if isinstance(value, timedelta):
        text = duration_text(value)
    elif isinstance(value, str):
        text = " ".join(value.split())
    elif isinstance(value, tuple | list | frozenset | set) and all(
        isinstance(v, str) for v in value
    ):
        text = ", ".join(sorted(value) if isinstance(value, frozenset | set) else value) or "-"
    else:
        text = str(value)
    return text if len(text) <= limit else f"{text[: limit - 1]}…"


def duration_text(value: timedelta) -> str:
    """A duration in the largest whole unit that says it exactly: `14 days`, `12 hours`."""
    seconds = int(value.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} seconds"


def field_change(name: str, before: object, after: object) -> str:
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


def fields_changed(before: object, after: object) -> str:
    """Each field of a record that changed, `name before -> after`, joined by `; `."""
    if not (dataclasses.is_dataclass(before) and dataclasses.is_dataclass(after)):
        return field_change("value", before, after)
    return "; ".join(
        field_change(f.name, getattr(before, f.name), getattr(after, f.name, None))
        for f in dataclasses.fields(before)
        if plain(getattr(before, f.name)) != plain(getattr(after, f.name, None))
    )


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
