"""A rule, its conditions and its thresholds in plain words, for readers who do not read YAML.

`rule_in_words(rule, ruleset)` says when a rule fires and what it does; `condition_lines`
gives the same conditions as nested lines for a renderer to lay out. Names are replaced by
what they mean: a concept by its title, a parameter by its value, a derived finding by the
title of the rule deriving it, a level by its title, an operator by words. A threshold is
given in the concept's unit and in every other unit system it converts to exactly for that
concept (`threshold_in_units`): molar mass, valence, `same-as` and `accepted-units` come from
the ruleset, never from this module, and a unit that does not convert is never shown.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from engine import units
from engine.conditions import (
    AboveReference,
    All,
    Any_,
    Atom,
    Compare,
    Condition,
    FindingRef,
    NoSuggestion,
    Not,
    Streak,
    Trend,
)
from engine.model import Concept, Rule, Ruleset
from engine.notes import Fired, Holds, NoteAll, NoteCondition, NoteNot, Suggested
from engine.summary import convert_for

# Units laboratories report concentrations and activities in, one per unit system, in order of
# preference: each is offered beside a concept's own unit when it is of another dimension and
# converts exactly for that concept. Units only, nothing about any analyte.
LAB_UNITS: tuple[str, ...] = (
    "mmol/L",
    "umol/L",
    "meq/L",
    "mg/dL",
    "g/L",
    "mg/L",
    "U/L",
    "[IU]/L",
)
# how a UCUM code is written for a reader (UCUM's own spelling otherwise)
UNIT_SPELLINGS: dict[str, str] = {"meq/L": "mEq/L", "[IU]/L": "IU/L", "mm[Hg]": "mmHg"}

OPERATOR_WORDS: dict[str, str] = {
    "<": "is below",
    "<=": "is at or below",
    ">": "is above",
    ">=": "is at or above",
    "=": "is",
}
_TOKEN = re.compile(r"<=|>=|<|>|=|[A-Za-z_][A-Za-z0-9_-]*")
_SIGNIFICANT = 3
_NUMBER = re.compile(r"\s*[-+]?(\d+(\.\d*)?|\.\d+)")
_POWER_OF_TEN = re.compile(r"10\*(\d+)")


@dataclass(frozen=True, slots=True)
class Line:
    """One line of a condition in words, `depth` levels below the rule."""

    depth: int
    text: str


def unit_text(unit: str) -> str:
    """A UCUM code as a reader writes it (`meq/L` is `mEq/L`, `10*9/L` is `10^9/L`,
    annotations without braces)."""
    return units.display(_POWER_OF_TEN.sub(r"10^\1", UNIT_SPELLINGS.get(unit, unit)))


def number_text(value: float) -> str:
    """A number with at most three significant digits, `≈` before it when that rounded it."""
    shown = f"{value:.{_SIGNIFICANT}g}"
    if "e" in shown:  # very large or small: keep every digit rather than an exponent
        shown = f"{value:f}".rstrip("0").rstrip(".")
    exact = abs(float(shown) - value) <= 1e-9 * max(1.0, abs(value))
    return shown if exact else f"≈{shown}"


def unit_systems(concept: Concept) -> list[str]:
    """The units a laboratory may report `concept` in that convert exactly to its own unit:
    its unit first, then one unit of each other dimension (only `accepted-units` when it
    lists them), then the units `same-as` reads as one of these. Empty without a unit."""
    if concept.unit is None:
        return []
    try:
        own = units.lookup(concept.unit)
    except units.UnitError:  # never for a loaded ruleset: its units were checked
        return [concept.unit]
    found = [own.code]
    dimensions = {own.dimension}
    candidates = concept.accepted_units or LAB_UNITS
    for candidate in (*candidates, *(pair[0] for pair in concept.same_as)):
        try:
            known = units.lookup(candidate)
        except units.UnitError:
            continue
        if known.code in found or (known.dimension in dimensions and candidate in LAB_UNITS):
            continue
        if converts(1.0, known.code, own.code, concept):
            found.append(known.code)
            dimensions.add(known.dimension)
    return found


def converts(value: float, from_unit: str, to_unit: str, concept: Concept) -> bool:
    """Whether `value` in `from_unit` converts exactly to `to_unit` for `concept`."""
    return convert_for(value, from_unit, to_unit, concept) is not None


def threshold_in_units(value: float, unit: str, concept: Concept | None) -> list[str]:
    """A threshold in every unit system of `concept` it converts to exactly, the concept's
    unit first: `["5.5 mmol/L", "5.5 mEq/L", "≈21.5 mg/dL"]`. A threshold that does not
    convert to the concept's unit (a duration, a plain number) is given as it stands."""
    as_written = f"{number_text(value)} {unit_text(unit)}" if unit != "1" else number_text(value)
    if concept is None or concept.unit is None:
        return [as_written]
    shown: list[str] = []
    for system in unit_systems(concept):
        converted = convert_for(value, unit, system, concept)
        if converted is not None:
            shown.append(f"{number_text(converted)} {unit_text(system)}")
    return shown or [as_written]


