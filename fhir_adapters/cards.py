"""An engine Evaluation as CDS Hooks 2.0 cards.

One card per patient, not one per suggestion: a clinician sees the patient's escalation once, with
every reason behind it in the detail. The card's indicator follows the escalation (self-care ->
info, primary-care and neurology -> warning, urgent -> critical); from primary-care up it lists the
red flags checked and offers each distinct referral the reasons name as a draft R4 ServiceRequest,
validated with fhir.resources. The detail ends with the data left out or in doubt (the
Evaluation's warnings, the first five in full), so the clinician knows what the rules did not
read. Apart from the uuids, one Evaluation always gives the same cards.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from fhir.resources.R4B.servicerequest import ServiceRequest

from engine.evaluation import DataWarning, Evaluation, RedFlagCheck, Suggestion
from engine.levels import rank
from engine.model import Citation, Referral

from .cds_hooks.models import Action, Card, Coding, Indicator, Link, Source
from .cds_hooks.models import Suggestion as CardSuggestion

SUMMARY_LIMIT = 139
WARNINGS_SHOWN = 5
OVERRIDE_REASON_SYSTEM = "https://vigil-cds.org/fhir/CodeSystem/override-reason"
OVERRIDE_REASONS: tuple[tuple[str, str], ...] = (
    ("already-addressed", "Already addressed"),
    ("not-clinically-relevant", "Not clinically relevant for this patient"),
    ("patient-declined", "Patient declined"),
    ("data-incorrect", "The data behind this card is incorrect"),
)
_INDICATOR: dict[str, Indicator] = {
    "self-care": "info",
    "primary-care": "warning",
    "neurology": "warning",
    "urgent": "critical",
}

NewId = Callable[[], str]
_PRIORITY = ("routine", "urgent", "asap", "stat")  # FHIR request priority, least pressing first


def _uuid4() -> str:
    return str(uuid.uuid4())


def indicator_for(level: str) -> Indicator | None:
    """The card indicator of an escalation level; None for `none` (no card)."""
    return _INDICATOR.get(level)


def build_cards(evaluation: Evaluation, patient: str, new_id: NewId = _uuid4) -> list[Card]:
    """The cards of one patient's evaluation (`patient` is `Patient/<id>`); empty if none apply."""
    indicator = indicator_for(evaluation.escalation)
    if indicator is None or not evaluation.suggestions:
        return []
    reasons = _by_level(evaluation.suggestions)
    top = reasons[0]
    referrals = _referrals(reasons) if rank(evaluation.escalation) >= rank("primary-care") else []
    suggestions = [
        _referral_suggestion(referral, evidence, patient, new_id, recommended=i == 0)
        for i, (referral, evidence) in enumerate(referrals)
    ]
    citations = _citations(reasons)
    links = [
        Link(label=c.label, url=c.url, type="absolute")  # type: ignore[arg-type]
        for c in citations
        if c.url
    ]
    card = Card(
        uuid=new_id(),
        summary=_clip(top.summary),
        detail=card_detail(evaluation, reasons, citations),
        indicator=indicator,
        source=_source(evaluation, top),
        suggestions=suggestions or None,
        selectionBehavior="any" if suggestions else None,
        overrideReasons=[
            Coding(system=OVERRIDE_REASON_SYSTEM, code=code, display=display)
            for code, display in OVERRIDE_REASONS
        ]
        if suggestions
        else None,
        links=links or None,
    )
    return [card]


def cards_json(
    evaluation: Evaluation, patient: str, new_id: NewId = _uuid4
) -> list[dict[str, Any]]:
    """`build_cards`, serialised for a CDS Hooks response (null and empty fields omitted)."""
    return [card.dump() for card in build_cards(evaluation, patient, new_id)]


def service_request(referral: Referral, patient: str, evidence: Sequence[str]) -> dict[str, Any]:
    """A draft R4 ServiceRequest proposing `referral`, validated by fhir.resources."""
    code: dict[str, Any] = {"system": referral.code.system, "code": referral.code.code}
    if referral.code.display:
        code["display"] = referral.code.display
    concept: dict[str, Any] = {"coding": [code]}
    if referral.code.display:
        concept["text"] = referral.code.display
    data: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "status": "draft",
        "intent": "proposal",
        "priority": referral.priority,
        "code": concept,
        "subject": {"reference": patient},
    }
    if evidence:
        data["reasonReference"] = [{"reference": ref} for ref in evidence]
    ServiceRequest.model_validate(data)  # raises if the referral is not a valid R4 resource
    return data


