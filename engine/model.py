"""A loaded, validated ruleset: the vocabulary every other part of Vigil works in."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from .clock import Duration
from .codes import Code
from .conditions import Compare, Limit, atoms
from .units import SameAs

if TYPE_CHECKING:
    from .conditions import Condition
    from .notes import Note


_VALUE_ATTRIBUTES = frozenset({"latest", "lowest", "highest"})  # count, sites, span read no value

ConceptKind = Literal["finding", "quantity", "score", "coded", "medication", "demographic", "event"]
KINDS: tuple[ConceptKind, ...] = (
    "finding",
    "quantity",
    "score",
    "coded",
    "medication",
    "demographic",
    "event",
)
Indicator = Literal["info", "warning", "critical"]
Priority = Literal["routine", "urgent", "asap", "stat"]


@dataclass(frozen=True, slots=True)
class Marker:
    """A mark a result may carry (`haemolysed`): a condition of the Specimen it references, an
    interpretation code, or a sentence of its notes matching `note` and not `negation`
    (regular expressions, case-insensitive)."""

    name: str
    specimen_conditions: tuple[Code, ...] = ()
    interpretations: tuple[Code, ...] = ()
    note: str | None = None
    negation: str | None = None


@dataclass(frozen=True, slots=True)
class Region:
    """A class of body regions (`lower_limb`): `sided` when its records are on a left or a
    right side, `focal` when a finding in one region of it alone is focal."""

    name: str
    sided: bool = False
    focal: bool = False


@dataclass(frozen=True, slots=True)
class SiteRegion:
    """Where a named body site lies: its region class, and its side when the code says it."""

    region: str
    side: Literal["left", "right"] | None = None


@dataclass(frozen=True, slots=True)
class EvidenceClass:
    """A named kind of evidence a finding's record is (`examined`, `reported`): read from an
    Observation's category codes or a Condition's verification status (`none`: the element is
    absent; `other`: categories none of which another class lists)."""

    name: str
    categories: frozenset[str] = frozenset()
    verifications: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class ScoreEvidence:
    """A score's record that stands as a record of a finding: `mrc_grade <= 4: examined
    present` (`op`/`value` the comparison, `evidence` the class, `present` the state)."""

    score: str
    op: str
    value: float
    evidence: str | None
    present: bool
    text: str


@dataclass(frozen=True, slots=True)
class Supersession:
    """`reported by examined absent`: a present record of class `superseded` no longer counts
    once a record of class `by` recorded absent is dated on or after it (at no body site, or
    at one sharing a region with it)."""

    superseded: str
    by: str


@dataclass(frozen=True, slots=True)
class ReviewDate:
    """A named date: the latest record of any of `concepts` within `within` before as_of."""

    name: str
    concepts: tuple[str, ...]
    within: Duration | str
    text: str


@dataclass(frozen=True, slots=True)
class Concept:
    """A named clinical concept: the codes that mean it, and how its values are read.

    `unit` is the canonical unit quantities are converted to (None for findings and scores).
    `lookback` bounds how old a record may be and still count (None: any age). `molar_mass`
    (g/mol) and `valence` allow mass and equivalent concentrations to become molar ones;
    `same_as` pairs are units read as equal for this analyte (`[IU]/L` as `U/L`);
    `accepted_units`, when given, are the only units its values and ranges are read in.
    """

    name: str
    codes: tuple[Code, ...]
    unit: str | None = None
    lookback: timedelta | None = None
    molar_mass: float | None = None
    valence: int | None = None
    title: str | None = None
    kind: ConceptKind = "finding"
    # codes ending in `*` match every code of their system that begins with the rest (ATC)
    prefixes: tuple[Code, ...] = ()
    # which of simultaneous results is latest; "any": all are current, any may meet a rule
    ties: Literal["highest", "lowest", "any"] | None = None
    answers_of: tuple[Code, ...] = ()  # observations whose coded answer may mean this concept
    resource: str | None = None  # an event's resource type: Procedure, Encounter, ServiceRequest
    statuses: tuple[str, ...] = ()  # an event's statuses that count
    field: Literal["age", "sex"] | None = None  # a demographic's Patient field
    markers: tuple[Marker, ...] = ()
    decimals: int | None = None  # values rounded half-up to this many places before comparing
    shown_decimals: int | None = None  # values written with exactly this many places
    shown_unit: str | None = None  # the words written after a value (`minutes`), not its unit
    # codes that mean the concept only at a body site in a region class or at a named site
    # (`sct#65124004 at lower_limb`): each code (also in `codes`) with that class or site
    sited_codes: tuple[tuple[Code, str], ...] = ()
    same_as: SameAs = ()  # units read as equal for this analyte though UCUM keeps them apart
    accepted_units: tuple[str, ...] = ()  # the only units its data is read in (empty: any)
    low: Limit | None = None  # what `low` means for one result (`results`)
    high: Limit | None = None
    prefer: tuple[Code, ...] = ()  # while a current result has one of these codes, only they count
    # preliminary results: counted, ignored with a warning, or kept apart as candidates (read
    # only by `including preliminary`); None: ignored for a lab concentration, else counted
    preliminary: Literal["counts", "candidates", "ignored"] | None = None
    evidence: tuple[EvidenceClass, ...] = ()  # kinds of evidence, the first that fits wins
    scores: tuple[ScoreEvidence, ...] = ()  # score records that stand as this finding's
    superseded: tuple[Supersession, ...] = ()
    answers: tuple[Code, ...] = ()  # a coded concept's answers (empty: any); others are warned
    tie_answers: tuple[Code, ...] = ()  # a coded concept's answers that win a tie

    @property
    def label(self) -> str:
        return self.title or self.name.replace("_", " ")


