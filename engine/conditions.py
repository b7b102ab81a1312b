"""The condition language clinicians write in `when:`, parsed into a small tree.

A condition is one line of text, or a list of them (all must hold), or a mapping with one key
`all`, `any` or `not`. One line reads as one of:

    potassium < severe_potassium          the latest current value against a parameter
    potassium < 2.5 mmol/L                ... or against a number with its unit
    mrc_grade lowest <= 4                 lowest / highest / latest value, count, sites, span
    fasciculation span >= 14 days
    weakness present                      present / absent / recorded / not recorded
    weakness recorded absent              a record says absent, even if another says present
    fasciculation present at tongue       a finding at a named body site
    fasciculation regions >= 2            body regions spanned (engine.regions)
    weakness focal                        focal / one-sided / on both sides / side not recorded
    weakness examined, weakness reported absent
                                          records of one of the concept's evidence classes
    atrophy present all dated on or before neurology_review
                                          records there, every one dated on or before a date
    pregnancy present undated             records with no date
    potassium below reference range       below the result's own reference range
    ck above 5 times reference range else 190 U/L
                                          above a multiple of it, a fallback limit without one
    egfr < 60 mL/min/{1.73_m2} for 90 days
                                          the latest and an earlier value 90 days before it
    egfr < 60 mL/min/{1.73_m2} for 90 days with no raasi started after it
                                          ... and no medicine started after that earlier value
    potassium rise over 1 to 12 hours > 0.5 mmol/L
                                          trends: rise [from median | previous], fall, ratio
    creatinine ratio to lowest over 7 days else median over 7 to 365 days >= 1.5
                                          ... with a fallback where the first has no baseline
    potassium previous marked haemolysed  a marker on the latest or the previous result
    potassium low, potassium >= severe_potassium and low
                                          one current result beyond the concept's limit
    potassium including preliminary < severe_potassium
                                          ... counting a newer preliminary result too
    calcium or ionised_calcium not rechecked within recheck_window
                                          an old result beyond its limits, none current
    low-potassium                         a finding derived by another rule
    suppressed: [rule-a, rule-b]          (a block) one of these rules was suppressed
    no suggestion at or above primary-care
    not <any of the above>

Most lines may close with a window (see `Window`): `within 7 days`, `since 24 hours before
potassium`, `within 90 to 730 days before potassium`, `within 24 hours after potassium`.

Parsing only reads the shape; whether names exist is checked when the ruleset is loaded.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal, cast

from .clock import Duration, DurationUnit

Op = Literal["<", "<=", ">", ">=", "="]
Attribute = Literal[
    "latest", "lowest", "highest", "count", "sites", "span", "previous", "median", "regions"
]
Relation = Literal["within", "of", "since", "before", "after", "after-start", "undated"]
TrendMeasure = Literal[
    "rise",
    "fall",
    "rise-from-median",
    "rise-from-previous",
    "ratio-to-lowest",
    "ratio-to-median",
    "percent-change",
]
ReadingChoice = Literal["latest", "previous"]
MedicationStateName = Literal["active", "on-hold", "started", "ended", "confirmed"]
# recorded-absent: a record says absent, whatever others say (`absent`: and none says present)
PresenceState = Literal["present", "absent", "recorded", "recorded-absent"]
RegionStateName = Literal["focal", "one-sided", "both-sides", "side-not-recorded"]

ATTRIBUTES: tuple[str, ...] = ("latest", "lowest", "highest", "count", "sites", "span")
# every attribute a comparison may name: `previous` (the latest current result before the
# latest), `median` (of the results in the atom's window) and `regions` (how many body
# regions the present records span: engine.regions) beside the original six
COMPARED_ATTRIBUTES: tuple[str, ...] = (*ATTRIBUTES, "previous", "median", "regions")
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
        within M to N before X
                              [t_X - N, t_X - M]
        within N after X      (t_X, t_X + N], and not after as_of; a reading with a period
                              counts when it begins in it
        after X started       dated after the latest start date of X's active drug groups
                              (calendar dates in the ruleset's time zone), up to as_of
        undated               with no date at all (a Condition without onset)

    `length` is a Duration, or the name of a duration parameter (`feature_window`); `near`
    (M above) the same, or None.
    """

    relation: Relation
    length: Duration | str | None
    anchor: str | None
    text: str
    near: Duration | str | None = None


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
    """`weakness present`: `evidence` limits it to records of one of the concept's evidence
    classes (`weakness examined`); `until` names a date (or concept) on or before which every
    such record is dated (undated ones count as before it), and which must exist."""

    concept: str
    state: PresenceState
    site: str | None
    text: str
    path: Path
    window: Window | None = None
    evidence: str | None = None
    until: str | None = None


