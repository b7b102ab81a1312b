"""The condition language clinicians write in `when:`, parsed into a small tree.

A condition is one line of text, or a list of them (all must hold), or a mapping with one key
`all`, `any` or `not`. One line reads as one of:

    potassium < severe_potassium          the latest current value against a parameter
    potassium < 2.5 mmol/L                ... or against a number with its unit
    mrc_grade lowest <= 4                 lowest / highest / latest value, count, sites, span
    fasciculation span >= 14 days
    weakness present                      present / absent / recorded / not recorded
    fasciculation present at tongue       a finding at a named body site
    potassium below reference range       below the result's own reference range
    low-potassium                         a finding derived by another rule
    no suggestion at or above primary-care
    not <any of the above>

Parsing only reads the shape; whether names exist is checked when the ruleset is loaded.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal, cast

from .clock import Duration

Op = Literal["<", "<=", ">", ">=", "="]
Attribute = Literal["latest", "lowest", "highest", "count", "sites", "span", "previous", "median"]
Relation = Literal["within", "of", "since", "before", "after-start"]
TrendMeasure = Literal["rise", "fall", "ratio-to-lowest", "ratio-to-median", "percent-change"]
MedicationStateName = Literal["active", "on-hold", "started", "ended", "confirmed"]
PresenceState = Literal["present", "absent", "recorded"]

ATTRIBUTES: tuple[str, ...] = ("latest", "lowest", "highest", "count", "sites", "span")
OPERATORS: tuple[str, ...] = ("<", "<=", ">", ">=", "=")
Path = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Window:
    """Which of a concept's readings an atom reads, by their time (t_X: the time of concept X's
    latest current reading; as_of: the evaluation time):

        within N              [as_of - N, as_of]
        within N of X         [t_X - N, t_X + N], and not after as_of
        since N before X      [t_X - N, as_of]
        within N before X     [t_X - N, t_X)
        after X started       dated after the latest start date of X's active drug groups
                              (calendar dates in the ruleset's time zone), up to as_of

    `length` is a Duration, or the name of a duration parameter (`feature_window`).
    """

    relation: Relation
    length: Duration | str | None
    anchor: str | None
    text: str


@dataclass(frozen=True, slots=True)
class Compare:
    concept: str
    attribute: Attribute
    op: Op
    threshold: str  # a parameter name, or a number with an optional unit
    text: str
    path: Path
    window: Window | None = None


@dataclass(frozen=True, slots=True)
class Presence:
    concept: str
    state: PresenceState
    site: str | None
    text: str
    path: Path
    window: Window | None = None


@dataclass(frozen=True, slots=True)
class BelowReference:
    concept: str
    text: str
    path: Path


@dataclass(frozen=True, slots=True)
class AboveReference:
    """The latest current value is above its own reference range's high limit."""

    concept: str
    text: str
    path: Path


@dataclass(frozen=True, slots=True)
class Trend:
    """A change between results of one concept, compared with a threshold.

    For each judged reading b (the latest, or every reading in `window`, the largest result
    counting), the comparators are the readings of b's own code dated in [t_b - over, t_b - gap]:

        rise over 48 hours              b - lowest comparator          (in the concept's unit)
        fall over 48 hours              highest comparator - b
        ratio to lowest over 7 days     b / lowest comparator          (a plain number)
        ratio to median over 365 days   b / median of the comparators
        percent change after X started  (latest after X's start - latest baseline on or before
                                        it) * 100 / baseline           (a plain number)
    """

    concept: str
    measure: TrendMeasure
    over: Duration | str | None
    gap: Duration | str | None
    since: str | None  # percent-change: the medication concept whose start splits the results
    op: Op
    threshold: str
    text: str
    path: Path
    window: Window | None = None


@dataclass(frozen=True, slots=True)
class Streak:
    """`potassium last 2 results >= 6.0 mmol/L`: each of the latest `count` current results
    meets the comparison."""

    concept: str
    count: int
    op: Op
    threshold: str
    text: str
    path: Path
    window: Window | None = None


@dataclass(frozen=True, slots=True)
class MedicationState:
    """`raasi active`, `raasi on hold`, `raasi started within 90 days`, `nsaid ended within
    14 days`, `raasi confirmed`: the state of a medication concept's drug groups at as_of."""

    concept: str
    state: MedicationStateName
    text: str
    path: Path
    window: Window | None = None


@dataclass(frozen=True, slots=True)
class CodedIs:
    """`sex is female`, `ecg_rhythm is sct#426177001`: a coded answer or demographic value."""

    concept: str
    value: str
    text: str
    path: Path
    window: Window | None = None


@dataclass(frozen=True, slots=True)
class Marked:
    """`potassium marked haemolysed`: the latest current reading carries a marker the concept
    defines (a specimen condition, an interpretation code, a note pattern)."""

    concept: str
    marker: str
    text: str
    path: Path


@dataclass(frozen=True, slots=True)
class FindingRef:
    name: str
    text: str
    path: Path


@dataclass(frozen=True, slots=True)
class NoSuggestion:
    level: str | None  # None: no suggestion at all
    text: str
    path: Path


@dataclass(frozen=True, slots=True)
class Not:
    item: Condition
    path: Path


@dataclass(frozen=True, slots=True)
class All:
    items: tuple[Condition, ...]
    path: Path


@dataclass(frozen=True, slots=True)
class Any_:
    items: tuple[Condition, ...]
    path: Path


Atom = (
    Compare
    | Presence
    | BelowReference
    | AboveReference
    | Trend
    | Streak
    | MedicationState
    | CodedIs
    | Marked
    | FindingRef
    | NoSuggestion
)
Condition = Atom | Not | All | Any_


class ConditionSyntaxError(ValueError):
    def __init__(self, message: str, path: Path) -> None:
        super().__init__(message)
        self.path = path


_NAME = r"[a-z][a-z0-9_]*"
_FINDING = r"[a-z][a-z0-9-]*"
_COMPARE = re.compile(
    rf"^(?P<concept>{_NAME})(?:\s+(?P<attr>[a-z]+))?\s*(?P<op><=|>=|<|>|=)\s*(?P<rhs>\S.*)$"
)
_PRESENCE = re.compile(
    rf"^(?P<concept>{_NAME})\s+(?P<state>present|absent|recorded|not recorded)"
    rf"(?:\s+at\s+(?P<site>{_NAME}))?$"
)
_BELOW_REFERENCE = re.compile(rf"^(?P<concept>{_NAME})\s+below\s+(?:its\s+)?reference\s+range$")
_NO_SUGGESTION = re.compile(r"^no\s+suggestion(?:\s+at\s+or\s+above\s+(?P<level>[a-z][a-z-]*))?$")
_FINDING_REF = re.compile(rf"^{_FINDING}$")
_MORE_OPERATOR = re.compile(r"^[=<>!]+")  # `==`, `=>`: read as `=` followed by a threshold
_NOT = re.compile(r"^not\s+(?P<rest>.+)$")


def parse_condition(raw: object, path: Path) -> Condition:
    """Parse the YAML value of a `when:`; raise ConditionSyntaxError at the offending path."""
    if isinstance(raw, str):
        return _parse_line(raw, path)
    if isinstance(raw, list):
        if not raw:
            raise ConditionSyntaxError("an empty list of conditions", path)
        return All(tuple(parse_condition(item, (*path, i)) for i, item in enumerate(raw)), path)
    if isinstance(raw, dict):
        if len(raw) != 1:
            keys = ", ".join(map(str, raw)) or "nothing"
            raise ConditionSyntaxError(
                f"a condition block takes exactly one of all / any / not, found {keys}", path
            )
        ((key, value),) = raw.items()
        inner = (*path, key)
        if key == "not":
            return Not(parse_condition(value, inner), path)
        if key in ("all", "any"):
            if not isinstance(value, list) or not value:
                raise ConditionSyntaxError(f"{key}: needs a list of conditions", inner)
            items = tuple(parse_condition(item, (*inner, i)) for i, item in enumerate(value))
            return All(items, path) if key == "all" else Any_(items, path)
        raise ConditionSyntaxError(f"unknown condition block {key!r}; use all, any or not", path)
    raise ConditionSyntaxError(f"a condition must be text, a list or a block, not {raw!r}", path)


def _parse_line(raw: str, path: Path) -> Condition:
    text = " ".join(raw.split())
    if not text:
        raise ConditionSyntaxError("an empty condition", path)
    # `not not x` is x: counted, not recursed into, so no number of them exhausts the stack
    negations = 0
    while match := _NOT.match(text):
        text = match.group("rest")
        negations += 1
    atom = _parse_atom(text, path)
    return Not(atom, path) if negations % 2 else atom


def _parse_atom(text: str, path: Path) -> Condition:
    if match := _NO_SUGGESTION.match(text):
        return NoSuggestion(match.group("level"), text, path)
    if match := _PRESENCE.match(text):
        state = match.group("state")
        presence = Presence(
            match.group("concept"),
            cast(PresenceState, "recorded" if state == "not recorded" else state),
            match.group("site"),
            text,
            path,
        )
        return Not(presence, path) if state == "not recorded" else presence
    if match := _BELOW_REFERENCE.match(text):
        return BelowReference(match.group("concept"), text, path)
    if match := _COMPARE.match(text):
        attribute = match.group("attr") or "latest"
        if attribute not in ATTRIBUTES:
            raise ConditionSyntaxError(
                f"{attribute!r} in {text!r} is not something to compare; "
                f"use one of {', '.join(ATTRIBUTES)}",
                path,
            )
        _refuse_unknown_operator(match, text, path)
        op = match.group("op")
        return Compare(match.group("concept"), attribute, op, match.group("rhs"), text, path)  # type: ignore[arg-type]
    if _FINDING_REF.match(text):
        return FindingRef(text, text, path)
    raise ConditionSyntaxError(
        f"cannot read the condition {text!r}; write e.g. 'potassium < low_potassium', "
        "'weakness present', or the name of a derived finding",
        path,
    )


def _refuse_unknown_operator(match: re.Match[str], text: str, path: Path) -> None:
    more = _MORE_OPERATOR.match(match.group("rhs"))
    if more:
        written = text[match.start("op") : match.start("rhs") + more.end()]
        raise ConditionSyntaxError(
            f"{written!r} in {text!r} is not an operator; use one of {', '.join(OPERATORS)}",
            path,
        )


def atoms(condition: Condition) -> list[Atom]:
    """Every atom in a condition, in reading order."""
    if isinstance(condition, Not):
        return atoms(condition.item)
    if isinstance(condition, All | Any_):
        return [a for item in condition.items for a in atoms(item)]
    return [condition]


Literal_ = tuple[Atom, bool]  # an atom and whether it is negated


def alternatives(condition: Condition, negated: bool = False) -> int:
    """How many conjunctions `to_dnf` gives for `condition`, counted without building them:
    they multiply, so a short condition can stand for more than memory holds."""
    if isinstance(condition, Not):
        return alternatives(condition.item, not negated)
    if isinstance(condition, All | Any_):
        counts = [alternatives(item, negated) for item in condition.items]
        return math.prod(counts) if isinstance(condition, All) != negated else sum(counts)
    return 1


def to_dnf(condition: Condition, negated: bool = False) -> list[list[Literal_]]:
    """Disjunctive normal form: a list of conjunctions of (atom, negated) literals."""
    if isinstance(condition, Not):
        return to_dnf(condition.item, not negated)
    if isinstance(condition, All | Any_):
        conjunctive = isinstance(condition, All) != negated
        parts = [to_dnf(item, negated) for item in condition.items]
        if not conjunctive:
            return [branch for part in parts for branch in part]
        result: list[list[Literal_]] = [[]]
        for part in parts:
            result = [left + right for left in result for right in part]
        return result
    return [[(condition, negated)]]
