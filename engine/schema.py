"""The shape of a ruleset file, checked before its meaning: keys, types, required fields."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class MarkerSpec(_Strict):
    specimen_condition: list[str] = Field(default_factory=list, alias="specimen-condition")
    interpretation: list[str] = Field(default_factory=list)
    note: str | None = None
    negation: str | None = None


class RegionSpec(_Strict):
    sided: StrictBool = False  # a record here is on a side: left, right or unknown
    focal: StrictBool = False  # a finding in one region of this class alone is focal


class SiteSpec(_Strict):
    codes: list[str] = Field(min_length=1)
    region: str | None = None  # a class of `regions`
    side: Literal["left", "right"] | None = None  # pre-coordinated: it wins over laterality


class EvidenceSpec(_Strict):
    category: list[str] = Field(default_factory=list)  # Observation category codes
    verification: list[str] = Field(default_factory=list)  # Condition verification statuses


class ConceptSpec(_Strict):
    kind: (
        Literal["finding", "quantity", "score", "coded", "medication", "demographic", "event"]
        | None
    ) = None
    codes: list[str] = Field(default_factory=list)  # required for every kind but demographic
    unit: str | None = None
    # a number or yes/no is kept as itself, so the loader can say it lacks a unit
    lookback: StrictBool | str | int | float | None = None
    molar_mass: str | None = Field(default=None, alias="molar-mass")
    valence: int | None = Field(default=None, ge=1, le=4, strict=True)  # never a bool
    same_as: dict[str, str] = Field(default_factory=dict, alias="same-as")  # unit: same unit
    accepted_units: list[str] = Field(default_factory=list, alias="accepted-units")
    title: str | None = None
    # a quantity's or score's: highest, lowest or any; a coded concept's: the answers that win
    ties: Literal["highest", "lowest", "any"] | list[str] | None = None
    decimals: int | None = Field(default=None, ge=0, le=6, strict=True)
    shown_decimals: int | None = Field(
        default=None, ge=0, le=6, strict=True, alias="shown-decimals"
    )
    shown_unit: str | None = Field(default=None, min_length=1, alias="shown-unit")
    low: str | None = None
    high: str | None = None
    prefer: list[str] = Field(default_factory=list)
    preliminary: Literal["counts", "candidates", "ignored"] | None = None
    answers_of: list[str] = Field(default_factory=list, alias="answers-of")
    resource: Literal["Procedure", "Encounter", "ServiceRequest"] | None = None
    statuses: list[str] = Field(default_factory=list)
    field: Literal["age", "sex"] | None = None
    markers: dict[str, MarkerSpec] = Field(default_factory=dict)
    evidence: dict[str, EvidenceSpec] = Field(default_factory=dict)
    scores: dict[str, str] = Field(default_factory=dict)  # `mrc_grade <= 4: examined present`
    superseded: str | list[str] | None = None  # `reported by examined absent`
    answers: list[str] = Field(default_factory=list)  # a coded concept's answers it reads


class ProposalSpec(_Strict):
    code: str
    label: str
    kind: Literal["referral", "lab-order", "medication-review", "procedure", "admission"] = (
        "referral"
    )
    priority: Literal["routine", "urgent", "asap", "stat"] = "routine"
    # a duration after as_of, "now", "today", or `14 days after raasi started, else 3 days`
    due: str | None = None
    note: str | None = None
    reason: str | None = None  # a medication concept
    when: Any = Field(default=None, alias="if")  # a condition line (or list, all/any/not)
    already: Any = None  # a condition: the order is placed already
    already_text: str | None = Field(default=None, alias="already-text")
    first: StrictBool = False
    joins: StrictBool = False


class LevelSpec(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    title: str
    indicator: Literal["info", "warning", "critical"]
    propose: list[ProposalSpec] = Field(default_factory=list)
    label: str | None = None  # the card title's words (`URGENT TODAY`)


ProposalKind = Literal["referral", "lab-order", "medication-review", "procedure", "admission"]


class AlwaysSpec(_Strict):
    """Proposals shown below the escalation: of `rules` and of the rules at `levels`, at the
    escalations `at` (every one when left out), limited to `kinds` and `codes` when given."""

    rules: list[str] = Field(default_factory=list)
    levels: list[str] = Field(default_factory=list)
    at: list[str] = Field(default_factory=list)
    kinds: list[ProposalKind] = Field(default_factory=list)
    codes: list[str] = Field(default_factory=list)


class HideSpec(_Strict):
    """When an order of code `if-shown` is shown, the proposals of `rules` (and/or of `codes`)
    are not."""

    if_shown: str = Field(alias="if-shown")
    rules: list[str] = Field(default_factory=list)
    codes: list[str] = Field(default_factory=list)


class HitPolicySpec(_Strict):
    show: Literal["escalation", "all"] = "all"
    merge: StrictBool = False
    always: list[str | AlwaysSpec] = Field(default_factory=list)
    hide: list[HideSpec] = Field(default_factory=list)


class CitationSpec(_Strict):
    title: str
    section: str | None = None
    url: str | None = None


class ReferralSpec(_Strict):
    code: str
    display: str | None = None
    priority: Literal["routine", "urgent", "asap", "stat"] = "routine"


class AdviceSpec(_Strict):
    text: str
    when: str | None = Field(default=None, alias="if")


class InstructionSpec(_Strict):
    text: str
    when: Any = Field(default=None, alias="if")  # a condition


class ThenSpec(_Strict):
    derive: str | None = None
    suggest: str | None = None
    summary: str | list[InstructionSpec] | None = None  # one text, or variants with if:
    detail: str | None = None
    cite: str | list[str] = Field(default_factory=list)
    referral: str | None = None
    priority: Literal["routine", "urgent", "asap", "stat"] | None = None
    advice: list[AdviceSpec] = Field(default_factory=list)
    propose: list[ProposalSpec] | None = None
    # "Do now" when this rule heads the card and no order is shown: a text, or texts with `if:`
    instruction: str | list[InstructionSpec] | None = None


class NoteSpec(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    text: str
    when: Any = None  # a condition, with `<rule> fired` lines
    show_at: str | list[str] = Field(default_factory=list, alias="show-at")
    section: Literal["also", "advice"] = "also"  # advice: shown at the card's `advice-at` levels


class RuleSpec(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    title: str | None = None
    when: Any
    # a condition: when it holds the rule does not fire, and a `suppressed:` condition holds
    suppressed_when: Any = Field(default=None, alias="suppressed-when")
    then: ThenSpec


class RedFlagSpec(_Strict):
    """A red flag: `concept` (present / recorded absent) or `finding` (derived: never absent)
    as shorthands, or `present-when` / `states` (named present states, first that holds) and
    `absent-when` conditions."""

    id: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9-]*$")
    label: str
    concept: str | None = None
    finding: str | None = None
    present_when: Any = Field(default=None, alias="present-when")
    states: dict[str, Any] = Field(default_factory=dict)
    absent_when: Any = Field(default=None, alias="absent-when")


class CardResultSpec(_Strict):
    concept: str
    words: str
    codes: list[str] = Field(default_factory=list)  # only results with these codes (a form)
    missing: str | StrictBool | None = None  # the Not recorded word (default: words; false: never)


class CardSpec(_Strict):
    """How a card's text is written: per red flag, words per present state (a string: any) and
    `not-recorded`; the concepts whose results are listed; the levels that show advice notes."""

    flags: dict[str, str | dict[str, str]] = Field(default_factory=dict)
    results: list[CardResultSpec] = Field(default_factory=list)
    advice_at: list[str] = Field(default_factory=list, alias="advice-at")


class WordListSpec(_Strict):
    words: dict[str, str] = Field(min_length=1)  # concept or derived finding: its words
    join: str = ", "


class LintAnswerSpec(_Strict):
    """A reviewer's answer to one `vigil lint` warning: its code, what it is about, why."""

    warning: str = Field(min_length=1)
    subject: str = Field(min_length=1)
    answer: str = Field(min_length=1)