@dataclass(frozen=True, slots=True)
class RegionState:
    """Where a finding's present records lie (engine.regions): `weakness focal` (all in one
    region of a focal class), `leg_swelling one-sided` (exactly one of left and right seen),
    `... on both sides`, `... side not recorded` (records, none with a known side)."""

    concept: str
    state: RegionStateName
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
    """A value above its own reference range's high limit: the latest current value, or with a
    window any value in it. `potassium above reference range`; `creatine_kinase above 5 times
    reference range else ck_normal_high since 7 days before potassium`: above `multiple` (a
    plain number or parameter) times the high limit, `fallback` (a threshold in the concept's
    unit) standing in for the limit of a result without a usable one."""

    concept: str
    text: str
    path: Path
    multiple: str | None = None
    fallback: str | None = None
    window: Window | None = None


@dataclass(frozen=True, slots=True)
class Trend:
    """A change between results of one concept, compared with a threshold.

    For each judged reading b (the latest, or every reading in `window`, the largest result
    counting), the comparators are the readings of b's own code dated in [t_b - over, t_b - gap]:

        rise over 48 hours              b - lowest comparator          (in the concept's unit)
        rise from median over 365 days  b - median of the comparators
        rise from previous              b - the latest comparator
        fall over 48 hours              highest comparator - b
        ratio to lowest over 7 days     b / lowest comparator          (a plain number)
        ratio to median over 365 days   b / median of the comparators
        percent change after X started  (latest after X's start - latest baseline on or before
        [with baseline within N]        it, no older than N before it) * 100 / baseline; of
                                        results at one time, the pair most in the comparison's
                                        favour counts                  (a plain number)

    `over` None: every earlier reading. `... else median over 7 to 365 days`: for a judged
    reading with no comparator, the `else_` measure over its own range is used instead.
    `... across codes`: the comparators are the concept's readings of any of its codes (values
    already in the concept's unit), not only of b's own code.
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
    else_measure: TrendMeasure | None = None
    else_over: Duration | str | None = None
    else_gap: Duration | str | None = None
    across_codes: bool = False


@dataclass(frozen=True, slots=True)
class Streak:
    """`potassium last 2 results >= 6.0 mmol/L`: each of the latest `count` current results
    meets the comparison.

    `egfr < 60 mL/min/{1.73_m2} for 90 days` (`lasting` set, `count` 1): the latest current
    result meets it, and so does an earlier result dated at least `lasting` before it, with no
    result that fails it dated strictly between the two. `k < 6.0 mmol/L for 90 to 730 days
    since a result >= 5.5 mmol/L`: that earlier result is dated at most `lasting_most` before
    the latest and also meets the `start_` comparison. `... with no raasi or nsaid started after
    it`: that earlier result is also dated no earlier than the latest start of every active drug
    group of the medication concepts in `unstarted` (calendar dates)."""

    concept: str
    count: int
    op: Op
    threshold: str
    text: str
    path: Path
    window: Window | None = None
    lasting: Duration | str | None = None
    lasting_most: Duration | str | None = None
    start_op: Op | None = None
    start_threshold: str | None = None
    unstarted: tuple[str, ...] = ()


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
    defines (a specimen condition, an interpretation code, a note pattern);
    `potassium previous marked haemolysed`: the current reading before it does."""

    concept: str
    marker: str
    text: str
    path: Path
    reading: ReadingChoice = "latest"


@dataclass(frozen=True, slots=True)
class Limit:
    """A result's limit, `< low_potassium or below reference range`: the value against a
    threshold, or beyond its own reference range, or either (`op` None: the range alone)."""

    op: Op | None
    threshold: str | None
    reference: Literal["below", "above"] | None
    text: str


LimitName = Literal["low", "high"]


@dataclass(frozen=True, slots=True)
class ResultTest:
    """`potassium low`, `potassium >= severe_potassium and low`, `potassium < 3.5 mmol/L or
    below reference range`, `potassium including preliminary < severe_potassium`: one current
    result (of results tied at the latest time, any) meets every clause; a clause is a `Limit`
    or the concept's own `low` or `high`. `preliminary`: a newer preliminary result counts."""

    concept: str
    clauses: tuple[Limit | LimitName, ...]
    text: str
    path: Path
    preliminary: bool = False


