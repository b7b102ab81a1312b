"""The result of evaluating one patient: escalation, suggestions, findings, trace, warnings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from .codes import Code
from .model import Citation, Level, Priority, Proposal, Referral

# `present`, `absent`, `not-recorded`, or a present state a ruleset names (`examined`)
RedFlagStatus = str


@dataclass(frozen=True, slots=True)
class DataWarning:
    """Data the engine could not use, and why; `source` names the resource (`Observation/x`)."""

    message: str
    source: str | None = None

    def __str__(self) -> str:
        return f"{self.source}: {self.message}" if self.source else self.message


@dataclass(frozen=True, slots=True)
class Matched:
    """A fact a rule matched: a concept summary or a derived finding, with the values it used."""

    kind: Literal["concept", "finding"]
    name: str
    values: tuple[
        tuple[str, str], ...
    ]  # (attribute, value with unit), e.g. ("latest", "3.1 mmol/L")
    sources: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Firing:
    """One rule firing, in firing order."""

    order: int
    rule: str
    title: str
    matched: tuple[Matched, ...]
    derived: str | None = None
    suggested: str | None = None


@dataclass(frozen=True, slots=True)
class Finding:
    name: str
    rule: str
    evidence: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RedFlagCheck:
    """A red flag's state (`engine.red_flags`), the records behind it, and `date`: the local
    date of the latest of them (for `absent`, of the latest absent record), None if undated.
    `assessable`: the flag can be recorded absent (a derived one cannot)."""

    label: str
    status: RedFlagStatus
    evidence: tuple[str, ...] = ()
    id: str = ""
    date: date | None = None
    assessable: bool = True  # it can be recorded absent (a derived flag cannot)


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A fired suggesting rule. `shown` says whether the hit policy shows its proposals (the
    others are "also noted"); `proposals` are the rule's own (its action's, else its referral's,
    else its level's; none at the first level)."""

    rule: str
    level: str
    summary: str
    detail: str
    evidence: tuple[str, ...]
    citations: tuple[Citation, ...] = ()
    referral: Referral | None = None
    advice: tuple[str, ...] = ()
    shown: bool = True
    proposals: tuple[Proposal, ...] = ()


@dataclass(frozen=True, slots=True)
class Proposed:
    """An order to propose, after the hit policy: `due` is when it is due (None: no date),
    `reasons` the records behind it (a medication review's: its drug group's records), `rules`
    the rules that proposed it, `notes` each distinct note once, in the rules' order.
    `already`: the order is placed already (what the card says instead of proposing it).
    `text`: the note of the proposal that set the priority (its "Do now" text); `due_words`:
    the due as a card writes it ("now", "within 4 hours", "today", "by 2026-07-15")."""

    code: Code
    label: str
    kind: str
    priority: Priority
    due: datetime | None
    notes: tuple[str, ...]
    reasons: tuple[str, ...]
    rules: tuple[str, ...]
    already: str | None = None
    text: str | None = None
    due_words: str | None = None


@dataclass(frozen=True, slots=True)
class ShownNote:
    """A card note shown for this patient: its id in the ruleset and its text, filled in."""

    id: str
    text: str


@dataclass(frozen=True, slots=True)
class CardText:
    """A card's text as the ruleset's `card:` writes it: its title and its lines, in order."""

    title: str
    lines: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RulesetIdentity:
    id: str
    version: str
    content_hash: str
    title: str = ""


