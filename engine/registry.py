"""Find a ruleset by packaged id or by path."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from .errors import ArgumentError, RulesetNotFound
from .lifecycle import in_force, read_standing
from .loader import load_file
from .model import Ruleset

RULESET_FILE = "ruleset.yaml"


def _packaged_root() -> Path:
    import rulesets

    return Path(rulesets.__file__).parent


def packaged_rulesets(*, every: bool = False, as_of: datetime | None = None) -> dict[str, Path]:
    """Packaged ruleset ids and their files (folder `calf_fasciculation`: `calf-fasciculation`):
    those in force at `as_of` (default now: active and within their effective dates), or with
    `every`, all of them. A file whose status cannot be read is kept, so loading it says why."""
    root = _packaged_root()
    found = {
        folder.name.replace("_", "-"): folder / RULESET_FILE
        for folder in sorted(root.iterdir())
        if (folder / RULESET_FILE).is_file()
    }
    if every:
        return found
    return {
        name: path
        for name, path in found.items()
        if (standing := read_standing(path)) is None or in_force(standing, as_of)
    }


def load_ruleset(ref: str | Path) -> Ruleset:
    """Load a ruleset: a packaged id (`"calf-fasciculation"`), a YAML file, or a ruleset folder.

    A ruleset named here is loaded whatever its status and effective dates (see
    `engine.lifecycle.named_warning` for what to tell the user). Every call reads the file
    again, so an edited file loads as a new ruleset (its content hash differs) without
    restarting the process."""
    if isinstance(ref, Ruleset):
        return ref
    if not isinstance(ref, str | Path):
        raise ArgumentError(f"a ruleset reference is an id or a path, not {type(ref).__name__}")
    packaged = packaged_rulesets(every=True)
    if isinstance(ref, str) and ref in packaged:
        return load_file(packaged[ref])
    path = Path(ref)
    try:
        if path.is_dir():
            if not (path / RULESET_FILE).is_file():
                raise RulesetNotFound(str(ref), reason=f"the folder has no {RULESET_FILE}")
            path = path / RULESET_FILE
        found = path.is_file()
    except OSError as error:  # a name too long for the filesystem, a folder not searchable
        raise RulesetNotFound(str(ref), reason=f"cannot be read: {error.strerror}") from None
    if found:
        return load_file(path)
    raise RulesetNotFound(str(ref), tuple(packaged))
