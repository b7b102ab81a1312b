"""Escalation levels, lowest first. The highest level any suggestion reaches is the patient's."""

from __future__ import annotations

LEVELS: tuple[str, ...] = ("none", "self-care", "primary-care", "neurology", "urgent")

_RANK = {name: rank for rank, name in enumerate(LEVELS)}


def rank(level: str) -> int:
    """Position of `level` in `LEVELS`; raises KeyError for a level that does not exist."""
    return _RANK[level]


def highest(levels: list[str] | tuple[str, ...]) -> str:
    return max(levels, key=rank, default="none")
