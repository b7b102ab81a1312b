"""The review page of a ruleset as plain data, built once and rendered as HTML and Markdown.

`build_page` reads everything a reviewer needs from a loaded ruleset: metadata, levels, every
rule in words (`authoring.wording`), concepts with their codes and unit systems, value sets
with their displays, citations, proposals, notes, red flags, the scenario table and the lint
findings given. Every text is kept as the ruleset writes it; the renderers escape it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.codes import DEFAULT_SYSTEMS
from engine.conditions import suppressed_rule
from engine.model import Citation, Proposal, Rule, Ruleset

from ..findings import Finding
from ..wording import (
    Line,
    condition_in_words,
    condition_lines,
    note_condition_in_words,
    placeholders_in_words,
    then_in_words,
    top_lines,
    unit_systems,
    unit_text,
)
from .scenarios import ScenarioRow
from .sources import CodeDisplays, ValueSetEntry, effective_period

RULES_LEGEND = (
    "In the order the ruleset lists them. Every condition under When must hold; a name in "
    "quotes is a finding another rule derives; a threshold is given in each unit a laboratory "
    "may report it in (≈: rounded); text in {braces} is filled in from the patient's record."
)


@dataclass(frozen=True, slots=True)
class CitationEntry:
    id: str
    title: str
    section: str | None
    url: str | None


@dataclass(frozen=True, slots=True)
class CodeEntry:
    """A code as written (`loinc#2823-3`), its system's URI and its display when known."""

    compact: str
    system: str
    display: str | None


@dataclass(frozen=True, slots=True)
class LevelEntry:
    id: str
    title: str
    indicator: str
    proposals: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RuleEntry:
    """A rule in words: its conditions as nested lines, what it does, its card texts."""

    id: str
    title: str
    line: int
    conditions: tuple[Line, ...]
    then: str
    level: str | None  # the level it suggests, None: it only derives
    level_title: str | None
    summary: str | None
    detail: str | None
    proposals: tuple[str, ...]
    citations: tuple[CitationEntry, ...]
    advice: tuple[str, ...] = ()  # self-care advice, referral and "Do now" lines


@dataclass(frozen=True, slots=True)
class ConceptEntry:
    name: str
    label: str
    kind: str
    unit_systems: tuple[str, ...]
    codes: tuple[CodeEntry, ...]


@dataclass(frozen=True, slots=True)
class Page:
    """Everything the review page shows, in the order it shows it."""

    id: str
    title: str
    description: str
    version: str
    status: str
    effective: str | None
    authors: tuple[str, ...]
    reviewers: tuple[str, ...]
    source: str
    key: str
    scope: tuple[Line, ...]  # when the ruleset applies at all; empty: always
    levels: tuple[LevelEntry, ...]
    rules: tuple[RuleEntry, ...]
    concepts: tuple[ConceptEntry, ...]
    value_sets: tuple[ValueSetEntry, ...]
    code_systems: tuple[tuple[str, str], ...]
    citations: tuple[CitationEntry, ...]
    referrals: tuple[str, ...]
    notes: tuple[tuple[str, str], ...]
    red_flags: tuple[tuple[str, str], ...]
    scenarios: tuple[ScenarioRow, ...] | None  # None: not run
    findings: tuple[Finding, ...] = field(default=())

    @property
    def scenarios_passed(self) -> int:
        return sum(row.passed for row in self.scenarios or ())


def build_page(
    ruleset: Ruleset,
    *,
    scenarios: Sequence[ScenarioRow] | None = None,
    findings: Sequence[Finding] = (),
    raw: dict[str, Any] | None = None,
) -> Page:
    """The review page of `ruleset`: `scenarios` the table's rows (None: not run),
    `findings` the lint findings, `raw` the ruleset file as parsed YAML (for what the
    loaded ruleset does not keep: value-set files, the effective period)."""
    raw = raw or {}
    systems = dict(ruleset.code_systems) or None
    value_sets = ValueSetEntry.read_all(ruleset, raw, systems)
    displays = CodeDisplays.of(value_sets)
    return Page(
        id=ruleset.id,
        title=ruleset.title,
        description=" ".join(ruleset.description.split()),
        version=ruleset.version,
        status=ruleset.status,
        effective=effective_period(ruleset),
        authors=ruleset.authors,
        reviewers=ruleset.reviewers,
        source=str(ruleset.source) if ruleset.source else "",
        key=ruleset.key,
        scope=() if ruleset.scope is None else tuple(condition_lines(ruleset.scope, ruleset)),
        levels=tuple(
            LevelEntry(
                level.id,
                level.title,
                level.indicator,
                tuple(proposal_text(p, ruleset) for p in level.proposals),
            )
            for level in ruleset.levels
        ),
        # a rule's `suppressed-when` twin is the loader's, not the author's: its condition is
        # shown in its own rule's, as the "not" part
        rules=tuple(
            rule_entry(rule, ruleset) for rule in ruleset.rules if suppressed_rule(rule.id) is None
        ),
        concepts=tuple(
            ConceptEntry(
                concept.name,
                concept.label,
                concept.kind,
                tuple(unit_text(u) for u in unit_systems(concept)),
                tuple(
                    CodeEntry(
                        code.compact(systems), code.system, code.display or displays.display(code)
                    )
                    for code in (*concept.codes, *concept.prefixes)
                ),
            )
            for concept in ruleset.concepts.values()
        ),
        value_sets=value_sets,
        code_systems=used_systems(ruleset),
        citations=tuple(citation_entry(c) for c in ruleset.citations.values()),
        referrals=tuple(
            f"{level}: {referral.code.compact(systems)} ({referral.priority})"
            for level, referral in ruleset.referrals.items()
        ),
        notes=tuple(
            (
                note.id,
                " ".join(note.text.split())
                + (
                    ""
                    if note.when is None
                    else f" (when {note_condition_in_words(note.when, ruleset)})"
                ),
            )
            for note in ruleset.notes
        ),
        red_flags=tuple(
            (flag.id or flag.concept or flag.finding or "", flag.label)
            for flag in ruleset.red_flags
        ),
        scenarios=None if scenarios is None else tuple(scenarios),
        findings=tuple(findings),
    )