@dataclass(frozen=True, slots=True)
class NotRechecked:
    """`calcium or ionised_calcium not rechecked within recheck_window`: no current result of
    the group (`group`, in order), and its latest result dated in `window` is `concept`'s (at
    one time, the first of the group) and beyond that concept's `low` or `high` limit."""

    concept: str
    group: tuple[str, ...]
    window: Window
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
    | RegionState
    | BelowReference
    | AboveReference
    | Trend
    | Streak
    | MedicationState
    | CodedIs
    | Marked
    | ResultTest
    | NotRechecked
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
_COMPARE = re.compile(rf"^(?P<left>{_NAME}(?:\s+[^<>=]*?)?)\s*(?P<op><=|>=|<|>|=)\s*(?P<rhs>\S.*)$")
_PRESENCE = re.compile(
    rf"^(?P<state>present|absent|recorded absent|recorded|not recorded)"
    rf"(?:\s+at\s+(?P<site>{_NAME}))?$"
)
_REGION_STATE = re.compile(r"^(?P<state>focal|one-sided|on both sides|side not recorded)$")
_REFERENCE = re.compile(
    r"^(?P<side>below|above)\s+(?:(?P<multiple>\S+)\s+times\s+)?(?:its\s+)?reference\s+range"
    r"(?:\s+else\s+(?P<fallback>\S.*))?$"
)
_EVIDENCE = re.compile(
    rf"^(?P<evidence>[a-z][a-z0-9_-]*)(?:\s+(?P<state>present|absent|recorded|not recorded))?"
    rf"(?:\s+at\s+(?P<site>{_NAME}))?$"
)
_UNTIL = re.compile(rf"\s+all\s+dated\s+on\s+or\s+before\s+(?P<until>{_NAME})$")
# words after a concept that are never an evidence class
_STATE_WORDS = frozenset({"present", "absent", "recorded", "not", "is", "marked", "previous"})
_MARKED = re.compile(rf"^(?:(?P<previous>previous)\s+)?marked\s+(?P<marker>{_NAME})$")
_CODED_IS = re.compile(r"^is\s+(?P<value>\S+)$")
_MEDICATION = re.compile(r"^(?P<state>active|on hold|confirmed|started|ended)$")
_NO_SUGGESTION = re.compile(r"^no\s+suggestion(?:\s+at\s+or\s+above\s+(?P<level>[a-z][a-z-]*))?$")
_FINDING_REF = re.compile(rf"^{_FINDING}$")
_MORE_OPERATOR = re.compile(r"^[=<>!]+")  # `==`, `=>`: read as `=` followed by a threshold
_NOT = re.compile(r"^not\s+(?P<rest>.+)$")
_SUBJECT = re.compile(rf"^(?P<concept>{_NAME})\s+(?P<rest>\S.*)$")
# a window closes an atom: `within 24 hours`, `within 2 days of X`, `since N before X`,
# `within N before X`, `after X started`; N is a number with a unit, or a parameter name
_LENGTH = r"[^\s]+(?:\s+(?!of\b|before\b|after\b|to\b)[a-z]+)?"
_WINDOW = re.compile(
    rf"(?:^|\s)(?P<window>(?P<word>within|since)\s+(?P<length>{_LENGTH})"
    rf"(?:\s+to\s+(?P<far>{_LENGTH}))?"
    rf"(?:\s+(?P<rel>of|before|after)\s+(?P<anchor>\S+))?"
    rf"|after\s+(?P<started>{_NAME})\s+started|(?P<undated>undated))$"
)
_TREND = re.compile(
    r"^(?:(?P<move>rise|fall)(?:\s+from\s+(?P<from>lowest|highest|median|previous))?"
    r"|ratio\s+to\s+(?P<base>lowest|median)"
    r"|(?P<bare>lowest|highest|median|previous))"
    r"(?:\s+over\s+(?P<span>\S.*))?$"
)
_ACROSS = re.compile(r"\s+across\s+codes$")
_PERCENT = re.compile(
    rf"^percent\s+change\s+after\s+(?P<since>{_NAME})\s+started"
    r"(?:\s+with\s+baseline\s+within\s+(?P<over>\S.*))?$"
)
_STREAK = re.compile(r"^last\s+(?P<count>\d+)\s+results?$")
_LASTING = re.compile(
    r"^(?P<threshold>\S.*?)\s+for\s+(?:at\s+least\s+)?(?P<length>\S.*?)"
    r"(?:\s+since\s+a\s+result\s+(?P<start_op><=|>=|<|>|=)\s*(?P<start>\S.*))?$"
)
# closes a held comparison: `with no raasi, nsaid or heparin started after it`
_UNSTARTED = re.compile(r"\s+with\s+no\s+(?P<names>\S.*?)\s+started\s+after\s+it$")
_PRELIMINARY = re.compile(r"^including\s+preliminary$")
_AND_LIMIT = re.compile(r"^(?P<threshold>\S.*?)\s+and\s+(?P<name>low|high)$")
_OR_RANGE = re.compile(
    r"^(?P<threshold>\S.*?)\s+or\s+(?P<side>below|above)\s+(?:its\s+)?reference\s+range$"
)
_LIMIT = re.compile(
    r"^(?:(?P<op><=|>=|<|>)\s*(?P<threshold>[^\s<>=].*?))?"
    r"(?:(?:^|\s+or\s+)(?P<side>below|above)\s+(?:its\s+)?reference\s+range)?$"
)
_RESULT_STATE = re.compile(r"^(?:(?P<preliminary>including\s+preliminary)\s+)?(?P<name>low|high)$")
_NOT_RECHECKED = re.compile(
    rf"^(?:or\s+(?P<others>{_NAME}(?:\s+or\s+{_NAME})*)\s+)?not\s+rechecked$"
)
_NUMBER = re.compile(r"^\d+(?:\.\d+)?$")
_PARAMETER = re.compile(rf"^{_NAME}$")

