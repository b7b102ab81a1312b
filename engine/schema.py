"""The shape of a ruleset file, checked before its meaning: keys, types, required fields."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class MarkerSpec(_Strict):
    specimen_condition: list[str] = Field(default_factory=list, alias="specimen-condition")
    interpretation: list[str] = Field(default_factory=list)
    note: str | None = None
    negation: str | None = None


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
    lookback: str | None = None
    molar_mass: str | None = Field(default=None, alias="molar-mass")
    valence: int | None = Field(default=None, ge=1, le=4, strict=True)  # never a bool
    title: str | None = None
    # a quantity's or score's: highest or lowest; a coded concept's: the answers that win
    ties: Literal["highest", "lowest"] | list[str] | None = None
    decimals: int | None = Field(default=None, ge=0, le=6, strict=True)
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
    # a duration after as_of, "today", or `14 days after raasi started, else 3 days`
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


class AlwaysSpec(_Strict):
    rules: list[str] = Field(min_length=1)
    kinds: list[Literal["referral", "lab-order", "medication-review", "procedure", "admission"]] = (
        Field(default_factory=list)
    )


class HitPolicySpec(_Strict):
    show: Literal["escalation", "all"] = "all"
    merge: StrictBool = False
    always: list[str | AlwaysSpec] = Field(default_factory=list)


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


class ThenSpec(_Strict):
    derive: str | None = None
    suggest: str | None = None
    summary: str | None = None
    detail: str | None = None
    cite: str | list[str] = Field(default_factory=list)
    referral: str | None = None
    priority: Literal["routine", "urgent", "asap", "stat"] | None = None
    advice: list[AdviceSpec] = Field(default_factory=list)
    propose: list[ProposalSpec] | None = None


class RuleSpec(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    title: str | None = None
    when: Any
    # a condition: when it holds the rule does not fire, and a `suppressed:` condition holds
    suppressed_when: Any = Field(default=None, alias="suppressed-when")
    then: ThenSpec


class RedFlagSpec(_Strict):
    label: str
    concept: str | None = None
    finding: str | None = None


class RulesetSpec(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    version: str = Field(pattern=r"^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$")
    status: Literal["draft", "active", "retired"]
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
    sites: dict[str, list[str]] = Field(default_factory=dict)
    # bool is kept as itself, not read as 1 or 0, so the loader can refuse it by name
    parameters: dict[str, StrictBool | str | int | float] = Field(default_factory=dict)
    referrals: dict[str, ReferralSpec] = Field(default_factory=dict)
    red_flags: list[RedFlagSpec] = Field(default_factory=list, alias="red-flags")
    scope: Any = None
    # named dates: `neurology_review: latest of referral, assessment within 365 days`
    dates: dict[str, str] = Field(default_factory=dict)
    rules: list[RuleSpec] = Field(min_length=1)