@dataclass(frozen=True, slots=True)
class Parameter:
    name: str
    value: float
    unit: str  # UCUM code; "1" when unitless
    text: str  # as written, for explanations
    code: Code | None = None  # a code-valued parameter (`loinc#24362-6`): value 0, unit "code"


@dataclass(frozen=True, slots=True)
class Citation:
    id: str
    title: str
    url: str | None = None
    section: str | None = None

    @property
    def label(self) -> str:
        return f"{self.title}, {self.section}" if self.section else self.title


@dataclass(frozen=True, slots=True)
class Referral:
    """What a suggestion at a level proposes: a referral code and its priority."""

    code: Code
    priority: str  # FHIR request priority: routine | urgent | asap | stat


@dataclass(frozen=True, slots=True)
class Advice:
    """A piece of self-care advice, shown when its finding was derived (always when None)."""

    text: str
    finding: str | None = None


@dataclass(frozen=True, slots=True)
class Proposal:
    """An order a suggestion proposes: a FHIR ServiceRequest in the card's suggestion.

    `due` is a Duration after as_of, "now" (as_of itself), or "today" (23:59:59 of the as_of
    date in the ruleset's time zone). `reason` names a medication concept whose active records
    become the request's reasonReference (one request per drug group). `label` is the button's
    words.
    """

    code: Code
    label: str
    priority: Priority = "routine"
    kind: Literal["referral", "lab-order", "medication-review", "procedure", "admission"] = (
        "referral"
    )
    due: Duration | Literal["today", "now"] | None = None
    note: str | None = None
    reason: str | None = None
    when: Condition | None = None
    already: Condition | None = None
    already_text: str | None = None
    due_after: str | None = None
    due_else: Duration | None = None
    first: bool = False
    joins: bool = False


@dataclass(frozen=True, slots=True)
class Instruction:
    """What "Do now" says when the rule heads the card and no order is shown; with `when`,
    only when that condition holds (the first that holds is said)."""

    text: str
    when: Condition | None = None


@dataclass(frozen=True, slots=True)
class Level:
    """One of a ruleset's escalation levels, lowest first; the first is "nothing to do"."""

    id: str
    title: str
    indicator: Indicator
    proposals: tuple[Proposal, ...] = ()  # what a suggestion at this level proposes by default
    label: str | None = None  # the card title's words for the level (`URGENT TODAY`)


@dataclass(frozen=True, slots=True)
class Shows:
    """Proposals shown below the escalation level: those of `rules` and of the rules at
    `levels`, at the escalations `at` (every escalation when empty), limited to proposals of
    `kinds` and of `codes` (system, code) when given."""

    rules: frozenset[str] = frozenset()
    levels: frozenset[str] = frozenset()
    at: frozenset[str] = frozenset()
    kinds: frozenset[str] = frozenset()
    codes: frozenset[tuple[str, str]] = frozenset()


