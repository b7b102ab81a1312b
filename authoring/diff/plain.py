"""Loaded-model values as plain, comparable data: what two versions of a ruleset say, without
where they say it.

`plain(value)` turns dataclasses, mappings and sequences into nested tuples and dicts, leaving
out positions (`path`, `line`, `source`) so that a rule moved in the file compares equal;
`words(value)` is every name a value mentions, to find what refers to a parameter.
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