DURATION_UNITS: dict[str, DurationUnit] = {
    "hour": "hours",
    "hours": "hours",
    "day": "days",
    "days": "days",
    "week": "weeks",
    "weeks": "weeks",
    "month": "months",
    "months": "months",
    "year": "years",
    "years": "years",
}
_DURATION = re.compile(r"^(?P<amount>\d+(?:\.\d+)?)(?:\s*(?P<unit>[a-z]+))?$")


class DurationSyntaxError(ValueError):
    """Text that is not a duration such as `24 hours` or `15 months`."""


def parse_duration(text: str) -> Duration:
    """Read `24 hours`, `90 days`, `2 weeks`, `15 months`, `1 year` (singular or plural); raise
    `DurationSyntaxError` in words a clinician can act on."""
    written = " ".join(text.split())
    match = _DURATION.match(written)
    if match is None:
        raise DurationSyntaxError(
            f"{written!r} is not a duration; write e.g. 24 hours, 90 days or 15 months"
        )
    amount, unit = match.group("amount"), match.group("unit")
    if unit is None:
        raise DurationSyntaxError(
            f"{written!r} has no unit; write e.g. {amount} hours or {amount} days "
            "(hours, days, weeks, months, years)"
        )
    if unit not in DURATION_UNITS:
        raise DurationSyntaxError(
            f"{unit!r} in {written!r} is not a unit of time; use hours, days, weeks, months "
            "or years"
        )
    if "." in amount or int(amount) <= 0:
        raise DurationSyntaxError(
            f"{written!r}: a duration is a whole number of {DURATION_UNITS[unit]}, more than 0"
        )
    return Duration(int(amount), DURATION_UNITS[unit])


def _length(text: str, context: str, path: Path) -> Duration | str:
    """A window's or a trend's length: a duration, or the name of a duration parameter."""
    if _PARAMETER.match(text):
        return text
    try:
        return parse_duration(text)
    except DurationSyntaxError as error:
        raise ConditionSyntaxError(f"in {context!r}: {error}", path) from None