@dataclass(frozen=True, slots=True)
class Hides:
    """When an order of code `if_shown` is shown, the proposals of `rules` (every rule when
    empty) limited to `codes` (every code when empty) are not."""

    if_shown: tuple[str, str]
    rules: frozenset[str] = frozenset()
    codes: frozenset[tuple[str, str]] = frozenset()


@dataclass(frozen=True, slots=True)
class HitPolicy:
    """Which fired rules' proposals a card shows.

    `show`: "escalation" shows only the proposals of rules at the escalation level (the others
    are listed as also noted), "all" shows every fired rule's. `merge`: one proposal per code,
    with the earliest due date and the highest priority (medication reviews: one per drug
    group). `always`: rule ids whose proposals are shown at every level; `kinds` limits some of
    them, below the escalation level, to proposals of those kinds (`medication-review`).
    `also`: more proposals shown below the escalation level; `hide`: proposals not shown
    when an order of a code is.
    """

    show: Literal["escalation", "all"] = "all"
    merge: bool = False
    always: frozenset[str] = frozenset()
    kinds: Mapping[str, frozenset[str]] = field(default_factory=dict)
    also: tuple[Shows, ...] = ()
    hide: tuple[Hides, ...] = ()

    def shows(self) -> tuple[Shows, ...]:
        """Every rule of showing below the escalation level: `always` and `kinds` as Shows,
        then `also`."""
        return (
            *(
                Shows(rules=frozenset({r}), kinds=self.kinds.get(r, frozenset()))
                for r in self.always
            ),
            *self.also,
        )


@dataclass(frozen=True, slots=True)
class Action:
    derive: str | None = None
    suggest: str | None = None  # a level
    summary: str | None = None
    detail: str | None = None
    cite: tuple[str, ...] = ()
    referral: Referral | None = None  # overrides the level's default
    advice: tuple[Advice, ...] = ()
    proposals: tuple[Proposal, ...] = ()  # overrides the level's default proposals
    instructions: tuple[Instruction, ...] = ()  # "Do now" when no order is shown
    # variants of `summary`, the first whose condition holds said instead (the last has none)
    summaries: tuple[Instruction, ...] = ()


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    title: str
    when: Condition
    then: Action
    line: int = 0


@dataclass(frozen=True, slots=True)
class RedFlag:
    """A red flag every card reports in one state (`engine.red_flags`).

    `states` are the present states, in order (the first whose condition holds is the flag's
    state: `present`, or a ruleset's own such as `examined`); `absent` is when it is recorded
    absent (None: a derived flag, never absent). The shorthands `concept` (present when the
    concept is present, absent when recorded absent) and `finding` (present when derived)
    stand for those when `states` is empty.
    """

    label: str
    concept: str | None = None
    finding: str | None = None
    id: str = ""  # default: the concept or finding named
    states: tuple[tuple[str, Condition], ...] = ()
    absent: Condition | None = None


@dataclass(frozen=True, slots=True)
class CardFlag:
    """A red flag's words on the card: per present state (its Found item) and `missing`, its
    word in the Not recorded line (None: never listed there)."""

    id: str
    words: tuple[tuple[str, str], ...]
    missing: str | None = None


@dataclass(frozen=True, slots=True)
class CardResult:
    """A concept whose low or high current results the card lists as found (of `codes` only,
    when given: one form of an analyte); `missing` is its word when not measured (entries
    sharing one are missing only when none is current)."""

    concept: str
    words: str
    missing: str | None = None
    codes: tuple[Code, ...] = ()  # only the results with one of these codes (empty: all)


@dataclass(frozen=True, slots=True)
class CardLayout:
    """A ruleset's `card:`: its flags' and results' words, and the levels showing advice."""

    flags: tuple[CardFlag, ...] = ()
    results: tuple[CardResult, ...] = ()
    advice_at: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class WordList:
    """A named list placeholder: the words of each concept or derived finding present, in
    order, joined by `join`."""

    name: str
    words: tuple[tuple[str, str], ...]
    join: str = ", "


@dataclass(frozen=True, slots=True)
class LintAnswer:
    """A reviewer's answer in the YAML to a `vigil lint` warning (`warning`: its code,
    `subject`: the rule, concept, parameter or finding it is about): the warning is shown as a
    note with the answer, and an answer no warning matches is itself a warning."""

    warning: str
    subject: str
    answer: str
    line: int = 0