def citation_entry(citation: Citation) -> CitationEntry:
    return CitationEntry(citation.id, citation.title, citation.section, citation.url)


def rule_entry(rule: Rule, ruleset: Ruleset) -> RuleEntry:
    """One rule of the page: its conditions and action in words, its cited sources."""
    action = rule.then
    proposals = action.proposals
    if not proposals and action.suggest is not None:
        proposals = next((lv.proposals for lv in ruleset.levels if lv.id == action.suggest), ())
    return RuleEntry(
        id=rule.id,
        title=rule.title,
        line=rule.line,
        conditions=tuple(top_lines(rule, ruleset)),
        then=then_in_words(rule, ruleset),
        level=action.suggest,
        level_title=next(
            (level.title for level in ruleset.levels if level.id == action.suggest), None
        ),
        summary=placeholders_in_words(action.summary, ruleset) if action.summary else None,
        detail=placeholders_in_words(action.detail, ruleset) if action.detail else None,
        proposals=tuple(proposal_text(p, ruleset) for p in proposals),
        citations=tuple(
            citation_entry(ruleset.citations[c]) for c in action.cite if c in ruleset.citations
        ),
        advice=advice_lines(rule, ruleset),
    )


def advice_lines(rule: Rule, ruleset: Ruleset) -> tuple[str, ...]:
    """A rule's referral, self-care advice and "Do now" instructions, in words."""
    action = rule.then
    systems = dict(ruleset.code_systems) or None
    lines: list[str] = []
    if action.referral is not None:
        code = action.referral.code.compact(systems)
        lines.append(f"Refers: {code} ({action.referral.priority})")
    for advice in action.advice:
        when = f" (when “{advice.finding}” is derived)" if advice.finding else ""
        lines.append(f"Advice{when}: {placeholders_in_words(advice.text, ruleset)}")
    for instruction in action.instructions:
        when = (
            f" (when {condition_in_words(instruction.when, ruleset)})"
            if instruction.when is not None
            else ""
        )
        lines.append(f"Do now{when}: {placeholders_in_words(instruction.text, ruleset)}")
    return tuple(lines)


def proposal_text(proposal: Proposal, ruleset: Ruleset) -> str:
    """A proposal in one line: its label, kind, priority, when it is due and its code."""
    systems = dict(ruleset.code_systems) or None
    parts: list[str] = [proposal.kind, proposal.priority]
    if isinstance(proposal.due, str):
        parts.append(f"due {proposal.due}")
    elif proposal.due is not None:
        parts.append(f"due within {proposal.due}")
    if proposal.when is not None:
        parts.append(f"when {condition_in_words(proposal.when, ruleset)}")
    text = f"{proposal.label} ({', '.join(parts)}; {proposal.code.compact(systems)})"
    if proposal.note:
        text += f": {placeholders_in_words(proposal.note, ruleset)}"
    return text


def used_systems(ruleset: Ruleset) -> tuple[tuple[str, str], ...]:
    """The code systems the ruleset's concepts use: (prefix, URI), the prefix as written."""
    prefixes = {uri: prefix for prefix, uri in dict(ruleset.code_systems).items()}
    for prefix, uri in DEFAULT_SYSTEMS.items():
        prefixes.setdefault(uri, prefix)
    seen = sorted(
        {
            code.system
            for concept in ruleset.concepts.values()
            for code in (*concept.codes, *concept.prefixes)
        }
    )
    return tuple((prefixes.get(uri, ""), uri) for uri in seen)