def quantity_in_words(text: str, concept: Concept | None) -> str:
    """A threshold as written (`2.5 mmol/L`) in words with its other unit systems:
    `2.5 mmol/L (2.5 mEq/L; ≈9.77 mg/dL)`; text that is no quantity stands as it is."""
    try:
        value, unit = units.parse_quantity(text)
    except units.UnitError:
        return text
    forms = threshold_in_units(value, unit, concept)
    own = concept is not None and concept.unit is not None and same_unit(unit, concept.unit)
    if own or len(forms) == 1:
        forms[0] = written_text(value, unit, text)  # as written: `6.0 mmol/L`, not `6 mmol/L`
    return joined(forms)


def joined(forms: list[str]) -> str:
    """The first form, the others in brackets."""
    return forms[0] if len(forms) == 1 else f"{forms[0]} ({'; '.join(forms[1:])})"


def derivers(ruleset: Ruleset) -> dict[str, Rule]:
    """The first rule deriving each finding."""
    found: dict[str, Rule] = {}
    for rule in ruleset.rules:
        if rule.then.derive is not None:
            found.setdefault(rule.then.derive, rule)
    return found


def atom_concept(atom: Atom, ruleset: Ruleset) -> Concept | None:
    """The concept an atom reads, whose unit systems its thresholds are given in."""
    name = getattr(atom, "concept", None)
    return ruleset.concepts.get(name) if isinstance(name, str) else None


def atom_in_words(atom: Atom, ruleset: Ruleset) -> str:
    """One condition line in words: names replaced by their meaning, thresholds in units."""
    concept = atom_concept(atom, ruleset)
    if isinstance(atom, FindingRef):
        return finding_in_words(atom.name, ruleset)
    text = atom.text
    literal = literal_threshold(atom, ruleset)
    parts: list[str] = []
    if literal is not None and literal in text:
        head, _, tail = text.rpartition(literal)
        parts = [words(head, ruleset, concept), quantity_in_words(literal, concept)]
        parts.append(words(tail, ruleset, concept))
        return " ".join(p for p in (part.strip() for part in parts) if p)
    return words(text, ruleset, concept, levels=isinstance(atom, NoSuggestion))


def literal_threshold(atom: Atom, ruleset: Ruleset) -> str | None:
    """A threshold written as a number with a unit rather than a parameter name, if any."""
    if isinstance(atom, Compare | Streak | Trend):
        threshold: str | None = atom.threshold
    elif isinstance(atom, AboveReference):
        threshold = atom.fallback
    else:
        return None
    if threshold is None or threshold in ruleset.parameters:
        return None
    return threshold


def finding_in_words(name: str, ruleset: Ruleset) -> str:
    """A derived finding: its name and the title of the rule deriving it."""
    rule = derivers(ruleset).get(name)
    if rule is None or not rule.title or rule.title in (name, rule.id):
        return f"“{name}”"
    return f"“{name}” ({rule.title})"


def words(text: str, ruleset: Ruleset, concept: Concept | None, *, levels: bool = False) -> str:
    """`text` with each name replaced by what it means: concepts by their titles, parameters
    by their values (in `concept`'s unit systems), and with `levels` level ids by their
    titles (only there: a level may be named like a word of the language, `one-sided`)."""
    titles = {level.id: level.title for level in ruleset.levels} if levels else {}

    def replace(match: re.Match[str]) -> str:
        token = match.group(0)
        if token in OPERATOR_WORDS:
            return OPERATOR_WORDS[token]
        if token in ruleset.concepts:
            return ruleset.concepts[token].label
        if token in ruleset.parameters:
            return parameter_in_words(token, ruleset, concept)
        if token in titles:
            return f"“{titles[token]}”"
        return token

    return _TOKEN.sub(replace, text)


def parameter_in_words(name: str, ruleset: Ruleset, concept: Concept | None) -> str:
    """A parameter's value, in `concept`'s unit systems when it converts to them."""
    parameter = ruleset.parameters[name]
    if parameter.code is not None:
        return parameter.code.compact(dict(ruleset.code_systems) or None)
    written = written_text(parameter.value, parameter.unit, parameter.text)
    forms = threshold_in_units(parameter.value, parameter.unit, concept)
    if len(forms) == 1:
        return written
    if concept is not None and concept.unit is not None and same_unit(parameter.unit, concept.unit):
        forms[0] = written  # as the author wrote it: `6.0 mmol/L`, not `6 mmol/L`
    return joined(forms)


def written_text(value: float, unit: str, text: str) -> str:
    """A quantity as its author wrote it (`14 days`, `6.0 mmol/L`), a UCUM unit spelled for a
    reader (`90 mmHg`, `500 10^9/L`)."""
    match = _NUMBER.match(text)
    if match is None:
        return f"{number_text(value)} {unit_text(unit)}" if unit != "1" else number_text(value)
    written = text[match.end() :].strip()
    if not written:
        return match.group(0).strip()
    try:
        code = units.lookup(written).code
    except units.UnitError:
        code = written
    spelled = unit_text(code) if code in UNIT_SPELLINGS else unit_text(written)
    return f"{match.group(0).strip()} {spelled}"


