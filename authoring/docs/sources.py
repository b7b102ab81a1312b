"""What the review page reads beside the loaded ruleset: its value-set files with each code's
display, and its effective period, from the ruleset file as parsed YAML.

The loader has already checked these files; a file that cannot be read here gives an entry
saying so rather than an exception.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from engine.codes import Code
from engine.model import Ruleset


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
            data = json.loads((folder / name).read_text(encoding="utf-8-sig"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
            return cls(name, "", name, (), f"cannot be read: {error}")
        if not isinstance(data, dict):
            return cls(name, "", name, (), "is not a FHIR ValueSet")
        codes = tuple(
            ValueSetCode(Code(system, code).compact(systems), system, code, display)
            for system, code, display in listed_codes(data)
        )
        url = str(data.get("url") or "")
        title = str(data.get("title") or data.get("name") or name)
        return cls(name, url, title, codes)


def listed_codes(data: Mapping[str, Any]) -> Iterator[tuple[str, str, str | None]]:
    """(system, code, display) of a ValueSet's `compose.include[].concept[]` and its
    `expansion.contains[]` (nested too); entries without a system or code are skipped."""
    compose = data.get("compose")
    for include in compose.get("include", []) if isinstance(compose, dict) else []:
        if not isinstance(include, dict):
            continue
        system = include.get("system")
        for concept in include.get("concept") or []:
            if isinstance(system, str) and isinstance(concept, dict) and concept.get("code"):
                yield system, str(concept["code"]), text_or_none(concept.get("display"))
    expansion = data.get("expansion")
    stack = list(expansion.get("contains") or []) if isinstance(expansion, dict) else []
    while stack:
        item = stack.pop(0)
        if not isinstance(item, dict):
            continue
        system, code = item.get("system"), item.get("code")
        if isinstance(system, str) and code:
            yield system, str(code), text_or_none(item.get("display"))
        stack.extend(item.get("contains") or [])


def text_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


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
