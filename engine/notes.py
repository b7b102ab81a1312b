"""Card notes: lines a card shows beside the rules' summaries, each with an id, in table order.

A ruleset's `notes:` lists them. A note is shown when its `when:` holds and the escalation is
one of its `show-at:` levels (default: any). Notes written one after another with one id are
variants of it: the first whose text has something to say is shown. `when:` is the condition
language (a line, a list, `all:` / `any:` / `not:`), plus lines that read which rules fired:
`calf-swelling fired`, `calf-swelling not fired` (or `not calf-swelling fired`). A condition
line runs inside durable_rules as a hidden rule that derives a hidden finding (`hidden_rules`);
a derived finding, `no suggestion`, which rules fired and the escalation are read once every
rule has run. Notes change neither the escalation nor the proposals.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Set
from dataclasses import dataclass

from .conditions import (
    Condition,
    ConditionSyntaxError,
    FindingRef,
    NoSuggestion,
    Not,
    Path,
    parse_condition,
)
from .model import Action, Rule, Ruleset
from .proposals import HIDDEN, is_hidden

_FIRED = re.compile(r"^(?P<nots>(?:not\s+)*)(?P<rule>[a-z][a-z0-9-]*)\s+(?P<not>not\s+)?fired$")


@dataclass(frozen=True, slots=True)
class Fired:
    """`<rule> fired`: the rule fired (any rule: a suggestion or a derivation)."""

    rule: str
    path: Path


@dataclass(frozen=True, slots=True)
class Suggested:
    """A rule suggested `level` or a higher one (any level, the first too, when None): the
    negation of `no suggestion [at or above <level>]`, read once every rule has run."""

    level: str | None
    condition: Condition


@dataclass(frozen=True, slots=True)
class Holds:
    """A condition line of the language: `finding` was derived (by a rule of the ruleset, or
    for any other line by the hidden rule of that name)."""

    finding: str
    condition: Condition


@dataclass(frozen=True, slots=True)
class NoteNot:
    item: NoteCondition


@dataclass(frozen=True, slots=True)
class NoteAll:
    items: tuple[NoteCondition, ...]


@dataclass(frozen=True, slots=True)
class NoteAny:
    items: tuple[NoteCondition, ...]


NoteCondition = Fired | Suggested | Holds | NoteNot | NoteAll | NoteAny
Leaf = Fired | Suggested | Holds


@dataclass(frozen=True, slots=True)
class Note:
    """A card note: shown when `when` holds (None: always) at a level of `show_at` (empty:
    any), its `text` filled in (`engine.note_text`)."""

    id: str
    text: str
    when: NoteCondition | None = None
    show_at: tuple[str, ...] = ()
    section: str = "also"  # `advice`: shown among the card's advice lines


def hidden_finding(line: str) -> str:
    """The hidden finding derived when the condition `line` holds: one for each distinct line,
    however many notes read it."""
    digest = hashlib.sha256(" ".join(line.split()).encode()).hexdigest()[:16]
    return f"note{HIDDEN}{digest}"


def _holds(condition: Condition, raw: object) -> NoteCondition:
    """A condition line: a derived finding, or `no suggestion`, is read once every rule has
    run; any other line by a hidden rule."""
    atom = condition.item if isinstance(condition, Not) else condition
    negated = atom is not condition
    if isinstance(atom, FindingRef):
        found = Holds(atom.name, atom)
        return NoteNot(found) if negated else found
    if isinstance(atom, NoSuggestion):
        suggested = Suggested(atom.level, atom)
        return suggested if negated else NoteNot(suggested)
    return Holds(hidden_finding(str(raw)), condition)


def parse_note_condition(raw: object, path: Path) -> NoteCondition:
    """Parse a note's `when:`; raise ConditionSyntaxError at the offending path."""

    def parse(raw: object, path: Path) -> NoteCondition:
        if isinstance(raw, str):
            match = _FIRED.fullmatch(" ".join(raw.split()))
            if match is not None:
                fired = Fired(match["rule"], path)
                negations = match["nots"].count("not") + (1 if match["not"] else 0)
                return NoteNot(fired) if negations % 2 else fired
            return _holds(parse_condition(raw, path), raw)
        if isinstance(raw, list):
            if not raw:
                raise ConditionSyntaxError("an empty list of conditions", path)
            return NoteAll(tuple(parse(item, (*path, i)) for i, item in enumerate(raw)))
        if isinstance(raw, dict) and len(raw) == 1:
            ((key, value),) = raw.items()
            inner = (*path, key)
            if key == "not":
                return NoteNot(parse(value, inner))
            if key in ("all", "any") and isinstance(value, list) and value:
                items = tuple(parse(item, (*inner, i)) for i, item in enumerate(value))
                return NoteAll(items) if key == "all" else NoteAny(items)
        # anything else reads as the language reads it, and fails with its message
        return _holds(parse_condition(raw, path), raw)

    return parse(raw, path)


def leaves(condition: NoteCondition | None) -> list[Leaf]:
    """Every `Fired` and `Holds` of a note's condition, in order."""
    if condition is None:
        return []
    if isinstance(condition, Fired | Suggested | Holds):
        return [condition]
    if isinstance(condition, NoteNot):
        return leaves(condition.item)
    return [leaf for item in condition.items for leaf in leaves(item)]


def hidden_rules(ruleset: Ruleset) -> tuple[Rule, ...]:
    """A derive-only rule for each distinct condition line of the ruleset's notes (but a
    derived finding, which the rule deriving it shows)."""
    rules: dict[str, Rule] = {}
    for note in ruleset.notes:
        for leaf in leaves(note.when):
            if isinstance(leaf, Holds) and is_hidden(leaf.finding):
                action = Action(derive=leaf.finding)
                rules.setdefault(
                    leaf.finding, Rule(leaf.finding, leaf.finding, leaf.condition, action)
                )
    return tuple(rules.values())


Reached = Callable[[str | None], bool]  # whether a rule suggested a level (any, for None) or above


def holds(
    condition: NoteCondition | None, fired: Set[str], derived: Set[str], reached: Reached
) -> bool:
    """Whether a note's condition holds, given the rules that fired, the findings derived and
    the levels suggested."""
    if condition is None:
        return True
    if isinstance(condition, Fired):
        return condition.rule in fired
    if isinstance(condition, Suggested):
        return reached(condition.level)
    if isinstance(condition, Holds):
        return condition.finding in derived
    if isinstance(condition, NoteNot):
        return not holds(condition.item, fired, derived, reached)
    if isinstance(condition, NoteAll):
        return all(holds(item, fired, derived, reached) for item in condition.items)
    return any(holds(item, fired, derived, reached) for item in condition.items)


def shown(
    ruleset: Ruleset,
    escalation: str,
    fired: Set[str],
    derived: Set[str],
    reached: Reached,
    lines: Callable[[str], list[str]],
) -> tuple[tuple[str, str], ...]:
    """(id, text) of every note shown, in the ruleset's order; `lines` fills a text in."""
    out: list[tuple[str, str]] = []
    for note in ruleset.notes:
        if out and out[-1][0] == note.id:
            continue  # a variant of the note shown just before
        if note.show_at and escalation not in note.show_at:
            continue
        if holds(note.when, fired, derived, reached):
            out.extend((note.id, line) for line in lines(note.text))
    return tuple(out)