def card_detail(
    evaluation: Evaluation, reasons: Sequence[Suggestion], citations: Sequence[Citation]
) -> str:
    """The card's markdown: the reasons, the red flags checked (primary-care up), the data left
    out or in doubt, the sources."""
    parts: list[str] = ["### Why"]
    for n, s in enumerate(reasons, 1):
        parts.append(f"**{n}. {_inline(s.summary)}** ({s.level}; rule `{s.rule}`)")
        if s.detail.strip():
            parts.append(s.detail.strip())
    advice = _advice(reasons)
    if advice:
        parts.append("### What may help")
        parts.append("\n".join(f"- {_inline(a)}" for a in advice))
    if evaluation.red_flags:  # a self-care card shows what was checked and found absent, too
        parts.append("### Red flags checked")
        parts.append(_red_flag_table(evaluation.red_flags))
    if evaluation.warnings:
        parts.append("### Data not used, or in doubt")
        parts.append(_warning_list(evaluation.warnings))
    if citations:
        parts.append("### Sources")
        parts.append("\n".join(f"- {_citation_md(c)}" for c in citations))
    identity = evaluation.ruleset
    parts.append(
        f"_{_inline(identity.title or identity.id)} {identity.version}, "
        f"data as of {evaluation.as_of.date().isoformat()}_"
    )
    return "\n\n".join(parts)


def _by_level(suggestions: Sequence[Suggestion]) -> list[Suggestion]:
    """Highest level first; the engine's order within a level."""
    return sorted(suggestions, key=lambda s: -rank(s.level))


def _referrals(reasons: Sequence[Suggestion]) -> list[tuple[Referral, tuple[str, ...]]]:
    """The referrals of the escalation level's reasons, each service once at its most pressing
    priority, with the evidence of every reason behind it. A lower level's referral is left out:
    a routine GP review beside an urgent one would only ask the clinician to choose twice."""
    top = reasons[0].level
    found: dict[tuple[str, str], tuple[Referral, list[str]]] = {}
    for s in reasons:
        if s.referral is None or s.level != top or rank(s.level) < rank("primary-care"):
            continue
        key = s.referral.code.key
        referral, evidence = found.setdefault(key, (s.referral, []))
        if _PRIORITY.index(s.referral.priority) > _PRIORITY.index(referral.priority):
            found[key] = (s.referral, evidence)
        evidence.extend(ref for ref in s.evidence if ref not in evidence)
    return [(referral, tuple(evidence)) for referral, evidence in found.values()]


def _referral_suggestion(
    referral: Referral, evidence: tuple[str, ...], patient: str, new_id: NewId, recommended: bool
) -> CardSuggestion:
    name = referral.code.display or referral.code.code
    label = _clip(f"Propose: {name} ({referral.priority})", 80)
    return CardSuggestion(
        label=label,
        uuid=new_id(),
        isRecommended=True if recommended else None,
        actions=[
            Action(
                type="create",
                description=_clip(
                    f"Draft ServiceRequest: {name}, priority {referral.priority}", 200
                ),
                resource=service_request(referral, patient, evidence),
            )
        ],
    )


def _citations(reasons: Sequence[Suggestion]) -> list[Citation]:
    seen: dict[str, Citation] = {}
    for s in reasons:
        for c in s.citations:
            seen.setdefault(c.id, c)
    return list(seen.values())


def _advice(reasons: Sequence[Suggestion]) -> list[str]:
    out: list[str] = []
    for s in reasons:
        out.extend(a for a in s.advice if a not in out)
    return out


def _source(evaluation: Evaluation, top: Suggestion) -> Source:
    identity = evaluation.ruleset
    label = f"Vigil: {identity.title or identity.id} {identity.version}"
    cited = top.citations[0] if top.citations else None
    if cited is not None:
        label = f"{label}; {cited.label}"
    url = cited.url if cited is not None and cited.url else None
    return Source(label=_clip(label, 200), url=url)  # type: ignore[arg-type]


def _red_flag_table(checks: Sequence[RedFlagCheck]) -> str:
    rows = ["| Red flag | Status | Evidence |", "| --- | --- | --- |"]
    for check in checks:
        evidence = ", ".join(f"`{ref}`" for ref in check.evidence) or "-"
        rows.append(f"| {_cell(check.label)} | {check.status} | {evidence} |")
    return "\n".join(rows)


def _citation_md(c: Citation) -> str:
    return f"[{_inline(c.label)}]({c.url})" if c.url else _inline(c.label)


def _inline(text: str) -> str:
    return " ".join(text.split())


_MARKDOWN = re.compile(r"([\\`*_{}\[\]()<>#+!|~-])")


def _plain(text: str) -> str:
    """Text from the patient's data, shown as written: no markdown of its own (a unit string
    cannot become a link on the card), and a lone surrogate (a JSON escape that is no character,
    which no card can carry) as `\\udcff`, as the CLI's table shows it."""
    if not text.isascii():
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return _MARKDOWN.sub(r"\\\1", _inline(text))


def _warning_list(warnings: Sequence[DataWarning]) -> str:
    """What the clinician should know was left out or ambiguous, the first few in full."""
    shown = [
        f"- {_plain(w.source)}: {_plain(w.message)}" if w.source else f"- {_plain(w.message)}"
        for w in warnings[:WARNINGS_SHOWN]
    ]
    more = len(warnings) - WARNINGS_SHOWN
    if more > 0:
        shown.append(f"- and {more} more")
    return "\n".join(shown)


def _cell(text: str) -> str:
    return _inline(text).replace("|", "\\|")


def _clip(text: str, limit: int = SUMMARY_LIMIT) -> str:
    text = _inline(text)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


__all__ = ["build_cards", "card_detail", "cards_json", "indicator_for", "service_request"]
