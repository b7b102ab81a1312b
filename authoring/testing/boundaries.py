"""Parameter boundaries: for each parameter a rule compares a concept's value with, whether some
scenario has a reading of that concept exactly at the parameter's value.

A threshold is where a rule changes its mind (is 2.5 mmol/L severe or not?), so a scenario sat
on it pins which side the author meant. Values are compared in the concept's canonical unit,
from the records the scenarios became (a scenario's 10 mg/dL is compared as mmol/L). Ages,
trends and counts are left out: a scenario holds no reading of them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from engine import Record, Ruleset, units
from engine.conditions import Compare, Streak, atoms
from engine.summary import canonical_value
from engine.thresholds import ThresholdError, resolve_threshold
from engine.yaml_source import load_yaml

VALUE_ATTRIBUTES = frozenset({"latest", "lowest", "highest", "previous", "median"})


@dataclass(frozen=True, slots=True)
class Boundary:
    """A parameter compared with a concept's value: its value in the concept's unit, the rules
    comparing it (the first's line locates it) and the scenarios with a reading exactly there."""

    concept: str
    parameter: str
    value: float
    unit: str
    rules: tuple[str, ...]
    line: int  # of the parameter in the ruleset file (else of the first rule comparing it)
    column: int = 1
    scenarios: tuple[str, ...] = ()

    @property
    def covered(self) -> bool:
        return bool(self.scenarios)

    @property
    def shown(self) -> str:
        """The value with its unit, as a person reads it (`2.5 mmol/L`)."""
        unit = "" if self.unit == "1" else f" {units.display(self.unit)}"
        return f"{self.value:g}{unit}"

    def to_dict(self) -> dict[str, object]:
        return {
            "concept": self.concept,
            "parameter": self.parameter,
            "value": self.value,
            "unit": self.unit,
            "rules": list(self.rules),
            "scenarios": list(self.scenarios),
        }


def thresholds(ruleset: Ruleset) -> list[Boundary]:
    """Every (concept, parameter) pair a rule (or the scope, named `scope`) compares a value
    with, in rule order."""
    found: dict[tuple[str, str], Boundary] = {}
    places = parameter_places(ruleset)
    gates = [(rule.id, rule.line, rule.when) for rule in ruleset.rules]
    if ruleset.scope is not None:
        gates.insert(0, ("scope", 1, ruleset.scope))
    for rule_id, rule_line, condition in gates:
        for atom in atoms(condition):
            if not isinstance(atom, Compare | Streak):
                continue
            concept = ruleset.concepts.get(atom.concept)
            if concept is None or concept.kind == "demographic":
                continue
            for name in _parameters(atom, ruleset):
                key = (concept.name, name)
                known = found.get(key)
                if known is not None:
                    if rule_id not in known.rules:
                        found[key] = replace(known, rules=(*known.rules, rule_id))
                    continue
                try:
                    value = resolve_threshold(_at(atom, name), ruleset)
                except ThresholdError:
                    continue  # loading reports it
                line, column = places.get(name, (rule_line, 1))
                unit = concept.unit or "1"
                found[key] = Boundary(concept.name, name, value, unit, (rule_id,), line, column)
    return list(found.values())


def boundaries(
    ruleset: Ruleset, scenarios: Iterable[tuple[str, Iterable[Record]]]
) -> list[Boundary]:
    """`thresholds` of `ruleset`, each with the scenarios (name, their records) holding a reading
    of its concept exactly at its value."""
    found = thresholds(ruleset)
    seen: dict[tuple[str, float], list[str]] = {}
    for name, records in scenarios:
        for record in records:
            concept = ruleset.concepts.get(record.concept)
            if concept is None or not record.present:
                continue
            value = canonical_value(record, concept)
            if value is None:
                continue
            key = (concept.name, _exact(value))
            if name not in seen.setdefault(key, []):
                seen[key].append(name)
    return [replace(b, scenarios=tuple(seen.get((b.concept, _exact(b.value)), ()))) for b in found]


def parameter_places(ruleset: Ruleset) -> dict[str, tuple[int, int]]:
    """Each parameter's line and column in the ruleset's file (none when it cannot be read)."""
    if ruleset.source is None:
        return {}
    try:
        text = ruleset.source.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return {}
    source, _ = load_yaml(text, str(ruleset.source))
    if source is None:
        return {}
    return {
        path[1]: mark
        for path, mark in source.key_marks.items()
        if len(path) == 2 and path[0] == "parameters" and isinstance(path[1], str)
    }


def _exact(value: float) -> float:
    """A value with conversion noise removed (0.1 mmol/L from mg/dL is 0.09999999999)."""
    return float(f"{value:.9g}")


def _parameters(atom: Compare | Streak, ruleset: Ruleset) -> list[str]:
    if isinstance(atom, Compare) and atom.attribute in VALUE_ATTRIBUTES:
        names = [atom.threshold]
    elif isinstance(atom, Streak):
        names = [atom.threshold, *([atom.start_threshold] if atom.start_threshold else [])]
    else:
        return []
    return [n for n in names if n in ruleset.parameters]


def _at(atom: Compare | Streak, name: str) -> Compare | Streak:
    """The atom compared with parameter `name` (a streak's start threshold as its threshold)."""
    return atom if atom.threshold == name else replace(atom, threshold=name)
