"""FHIR ValueSet files a ruleset names its codes by: read into their canonical URL and codes.

A value set's codes are its `compose.include[].concept[]` (each under its include's `system`)
and its `expansion.contains[]` (nested `contains` too). An include that selects codes by
`filter` or by another `valueSet` cannot be listed without a terminology server, so it is an
error rather than an empty set.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .codes import Code

MAX_VALUE_SET_BYTES = 16 * 2**20


class ValueSetError(ValueError):
    """A value set file that cannot be read or listed; the message says what to fix."""


@dataclass(frozen=True, slots=True)
class ValueSet:
    url: str
    codes: tuple[Code, ...]
    title: str = ""  # its `title` (else `name`), for people


def read_value_set(path: Path) -> ValueSet:
    """Read one ValueSet JSON file; raise `ValueSetError` naming what is wrong with it."""
    try:
        with path.open("rb") as file:
            raw = file.read(MAX_VALUE_SET_BYTES + 1)
    except OSError as error:
        raise ValueSetError(f"cannot read the value set {path.name}: {error.strerror}") from None
    if len(raw) > MAX_VALUE_SET_BYTES:
        raise ValueSetError(f"the value set {path.name} is larger than 16 MiB")
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise ValueSetError(f"the value set {path.name} is not JSON: {error}") from None
    return value_set_from_json(data, path.name)


def value_set_from_json(data: Any, name: str) -> ValueSet:
    """The canonical URL and codes of a parsed ValueSet resource named `name` in messages."""
    if not isinstance(data, dict) or data.get("resourceType") != "ValueSet":
        raise ValueSetError(f"{name} is not a FHIR ValueSet (resourceType must be ValueSet)")
    url = data.get("url")
    if not isinstance(url, str) or not url.strip():
        raise ValueSetError(f"the value set {name} has no canonical url")
    codes = [*_composed(data.get("compose"), name), *_expanded(data.get("expansion"), name)]
    if not codes:
        raise ValueSetError(
            f"the value set {name} ({url}) lists no codes: give compose.include[].concept "
            "or expansion.contains"
        )
    title = data.get("title") or data.get("name")
    return ValueSet(url, tuple(dict.fromkeys(codes)), title if isinstance(title, str) else "")


def _composed(compose: Any, name: str) -> list[Code]:
    if compose is None:
        return []
    includes = compose.get("include") if isinstance(compose, dict) else None
    if not isinstance(includes, list):
        raise ValueSetError(f"the value set {name}: compose.include must be a list")
    codes: list[Code] = []
    for i, include in enumerate(includes):
        where = f"the value set {name}: compose.include[{i}]"
        if not isinstance(include, dict):
            raise ValueSetError(f"{where} must be an object")
        if include.get("filter") or include.get("valueSet"):
            raise ValueSetError(
                f"{where} selects codes by filter or by another value set, which Vigil cannot "
                "list; list its concepts or give an expansion"
            )
        system = include.get("system")
        concepts = include.get("concept")
        if not isinstance(system, str) or not system:
            raise ValueSetError(f"{where} has no system")
        if not isinstance(concepts, list) or not concepts:
            raise ValueSetError(
                f"{where} includes all of {system}, which Vigil cannot list; name its concepts"
            )
        for j, concept in enumerate(concepts):
            code = concept.get("code") if isinstance(concept, dict) else None
            if not isinstance(code, str) or not code.strip():
                raise ValueSetError(f"{where}.concept[{j}] has no code")
            codes.append(Code(system, code.strip(), _display(concept)))
    return codes


def _display(item: dict[str, Any]) -> str | None:
    """A value-set entry's display, when it gives one."""
    display = item.get("display")
    return display.strip() or None if isinstance(display, str) else None


def _expanded(expansion: Any, name: str) -> list[Code]:
    if expansion is None:
        return []
    contains = expansion.get("contains", []) if isinstance(expansion, dict) else None
    if not isinstance(contains, list):
        raise ValueSetError(f"the value set {name}: expansion.contains must be a list")
    codes: list[Code] = []
    stack = list(reversed(contains))  # nested `contains` without recursion
    while stack:
        item = stack.pop()
        if not isinstance(item, dict):
            raise ValueSetError(f"the value set {name}: an expansion entry is not an object")
        system, code = item.get("system"), item.get("code")
        if isinstance(system, str) and isinstance(code, str) and code.strip():
            codes.append(Code(system, code.strip(), _display(item)))
        elif not item.get("abstract") and "contains" not in item:
            raise ValueSetError(f"the value set {name}: an expansion entry has no system or code")
        nested = item.get("contains", [])
        if isinstance(nested, list):
            stack.extend(reversed(nested))
    return codes