def _split_window(text: str, context: str, path: Path) -> tuple[str, Window | None]:
    """`text` without its closing window, and the window."""
    match = _WINDOW.search(text)
    if match is None:
        return text, None
    rest = text[: match.start("window")].strip()
    window_text = match.group("window")
    if _WINDOW.search(rest):
        raise ConditionSyntaxError(f"{context!r} has two windows; write one", path)
    if match.group("undated") is not None:
        return rest, Window("undated", None, None, window_text)
    started = match.group("started")
    if started is not None:
        return rest, Window("after-start", None, started, window_text)
    word, rel, anchor = match.group("word"), match.group("rel"), match.group("anchor")
    near: Duration | str | None = None
    if match.group("far") is not None:
        if word != "within" or rel != "before":
            raise ConditionSyntaxError(
                f"in {context!r}: a range of durations is read before a concept; write e.g. "
                "'within 90 to 730 days before potassium'",
                path,
            )
        length, near = _span(f"{match.group('length')} to {match.group('far')}", context, path)
        if (
            isinstance(near, Duration)
            and isinstance(length, Duration)
            and near.unit == length.unit
            and near.amount >= length.amount
        ):
            raise ConditionSyntaxError(
                f"in {context!r}: write the shorter duration first, e.g. "
                "'within 90 to 730 days before potassium'",
                path,
            )
    else:
        length = _length(match.group("length"), context, path)
    if word == "since" and rel != "before":
        raise ConditionSyntaxError(
            f"in {context!r}: write 'since <duration> before <concept>', e.g. "
            "'since 24 hours before potassium'",
            path,
        )
    if anchor is not None and not re.fullmatch(_NAME, anchor):
        raise ConditionSyntaxError(f"in {context!r}: {anchor!r} is not a concept name", path)
    relation: Relation = (
        "since"
        if word == "since"
        else "before"
        if rel == "before"
        else "after"
        if rel == "after"
        else "of"
        if rel
        else "within"
    )
    return rest, Window(relation, length, anchor, window_text, near)


SUPPRESSED = "suppressed"  # the placeholder naming the rules suppressed


def suppressed_finding(rule: str) -> str:
    """The finding derived when `rule`'s condition holds but its `suppressed-when` does too: a
    name no rule can write (it has a space)."""
    return f"{rule} (suppressed)"


def suppressed_rule(finding: str) -> str | None:
    """The rule a `suppressed_finding` names, or None for any other finding."""
    return finding.removesuffix(" (suppressed)") if finding.endswith(" (suppressed)") else None


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
        if key == "suppressed":
            return _parse_suppressed(value, inner)
        if key in ("all", "any"):
            if not isinstance(value, list) or not value:
                raise ConditionSyntaxError(f"{key}: needs a list of conditions", inner)
            items = tuple(parse_condition(item, (*inner, i)) for i, item in enumerate(value))
            return All(items, path) if key == "all" else Any_(items, path)
        raise ConditionSyntaxError(
            f"unknown condition block {key!r}; use all, any, not or suppressed", path
        )
    raise ConditionSyntaxError(f"a condition must be text, a list or a block, not {raw!r}", path)


def _parse_suppressed(value: object, path: Path) -> Condition:
    """`suppressed: [rule-a, rule-b]`: one of these rules was suppressed."""
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not names:
        raise ConditionSyntaxError("suppressed: needs a list of rule ids", path)
    refs: list[Condition] = []
    for i, name in enumerate(names):
        if not isinstance(name, str) or not _FINDING_REF.match(name):
            raise ConditionSyntaxError(f"suppressed: {name!r} is not a rule id", (*path, i))
        refs.append(FindingRef(suppressed_finding(name), name, (*path, i)))
    return refs[0] if len(refs) == 1 else Any_(tuple(refs), path)


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


def _cannot_read(text: str, path: Path) -> ConditionSyntaxError:
    return ConditionSyntaxError(
        f"cannot read the condition {text!r}; write e.g. 'potassium < low_potassium', "
        "'weakness present', or the name of a derived finding",
        path,
    )


def _parse_atom(text: str, path: Path) -> Condition:
    if match := _NO_SUGGESTION.match(text):
        return NoSuggestion(match.group("level"), text, path)
    if match := _COMPARE.match(text):
        _refuse_unknown_operator(match, text, path)
        return _parse_comparison(match, text, path)
    if match := _SUBJECT.match(text):
        return _parse_state(match.group("concept"), match.group("rest"), text, path)
    if _FINDING_REF.match(text):
        return FindingRef(text, text, path)
    raise _cannot_read(text, path)