class EffectiveSpec(_Strict):
    """The dates a ruleset is in force, both inclusive, in its time zone; either end may be
    left out."""

    start: date | None = Field(default=None, alias="from")
    until: date | None = None


class RulesetSpec(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    version: str = Field(pattern=r"^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$")
    status: Literal["draft", "active", "retired"]
    effective: EffectiveSpec | None = None
    title: str
    description: str = ""
    time_zone: str = Field(default="UTC", alias="time-zone")
    levels: list[LevelSpec] | None = None
    hit_policy: HitPolicySpec = Field(default_factory=HitPolicySpec, alias="hit-policy")
    value_sets: list[str] = Field(default_factory=list, alias="value-sets")
    products: str | None = None
    unread_text_warnings: list[str] = Field(default_factory=list, alias="unread-text-warnings")
    authors: list[str] = Field(default_factory=list)
    reviewers: list[str] = Field(default_factory=list)
    citations: dict[str, CitationSpec] = Field(default_factory=dict)
    code_systems: dict[str, str] = Field(default_factory=dict, alias="code-systems")
    concepts: dict[str, ConceptSpec]
    regions: dict[str, RegionSpec] = Field(default_factory=dict)
    sites: dict[str, SiteSpec] = Field(default_factory=dict)
    # bool is kept as itself, not read as 1 or 0, so the loader can refuse it by name
    parameters: dict[str, StrictBool | str | int | float] = Field(default_factory=dict)
    referrals: dict[str, ReferralSpec] = Field(default_factory=dict)
    red_flags: list[RedFlagSpec] = Field(default_factory=list, alias="red-flags")
    scope: Any = None
    # named dates: `neurology_review: latest of referral, assessment within 365 days`
    dates: dict[str, str] = Field(default_factory=dict)
    rules: list[RuleSpec] = Field(min_length=1)

    @field_validator("sites", mode="before")
    @classmethod
    def _listed_sites(cls, sites: Any) -> Any:
        """`calf: [sct#53840002]` is a site without a region: `calf: {codes: [...]}` (anything
        else but a mapping is read as its codes, so a mistake is reported as theirs)."""
        if not isinstance(sites, dict):
            return sites
        return {k: v if isinstance(v, dict) else {"codes": v} for k, v in sites.items()}

    notes: list[NoteSpec] = Field(default_factory=list)
    card: CardSpec | None = None
    word_lists: dict[str, WordListSpec] = Field(default_factory=dict, alias="word-lists")
    lint_answers: list[LintAnswerSpec] = Field(default_factory=list, alias="lint-answers")