@dataclass(frozen=True)
class Ruleset:
    id: str
    version: str
    status: str
    title: str
    description: str
    content_hash: str
    concepts: Mapping[str, Concept]
    sites: Mapping[str, tuple[Code, ...]]
    parameters: Mapping[str, Parameter]
    rules: tuple[Rule, ...]
    citations: Mapping[str, Citation] = field(default_factory=dict)
    referrals: Mapping[str, Referral] = field(default_factory=dict)
    red_flags: tuple[RedFlag, ...] = ()
    scope: Condition | None = None
    authors: tuple[str, ...] = ()
    reviewers: tuple[str, ...] = ()
    source: Path | None = None
    code_systems: Mapping[str, str] = field(default_factory=dict)
    levels: tuple[Level, ...] = ()
    hit_policy: HitPolicy = field(default_factory=HitPolicy)
    time_zone: str = "UTC"  # IANA name: the calendar of "today", ages and date-only values
    # product code (system, code) -> the ingredient or class codes it stands for (RxNorm SCD ->
    # ingredient, dm+d VMP/AMP -> ATC)
    products: Mapping[tuple[str, str], tuple[Code, ...]] = field(default_factory=dict)
    # an Observation matching no concept whose code text or display contains one of these words
    # is reported as not read (never matched on)
    unread_text_warnings: tuple[str, ...] = ()
    regions: Mapping[str, Region] = field(default_factory=dict)  # body-region classes
    site_regions: Mapping[str, SiteRegion] = field(default_factory=dict)  # by site name
    notes: tuple[Note, ...] = ()  # card notes, in the order a card shows them
    dates: Mapping[str, ReviewDate] = field(default_factory=dict)  # named dates windows anchor on
    card: CardLayout | None = None  # how the card's text is written (`engine.card_text`)
    word_lists: Mapping[str, WordList] = field(default_factory=dict)  # `{name}`: words present
    lint_answers: tuple[LintAnswer, ...] = ()  # answers to `vigil lint` warnings
    # the first and last dates it is in force (inclusive, in its time zone); None: no limit
    effective_from: date | None = None
    effective_until: date | None = None

    @property
    def key(self) -> str:
        """Unique name of this exact content: id, version and a prefix of the content hash."""
        return f"{self.id}@{self.version}#{self.content_hash[:12]}"

    def concept_for(self, system: str, code: str) -> Concept | None:
        """The concept a coding means, matched on system and code only."""
        return self._code_index.get((system, code))

    def site_for(self, system: str, code: str) -> str | None:
        """The name of the body site a coding means, if the ruleset names it."""
        return self._site_index.get((system, code))

    def referral_for(self, level: str) -> Referral | None:
        return self.referrals.get(level)

    @property
    def flag_conditions(self) -> list[Condition]:
        """The conditions the red flags state themselves (their shorthands compare nothing and
        read no window)."""
        found = [condition for flag in self.red_flags for _, condition in flag.states]
        return found + [flag.absent for flag in self.red_flags if flag.absent is not None]

    def compares_value(self, concept: str) -> bool:
        """Whether a rule or the scope compares the concept's value (`mrc_grade lowest <= 4`,
        `gad7 >= 10`), as opposed to reading only whether it is present."""
        return concept in self._compared

    @property
    def _compared(self) -> frozenset[str]:
        compared = self.__dict__.get("_compared_concepts")
        if compared is None:
            conditions = [rule.when for rule in self.rules]
            if self.scope is not None:
                conditions.append(self.scope)
            conditions.extend(self.flag_conditions)
            compared = frozenset(
                atom.concept
                for condition in conditions
                for atom in atoms(condition)
                if isinstance(atom, Compare) and atom.attribute in _VALUE_ATTRIBUTES
            )
            self.__dict__["_compared_concepts"] = compared
        return compared

    @property
    def _code_index(self) -> dict[tuple[str, str], Concept]:
        index = self.__dict__.get("_codes")
        if index is None:
            index = {c.key: concept for concept in self.concepts.values() for c in concept.codes}
            self.__dict__["_codes"] = index
        return index

    @property
    def _site_index(self) -> dict[tuple[str, str], str]:
        index = self.__dict__.get("_sites")
        if index is None:
            index = {c.key: name for name, codes in self.sites.items() for c in codes}
            self.__dict__["_sites"] = index
        return index
