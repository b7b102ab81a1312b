"""Where a ruleset an author names lives (a packaged id, a folder or its ruleset.yaml), and the
ruleset loaded with its YAML source marks. Named rulesets are found whatever their status."""

from __future__ import annotations

from pathlib import Path

from engine.errors import Problem, RulesetError, RulesetNotFound
from engine.loader import load_file
from engine.model import Ruleset
from engine.registry import RULESET_FILE, packaged_rulesets
from engine.yaml_source import Source, load_yaml


def ruleset_file(ref: str | Path) -> Path:
    """The ruleset.yaml a packaged id, a folder or a file names; raises RulesetNotFound."""
    packaged = packaged_rulesets(every=True)
    if isinstance(ref, str) and ref in packaged:
        return packaged[ref]
    path = Path(ref)
    try:
        if path.is_dir():
            path = path / RULESET_FILE
        if path.is_file():
            return path
    except OSError as error:
        raise RulesetNotFound(str(ref), reason=f"cannot be read: {error.strerror}") from None
    if path.name == RULESET_FILE and path.parent.is_dir():
        raise RulesetNotFound(str(ref), reason=f"the folder has no {RULESET_FILE}")
    raise RulesetNotFound(str(ref), tuple(packaged))


def ruleset_folder(ref: str | Path) -> Path:
    """The folder of a ruleset reference, where its `scenarios/` live; raises RulesetNotFound."""
    return ruleset_file(ref).parent


def load_with_source(ref: str | Path) -> tuple[Ruleset, Source]:
    """The loaded ruleset and its YAML with the line of every value; raises RulesetNotFound
    or RulesetError (every loading problem) as `engine.load_ruleset` does."""
    path = ruleset_file(ref)
    ruleset = load_file(path)
    text = path.read_text(encoding="utf-8-sig")
    source, problems = load_yaml(text, str(path))
    if source is None:  # the file changed between the two reads
        raise RulesetError(problems or [Problem(str(path), 1, 1, "the file changed")])
    return ruleset, source