def same_unit(one: str, other: str) -> bool:
    """Whether two unit texts are one UCUM unit."""
    try:
        return units.lookup(one).code == units.lookup(other).code
    except units.UnitError:
        return False


def condition_lines(condition: Condition, ruleset: Ruleset, depth: int = 0) -> list[Line]:
    """The condition as nested lines: `all of:` and `any of:` above their items, `not` before
    what it negates."""
    if isinstance(condition, All | Any_):
        if isinstance(condition, All) and len(condition.items) == 1:
            return condition_lines(condition.items[0], ruleset, depth)
        head = "all of:" if isinstance(condition, All) else "any of:"
        lines = [Line(depth, head)]
        for item in condition.items:
            lines.extend(condition_lines(item, ruleset, depth + 1))
        return lines
    if isinstance(condition, Not):
        inner = condition_lines(condition.item, ruleset, depth)
        first = inner[0]
        return [Line(depth, f"not {first.text}"), *inner[1:]]
    return [Line(depth, atom_in_words(condition, ruleset))]


def condition_in_words(condition: Condition, ruleset: Ruleset) -> str:
    """The condition on one line: `a and b`, `any of (a; b)`, `not a`."""
    if isinstance(condition, All):
        return " and ".join(condition_in_words(item, ruleset) for item in condition.items)
    if isinstance(condition, Any_):
        inner = "; ".join(condition_in_words(item, ruleset) for item in condition.items)
        return f"any of ({inner})"
    if isinstance(condition, Not):
        return f"not {condition_in_words(condition.item, ruleset)}"
    return atom_in_words(condition, ruleset)


def note_condition_in_words(condition: NoteCondition, ruleset: Ruleset) -> str:
    """When a card note is shown, on one line: `rule X fired and <condition>`."""
    if isinstance(condition, Fired):
        rule = next((r for r in ruleset.rules if r.id == condition.rule), None)
        title = f" ({rule.title})" if rule is not None and rule.title != rule.id else ""
        return f"rule {condition.rule}{title} fired"
    if isinstance(condition, Suggested):
        if condition.level is None:
            return "a rule suggested a level"
        titles = {level.id: level.title for level in ruleset.levels}
        return f"a rule suggested “{titles.get(condition.level, condition.level)}” or higher"
    if isinstance(condition, Holds):
        return condition_in_words(condition.condition, ruleset)
    if isinstance(condition, NoteNot):
        return f"not {note_condition_in_words(condition.item, ruleset)}"
    inner = [note_condition_in_words(item, ruleset) for item in condition.items]
    return " and ".join(inner) if isinstance(condition, NoteAll) else f"any of ({'; '.join(inner)})"


def then_in_words(rule: Rule, ruleset: Ruleset) -> str:
    """What the rule does: the finding it derives or the level it suggests."""
    action = rule.then
    done: list[str] = []
    if action.derive is not None:
        done.append(f"derives “{action.derive}”")
    if action.suggest is not None:
        titles = {level.id: level.title for level in ruleset.levels}
        title = titles.get(action.suggest, action.suggest)
        done.append(f"suggests the level “{title}” ({action.suggest})")
    return " and ".join(done) or "does nothing"


def rule_in_words(rule: Rule, ruleset: Ruleset) -> str:
    """The rule in plain words: its title, when it fires (nested lines), what it does."""
    lines = [f"{rule.title} ({rule.id})", "When:"]
    lines.extend(f"{'  ' * (line.depth + 1)}- {line.text}" for line in top_lines(rule, ruleset))
    lines.append(f"Then it {then_in_words(rule, ruleset)}.")
    return "\n".join(lines)


def top_lines(rule: Rule, ruleset: Ruleset) -> list[Line]:
    """The rule's conditions as lines, the outer `all of` left out (every line must hold)."""
    when = rule.when
    if isinstance(when, All):
        return [line for item in when.items for line in condition_lines(item, ruleset)]
    return condition_lines(when, ruleset)


def placeholders_in_words(text: str, ruleset: Ruleset) -> str:
    """A card text with each `{parameter}` placeholder replaced by the parameter's value;
    other placeholders (the patient's values) are left as they are."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in ruleset.parameters:
            parameter = ruleset.parameters[name]
            return written_text(parameter.value, parameter.unit, parameter.text)
        return match.group(0)

    return re.sub(r"\{([a-z][a-z0-9_]*)\}", replace, " ".join(text.split()))


def lines_text(lines: Iterable[Line]) -> str:
    """The lines as indented text (for plain-text output)."""
    return "\n".join(f"{'  ' * line.depth}- {line.text}" for line in lines)