def _parse_comparison(match: re.Match[str], text: str, path: Path) -> Condition:
    """`<concept> [measure] [window] <op> <threshold> [window]`."""
    op = cast(Op, match.group("op"))
    concept, _, left = match.group("left").strip().partition(" ")
    left = left.strip()
    threshold, right_window = _split_window(match.group("rhs").strip(), text, path)
    if not threshold:
        raise _cannot_read(text, path)
    threshold, unstarted = _split_unstarted(threshold, text, path)
    if unstarted and (_PERCENT.match(left) or not _LASTING.match(threshold)):
        raise ConditionSyntaxError(
            f"in {text!r}: 'with no ... started after it' closes a held comparison, 'it' being "
            "the earlier result it holds since; write e.g. 'potassium < 6.0 mmol/L for 90 days "
            "with no raasi started after it'",
            path,
        )
    result = _result_test(concept, left, op, threshold, text, path)
    if result is not None:
        if right_window is not None or _WINDOW.search(left):
            raise ConditionSyntaxError(
                f"in {text!r}: this reads the current results; it takes no window", path
            )
        return result
    if percent := _PERCENT.match(left):
        if right_window is not None:
            raise ConditionSyntaxError(
                f"in {text!r}: a percent change is read after its medication started; "
                "it takes no other window",
                path,
            )
        baseline = percent.group("over")
        over = _length(baseline.strip(), text, path) if baseline else None
        since = percent.group("since")
        return Trend(concept, "percent-change", over, None, since, op, threshold, text, path)
    left, left_window = _split_window(left, text, path)
    if left_window is not None and right_window is not None:
        raise ConditionSyntaxError(f"{text!r} has two windows; write one", path)
    window = left_window or right_window
    across = _ACROSS.search(left)
    if across is not None:
        left = left[: across.start()]
    primary, has_else, secondary = left.partition(" else ")
    trend = _TREND.match(primary.strip())
    if trend is not None and trend.group("bare") is None:  # a bare `highest` is an attribute
        if unstarted:
            raise ConditionSyntaxError(
                f"in {text!r}: 'with no ... started after it' closes a held comparison "
                "('for 90 days'), not a trend",
                path,
            )
        measure, over, gap = _trend_part(trend, None, text, path)
        fallback: tuple[TrendMeasure | None, Duration | str | None, Duration | str | None]
        fallback = (None, None, None)
        if has_else:
            other = _TREND.match(secondary.strip())
            if other is None:
                raise ConditionSyntaxError(
                    f"in {text!r}: after 'else' write the measure to use instead, e.g. "
                    "'else median over 7 to 365 days'",
                    path,
                )
            fallback = _trend_part(other, measure, text, path)
        return Trend(
            concept,
            measure,
            over,
            gap,
            None,
            op,
            threshold,
            text,
            path,
            window,
            else_measure=fallback[0],
            else_over=fallback[1],
            else_gap=fallback[2],
            across_codes=across is not None,
        )
    if across is not None:
        raise ConditionSyntaxError(
            f"in {text!r}: 'across codes' goes with a trend (rise, fall, ratio)", path
        )
    if lasting := _LASTING.match(threshold):
        if left:
            raise ConditionSyntaxError(
                f"in {text!r}: 'for <duration>' reads the latest result and those before it; "
                f"write '{concept} {op} {lasting['threshold']} for {lasting['length']}'",
                path,
            )
        length: Duration | str | None
        most: Duration | str | None = None
        if " to " in lasting.group("length"):
            length, most = _span(lasting.group("length"), text, path)
            length, most = most, length  # `for 90 to 730 days`: at least 90, at most 730
        else:
            length = _length(lasting.group("length").strip(), text, path)
        return Streak(
            concept,
            1,
            op,
            lasting.group("threshold"),
            text,
            path,
            window,
            lasting=length,
            lasting_most=most,
            start_op=cast(Op | None, lasting.group("start_op")),
            start_threshold=lasting.group("start"),
            unstarted=unstarted,
        )
    if streak := _STREAK.match(left):
        count = int(streak.group("count"))
        if count < 1:
            raise ConditionSyntaxError(f"in {text!r}: count at least 1 result", path)
        return Streak(concept, count, op, threshold, text, path, window)
    attribute = left or "latest"
    if attribute not in COMPARED_ATTRIBUTES:
        raise ConditionSyntaxError(
            f"{attribute!r} in {text!r} is not something to compare; "
            f"use one of {', '.join(COMPARED_ATTRIBUTES)}",
            path,
        )
    return Compare(concept, cast(Attribute, attribute), op, threshold, text, path, window)


