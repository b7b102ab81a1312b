"""Find a ruleset by packaged id or by path."""

from __future__ import annotations

from pathlib import Path

from .errors import ArgumentError, RulesetNotFound
from .loader import load_file
from .model import Ruleset

RULESET_FILE = "ruleset.yaml"


def _packaged_root() -> Path:
    import rulesets

    return Path(rulesets.__file__).parent


def packaged_rulesets() -> dict[str, Path]:
    """Packaged ruleset ids and their files (folder `calf_fasciculation`: `calf-fasciculation`)."""
    root = _packaged_root()
    return {
        folder.name.replace("_", "-"): folder / RULESET_FILE
        for folder in sorted(root.iterdir())
        if (folder / RULESET_FILE).is_file()
    }


def load_ruleset(ref: str | Path) -> Ruleset:
    """Load a ruleset: a packaged id (`"calf-fasciculation"`), a YAML file, or a ruleset folder.

    Every call reads the file again, so an edited file loads as a new ruleset (its content hash
    differs) without restarting the process."""
    if isinstance(ref, Ruleset):
        return ref
    if not isinstance(ref, str | Path):
        raise ArgumentError(f"a ruleset reference is an id or a path, not {type(ref).__name__}")
    packaged = packaged_rulesets()
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