@dataclass(frozen=True)
class Evaluation:
    ruleset: RulesetIdentity
    as_of: datetime
    escalation: str
    suggestions: tuple[Suggestion, ...]
    findings: tuple[Finding, ...]
    trace: tuple[Firing, ...]
    warnings: tuple[DataWarning, ...]
    red_flags: tuple[RedFlagCheck, ...] = ()
    # the ruleset's levels, lowest first (empty in an Evaluation built by hand)
    levels: tuple[Level, ...] = ()
    proposals: tuple[Proposed, ...] = ()
    # the card's "Do now" line (None when no suggesting rule fired)
    do_now: str | None = None
    notes: tuple[ShownNote, ...] = ()  # the ruleset's card notes shown, in its order
    card: CardText | None = None  # the card's text, when the ruleset writes one (`card:`)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; keys and order are stable."""
        return {
            "ruleset": {
                "id": self.ruleset.id,
                "version": self.ruleset.version,
                "hash": self.ruleset.content_hash,
            },
            "as_of": self.as_of.isoformat(),
            "escalation": self.escalation,
            "suggestions": [_suggestion_dict(s) for s in self.suggestions],
            "proposals": [proposed_dict(p) for p in self.proposals],
            "do_now": self.do_now,
            "notes": [note_dict(n) for n in self.notes],
            **({"card": card_dict(self.card)} if self.card is not None else {}),
            "findings": [
                {"name": f.name, "rule": f.rule, "evidence": list(f.evidence)}
                for f in self.findings
            ],
            "red_flags": [red_flag_dict(r) for r in self.red_flags],
            "trace": [_firing_dict(f) for f in self.trace],
            "warnings": [_warning_dict(w) for w in self.warnings],
        }


def red_flag_dict(r: RedFlagCheck) -> dict[str, Any]:
    """A red flag's state, JSON-ready; keys and order are stable (`date`: YYYY-MM-DD or null)."""
    return {
        "id": r.id,
        "label": r.label,
        "state": r.status,
        "date": r.date.isoformat() if r.date is not None else None,
        "assessable": r.assessable,
        "evidence": list(r.evidence),
    }


def _suggestion_dict(s: Suggestion) -> dict[str, Any]:
    out: dict[str, Any] = {
        "rule": s.rule,
        "level": s.level,
        "summary": s.summary,
        "detail": s.detail,
        "shown": s.shown,
        "evidence": list(s.evidence),
        "citations": [
            {k: v for k, v in (("title", c.title), ("section", c.section), ("url", c.url)) if v}
            for c in s.citations
        ],
    }
    if s.referral is not None:
        out["referral"] = {
            "system": s.referral.code.system,
            "code": s.referral.code.code,
            "display": s.referral.code.display,
            "priority": s.referral.priority,
        }
    if s.advice:
        out["advice"] = list(s.advice)
    return out


def proposed_dict(p: Proposed) -> dict[str, Any]:
    """A proposed order, JSON-ready; keys and order are stable."""
    out: dict[str, Any] = {"system": p.code.system, "code": p.code.code}
    if p.code.display:
        out["display"] = p.code.display
    out.update(label=p.label, kind=p.kind, priority=p.priority)
    if p.due is not None:
        out["due"] = p.due.isoformat()
    if p.due_words is not None:
        out["due_words"] = p.due_words
    if p.notes:
        out["notes"] = list(p.notes)
    if p.text is not None:
        out["text"] = p.text
    out.update(reasons=list(p.reasons), rules=list(p.rules))
    if p.already is not None:
        out["already"] = p.already
    return out


def card_dict(card: CardText) -> dict[str, Any]:
    """A card's text, JSON-ready: `{title, lines}`."""
    return {"title": card.title, "lines": list(card.lines)}


def note_dict(note: ShownNote) -> dict[str, str]:
    """A shown card note, JSON-ready."""
    return {"id": note.id, "text": note.text}


def _firing_dict(f: Firing) -> dict[str, Any]:
    out: dict[str, Any] = {
        "order": f.order,
        "rule": f.rule,
        "title": f.title,
        "matched": [
            {"kind": m.kind, "name": m.name, "values": dict(m.values), "sources": list(m.sources)}
            for m in f.matched
        ],
    }
    if f.derived:
        out["derived"] = f.derived
    if f.suggested:
        out["suggested"] = f.suggested
    return out


def _warning_dict(w: DataWarning) -> dict[str, Any]:
    return {"source": w.source, "message": w.message} if w.source else {"message": w.message}
