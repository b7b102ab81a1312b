"""The scenario files an author names, in a ruleset's folder."""

from __future__ import annotations

from pathlib import Path

from engine.errors import Problem
from fhir_adapters.scenarios import ScenarioError


def scenario_path(folder: Path, name: str | Path) -> Path:
    """A scenario a user named: a path to its file, or its name in the ruleset's `scenarios/`
    folder (`b` or `b.yaml`). Raises `ScenarioError` when neither exists."""
    path = Path(name)
    if path.is_file():
        return path
    scenarios = folder / "scenarios"
    for candidate in (scenarios / path.name, scenarios / f"{path.name}.yaml"):
        if candidate.is_file():
            return candidate
    message = f"no scenario file here, nor {path.name!r} in {scenarios}"
    raise ScenarioError([Problem(str(name), 0, 0, message)])