def _split_unstarted(threshold: str, context: str, path: Path) -> tuple[str, tuple[str, ...]]:
    """`threshold` without a closing `with no A, B or C started after it`, and A, B, C."""
    match = _UNSTARTED.search(threshold)
    if match is None:
        return threshold, ()
    names: list[str] = []
    for name in re.split(r"\s*,\s*(?:or\s+)?|\s+or\s+", match.group("names").strip()):
        if not re.fullmatch(_NAME, name):
            raise ConditionSyntaxError(
                f"in {context!r}: {name!r} is not a medication concept name; write e.g. "
                "'with no raasi or nsaid started after it'",
                path,
            )
        if name not in names:
            names.append(name)
    return threshold[: match.start()].strip(), tuple(names)


def _result_test(
    concept: str, left: str, op: Op, threshold: str, text: str, path: Path
) -> ResultTest | None:
    """A comparison that reads each current result on its own: `and low`, `or below reference
    range`, `including preliminary`; None for any other comparison."""
    preliminary = _PRELIMINARY.match(left) is not None
    clauses: list[Limit | LimitName] = []
    if named := _AND_LIMIT.match(threshold):
        threshold = named.group("threshold")
        clauses.append(cast(LimitName, named.group("name")))
    reference: Literal["below", "above"] | None = None
    if ranged := _OR_RANGE.match(threshold):
        threshold = ranged.group("threshold")
        reference = cast(Literal["below", "above"], ranged.group("side"))
    if not (preliminary or clauses or reference):
        return None
    if left and not preliminary:
        raise ConditionSyntaxError(
            f"in {text!r}: {left!r} cannot go with a limit; write e.g. "
            f"'{concept} >= severe_{concept} and low'",
            path,
        )
    limit = Limit(op, threshold, reference, f"{op} {threshold}")
    return ResultTest(concept, (limit, *clauses), text, path, preliminary)


def parse_limit(raw: object, path: Path) -> Limit:
    """A concept's `low:` or `high:` limit: `< low_potassium or below reference range`,
    `>= 5.5 mmol/L`, `above reference range`. Raises ConditionSyntaxError."""
    text = " ".join(str(raw).split()) if isinstance(raw, str | int | float) else ""
    match = _LIMIT.match(text)
    if not text or match is None or not (match.group("op") or match.group("side")):
        raise ConditionSyntaxError(
            f"cannot read the limit {raw!r}; write e.g. '< low_potassium or below reference "
            "range' or '>= 5.5 mmol/L'",
            path,
        )
    return Limit(
        cast(Op | None, match.group("op")),
        match.group("threshold"),
        cast(Literal["below", "above"] | None, match.group("side")),
        text,
    )


_FROM: dict[tuple[str, str], TrendMeasure] = {
    ("rise", "lowest"): "rise",
    ("rise", "median"): "rise-from-median",
    ("rise", "previous"): "rise-from-previous",
    ("fall", "highest"): "fall",
    ("ratio", "lowest"): "ratio-to-lowest",
    ("ratio", "median"): "ratio-to-median",
}


def _trend_part(
    match: re.Match[str], primary: TrendMeasure | None, context: str, path: Path
) -> tuple[TrendMeasure, Duration | str | None, Duration | str | None]:
    """One trend measure and its range: `rise from median over 365 days`; after `else`, a
    bare `median over 7 to 365 days` takes the family (rise, fall, ratio) of `primary`."""
    move, base, bare = match.group("move"), match.group("base"), match.group("bare")
    if bare is not None:
        if primary is None:
            raise _cannot_read(context, path)
        family = "ratio" if primary.startswith("ratio") else primary.split("-")[0]
        basis = bare
    elif move is not None:
        family, basis = move, match.group("from") or ("lowest" if move == "rise" else "highest")
    else:
        family, basis = "ratio", base
    measure = _FROM.get((family, basis))
    if measure is None:
        known = ", ".join(f"{f} from {b}" if f != "ratio" else f"ratio to {b}" for f, b in _FROM)
        raise ConditionSyntaxError(
            f"in {context!r}: {family} from {basis} is not a trend; use one of {known}", path
        )
    span = match.group("span")
    if span is None:
        return measure, None, None
    over, gap = _span(span, context, path)
    return measure, over, gap


def _span(text: str, context: str, path: Path) -> tuple[Duration | str, Duration | str | None]:
    """A trend's `over 48 hours` (over, no gap) or `over 1 to 12 hours` (gap 1 hour, over 12
    hours: the first number takes the second's unit when it has none)."""
    first, sep, second = text.partition(" to ")
    if not sep:
        return _length(text.strip(), context, path), None
    first, second = first.strip(), second.strip()
    if _NUMBER.match(first):
        unit = second.partition(" ")[2].strip()
        first = f"{first} {unit}" if unit else first
    return _length(second, context, path), _length(first, context, path)


