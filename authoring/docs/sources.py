"""What the review page reads beside the loaded ruleset: its value-set files (read as the
engine reads them, with each code's display) and its effective period.

The loader has already checked these files; a file that cannot be read here gives an entry
saying so rather than an exception.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from engine.codes import Code
from engine.model import Ruleset
from engine.valuesets import ValueSetError, read_value_set


@dataclass(frozen=True, slots=True)
class ValueSetCode:
    compact: str
    system: str
    code: str
    display: str | None


@dataclass(frozen=True, slots=True)
class ValueSetEntry:
    """A value-set file: its name, canonical URL, title and codes with their displays, or
    `problem` when it could not be read."""

    file: str
    url: str
    title: str
    codes: tuple[ValueSetCode, ...]
    problem: str | None = None

    @classmethod
    def read_all(
        cls, ruleset: Ruleset, raw: Mapping[str, Any], systems: dict[str, str] | None
    ) -> tuple[ValueSetEntry, ...]:
        """Every value set the ruleset file lists under `value-sets`, read beside it."""
        names = raw.get("value-sets") or []
        if ruleset.source is None or not isinstance(names, list):
            return ()
        folder = ruleset.source.parent
        return tuple(cls.read(folder, str(name), systems) for name in names)

    @classmethod
    def read(cls, folder: Path, name: str, systems: dict[str, str] | None) -> ValueSetEntry:
        try:
            value_set = read_value_set(folder / name)
        except ValueSetError as error:
            return cls(name, "", name, (), str(error))
        codes = tuple(
            ValueSetCode(code.compact(systems), code.system, code.code, code.display)
            for code in value_set.codes
        )
        return cls(name, value_set.url, value_set.title or name, codes)


class CodeDisplays(dict[tuple[str, str], str]):
    """Displays of codes by (system, code), as the value-set files give them."""

    @classmethod
    def of(cls, value_sets: tuple[ValueSetEntry, ...]) -> CodeDisplays:
        found = cls()
        for value_set in value_sets:
            for code in value_set.codes:
                if code.display:
                    found.setdefault((code.system, code.code), code.display)
        return found

    def display(self, code: Code) -> str | None:
        return self.get(code.key)


def read_raw(path: Path | None) -> dict[str, Any]:
    """The ruleset file as parsed YAML (empty when there is none or it is not a mapping)."""
    if path is None:
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return {}
    return data if isinstance(data, dict) else {}


def effective_period(ruleset: Ruleset) -> str | None:
    """The period the ruleset is effective in (`from 2026-01-01 until 2026-12-31`), if any."""
    start, end = ruleset.effective_from, ruleset.effective_until
    parts = [f"from {start}" if start else "", f"until {end}" if end else ""]
    return " ".join(p for p in parts if p) or None
