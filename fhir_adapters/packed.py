"""A JSON object kept as compact text, read again each time it is used.

A parsed resource takes about ten times the memory of its JSON text; a file of many patients
keeps each resource packed, and a resource is parsed only while it is looked at.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from .jsontext import RepeatedKeys, loads

__all__ = ["PackedJson"]


class PackedJson:
    """`value` as compact JSON bytes; `unpack()` gives an equal, new dict on every call.

    ASCII escapes keep every string exact, lone surrogates too, and `json.dumps` writes every
    number so that it reads back as the same value (integers of any length, NaN).
    """

    __slots__ = ("problems", "text")

    def __init__(self, value: Mapping[str, Any]) -> None:
        self.text = json.dumps(value, separators=(",", ":")).encode("ascii")
        # a resource that repeats a key stays one when unpacked (its text no longer repeats)
        self.problems = value.problems if isinstance(value, RepeatedKeys) else None

    def unpack(self) -> dict[str, Any]:
        value: dict[str, Any] = loads(self.text)
        return RepeatedKeys(value, self.problems) if self.problems else value

    def __repr__(self) -> str:
        return f"PackedJson({self.text[:60]!r}{'...' if len(self.text) > 60 else ''})"
