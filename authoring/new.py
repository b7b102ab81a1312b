"""A new ruleset folder from the commented template kept in `authoring/templates/new`.

`new_ruleset` writes `ruleset.yaml` (levels, one concept, one parameter, one cited rule, status
draft), two scenarios (the rule fires in one, not in the other) and a README: as written it
loads, and `vigil test` passes with every rule checked both ways.
"""

from __future__ import annotations

import re
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

NAME = re.compile(r"^[a-z][a-z0-9-]*$")


class NewRulesetError(Exception):
    """The ruleset cannot be created; the message says why, in one line."""


def template() -> Traversable:
    """The template folder, as package data."""
    return files("authoring") / "templates" / "new"


def new_ruleset(name: str, where: Path) -> Path:
    """Write the ruleset `name` into the new folder `where`/`name` and return that folder.
    Refuses a name that is not an id (lowercase letters, digits, hyphens, a letter first) and
    an existing folder that is not empty; nothing is written then."""
    if not NAME.fullmatch(name):
        raise NewRulesetError(
            f"{name!r} is not a ruleset id: use lowercase letters, digits and hyphens, "
            "starting with a letter (e.g. calf-cramp)"
        )
    folder = where / name
    try:
        if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
            raise NewRulesetError(f"{folder}: already exists and is not an empty folder")
        folder.mkdir(parents=True, exist_ok=True)
        _copy(template(), folder, {"id": name, "title": title_of(name)})
    except OSError as error:
        raise NewRulesetError(
            f"{error.filename or folder}: cannot write: {error.strerror}"
        ) from None
    return folder


def title_of(name: str) -> str:
    """A first title from the id: `calf-cramp` is `Calf cramp`."""
    return name.replace("-", " ").capitalize()


def _copy(source: Traversable, target: Path, values: dict[str, str]) -> None:
    for item in sorted(source.iterdir(), key=lambda t: t.name):
        if item.name.startswith((".", "__")):
            continue
        if item.is_dir():
            (target / item.name).mkdir()
            _copy(item, target / item.name, values)
            continue
        text = item.read_text(encoding="utf-8")
        for key, value in values.items():
            text = text.replace("{{" + key + "}}", value)
        (target / item.name).write_text(text, encoding="utf-8")