_STATES = {"not recorded": "recorded", "recorded absent": "recorded-absent"}


def _parse_state(concept: str, rest: str, text: str, path: Path) -> Condition:
    """`<concept> <state> [window]`: presence, medication states, coded values, markers."""
    until = _UNTIL.search(rest)
    if until is not None:
        return _parse_until(concept, rest[: until.start()], until.group("until"), text, path)
    rest, window = _split_window(rest, text, path)
    if match := _PRESENCE.match(rest):
        state = match.group("state")
        presence = Presence(
            concept,
            cast(PresenceState, _STATES.get(state, state)),
            match.group("site"),
            text,
            path,
            window,
        )
        return Not(presence, path) if state == "not recorded" else presence
    if match := _REGION_STATE.match(rest):
        words = match.group("state").removeprefix("on ").replace(" ", "-")
        return RegionState(concept, cast(RegionStateName, words), text, path, window)
    if match := _MEDICATION.match(rest):
        state = cast(MedicationStateName, match.group("state").replace(" ", "-"))
        if window is not None and state not in ("started", "ended"):
            raise ConditionSyntaxError(
                f"in {text!r}: {window.text!r} does not apply to {match.group('state')!r}, which "
                f"is read at the evaluation time; a window goes with started or ended",
                path,
            )
        return MedicationState(concept, state, text, path, window)
    if match := _CODED_IS.match(rest):
        return CodedIs(concept, match.group("value"), text, path, window)
    if match := _NOT_RECHECKED.match(rest):
        if window is None or window.anchor is not None:
            raise ConditionSyntaxError(
                f"in {text!r}: say how far back to look, e.g. 'within 365 days'", path
            )
        others = match.group("others")
        group = (concept, *(others.split(" or ") if others else ()))
        if len(set(group)) < len(group):
            raise ConditionSyntaxError(f"in {text!r}: a concept is named twice", path)
        return (
            Any_(tuple(NotRechecked(name, group, window, text, path) for name in group), path)
            if len(group) > 1
            else NotRechecked(concept, group, window, text, path)
        )
    windowless: Atom | None = None
    if match := _RESULT_STATE.match(rest):
        name = cast(LimitName, match.group("name"))
        windowless = ResultTest(concept, (name,), text, path, bool(match.group("preliminary")))
    elif match := _REFERENCE.match(rest):
        multiple, fallback = match.group("multiple"), match.group("fallback")
        if match.group("side") == "above":
            return AboveReference(concept, text, path, multiple, fallback, window)
        if multiple is not None or fallback is not None:
            raise ConditionSyntaxError(
                f"in {text!r}: 'times' and 'else' go with 'above reference range'", path
            )
        windowless = BelowReference(concept, text, path)
    elif match := _MARKED.match(rest):
        reading: ReadingChoice = "previous" if match.group("previous") else "latest"
        windowless = Marked(concept, match.group("marker"), text, path, reading)
    elif (match := _EVIDENCE.match(rest)) and match.group("evidence") not in _STATE_WORDS:
        state = match.group("state") or "present"
        presence = Presence(
            concept,
            cast(PresenceState, "recorded" if state == "not recorded" else state),
            match.group("site"),
            text,
            path,
            window,
            evidence=match.group("evidence"),
        )
        return Not(presence, path) if state == "not recorded" else presence
    if windowless is None:
        raise _cannot_read(text, path)
    if window is not None:
        raise ConditionSyntaxError(
            f"in {text!r}: {window.text!r} does not apply here; this reads the latest result",
            path,
        )
    return windowless


def _parse_until(concept: str, rest: str, until: str, text: str, path: Path) -> Condition:
    """`atrophy present all dated on or before neurology_review`, `weakness examined all ...`."""
    atom = _parse_state(concept, rest.strip(), text, path) if rest.strip() else None
    if not isinstance(atom, Presence) or atom.state != "present" or atom.window is not None:
        raise ConditionSyntaxError(
            f"in {text!r}: 'all dated on or before' follows a finding that is present, with no "
            f"window; write e.g. '{concept} present all dated on or before {until}'",
            path,
        )
    return Presence(concept, "present", atom.site, text, path, evidence=atom.evidence, until=until)


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
