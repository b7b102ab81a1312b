"""An engine Evaluation as CDS Hooks 2.0 cards.

One card per patient, not one per suggestion: a clinician sees the patient's escalation once, with
every reason behind it in the detail. The card's indicator is the escalation level's (the
ruleset's `levels`); at the first level ("nothing to do") there is no card, unless an information
rule fired: then an info card gives its text and proposes nothing. The reasons whose proposals
the hit policy shows come first under "Why", the others under "Also noted". Each order the
evaluation proposes is a draft R4 ServiceRequest (its `label` the button's words, its due time
`occurrencePeriod.end`), validated with fhir.resources; an order already placed is no button
but a line under "Already placed" ("U&E requested 2026-12-06"); the notes the ruleset shows
for the patient follow under "Notes", one line each, in the ruleset's order. The detail ends
with the data left out or in doubt (the Evaluation's warnings, the first five in full), so the
clinician knows what the rules did not read. Apart from the uuids, one Evaluation always gives
the same cards.

An Evaluation built by hand without levels has them implied from its suggestions (as a ruleset
that declares none, `engine.levels`) and, when it carries no proposals, its suggestions'
proposals under the default hit policy.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from fhir.resources.R4B.servicerequest import ServiceRequest

from engine.evaluation import DataWarning, Evaluation, Proposed, RedFlagCheck, Suggestion
from engine.levels import Ladder, implied_levels
from engine.model import Citation, HitPolicy, Level, Referral
from engine.proposals import propose, referral_proposal
from engine.red_flags import state_words

from .card_models import Action, Card, Coding, Indicator, Link, Source
from .card_models import Suggestion as CardSuggestion

SUMMARY_LIMIT = 139
WARNINGS_SHOWN = 5
OVERRIDE_REASON_SYSTEM = "https://vigil-cds.org/fhir/CodeSystem/override-reason"
OVERRIDE_REASONS: tuple[tuple[str, str], ...] = (
    ("already-addressed", "Already addressed"),
    ("not-clinically-relevant", "Not clinically relevant for this patient"),
    ("patient-declined", "Patient declined"),
    ("data-incorrect", "The data behind this card is incorrect"),
)

NewId = Callable[[], str]


def _uuid4() -> str:
    return str(uuid.uuid4())


def indicator_for(level: str, levels: Sequence[Level] = ()) -> Indicator | None:
    """The card indicator of an escalation level among `levels`; None for the first level (no
    card unless an information rule fired) and for a level not among them."""
    ladder = Ladder(tuple(levels) or implied_levels((), {}))
    if level not in ladder or ladder.is_first(level):
        return None
    return ladder.level(level).indicator


def build_cards(evaluation: Evaluation, patient: str, new_id: NewId = _uuid4) -> list[Card]:
    """The cards of one patient's evaluation (`patient` is `Patient/<id>`); empty if none apply."""
    levels = _ladder(evaluation)
    escalation = evaluation.escalation
    if escalation not in levels or not evaluation.suggestions:
        return []
    reasons = sorted(evaluation.suggestions, key=lambda s: -levels.rank(s.level))
    if levels.is_first(escalation):
        indicator: Indicator = "info"  # only information rules fired
    else:
        indicator = levels.level(escalation).indicator
    shown = [s for s in reasons if s.shown]
    top = (shown or reasons)[0]
    orders = [o for o in _orders(evaluation, levels) if o.already is None]
    suggestions = [
        _order_suggestion(order, patient, new_id, recommended=i == 0)
        for i, order in enumerate(orders)
    ]
    citations = _citations(reasons)
    links = [
        Link(label=c.label, url=c.url, type="absolute")  # type: ignore[arg-type]
        for c in citations
        if c.url
    ]
    text = evaluation.card
    card = Card(
        uuid=new_id(),
        summary=_clip(text.title if text is not None else top.summary),
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


def service_request(
    order: Proposed | Referral, patient: str, evidence: Sequence[str] = ()
) -> dict[str, Any]:
    """A draft R4 ServiceRequest proposing `order` (a referral: with `evidence` as its reasons),
    validated by fhir.resources."""
    if isinstance(order, Referral):
        p = referral_proposal(order)
        order = Proposed(p.code, p.label, p.kind, p.priority, None, (), tuple(evidence), ())
    coding: dict[str, Any] = {"system": order.code.system, "code": order.code.code}
    if order.code.display:
        coding["display"] = order.code.display
    data: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "status": "draft",
        "intent": "proposal",
        "priority": order.priority,
        "code": {"coding": [coding], "text": order.label},
        "subject": {"reference": patient},
    }
    if order.due is not None:
        data["occurrencePeriod"] = {"end": order.due.isoformat()}
    if order.notes:
        data["note"] = [{"text": note} for note in order.notes]
    if order.reasons:
        data["reasonReference"] = [{"reference": ref} for ref in order.reasons]
    ServiceRequest.model_validate(data)  # raises if the order is not a valid R4 resource
    return data


def card_detail(
    evaluation: Evaluation, reasons: Sequence[Suggestion], citations: Sequence[Citation]
) -> str:
    """The card's markdown: the reasons (those the hit policy shows, then the others as also
    noted), the orders already placed, the ruleset's notes shown (in its order), the advice,
    the red flags checked, the data left out or in doubt, the sources."""
    if evaluation.card is not None:  # the ruleset writes the card's text: it leads, as written
        return _written_detail(evaluation, reasons, citations)
    parts: list[str] = [_inline(evaluation.do_now)] if evaluation.do_now else []
    parts.append("### Why")
    shown = [s for s in reasons if s.shown]
    noted = [s for s in reasons if not s.shown]
    for n, s in enumerate(shown or noted, 1):
        parts.append(_reason(n, s))
    if shown and noted:
        parts.append("### Also noted")
        parts.extend(_reason(n, s) for n, s in enumerate(noted, len(shown) + 1))
    parts.extend(_placed(evaluation))
    if evaluation.notes:  # the ruleset's card notes, in its order
        parts.append("### Notes")
        parts.append("\n".join(f"- {_plain(note.text)}" for note in evaluation.notes))
    parts.extend(_helping(reasons))
    if evaluation.red_flags:  # a self-care card shows what was checked and found absent, too
        parts.append("### Red flags checked")
        parts.append(_red_flag_table(evaluation.red_flags))
    return "\n\n".join([*parts, *_closing(evaluation, citations)])


def _written_detail(
    evaluation: Evaluation, reasons: Sequence[Suggestion], citations: Sequence[Citation]
) -> str:
    """The card's lines (`engine.card_text`) as paragraphs, its text escaped, then the reasons
    in full, the orders already placed, the rules' advice, every red flag's state, the data
    left out or in doubt and the sources."""
    assert evaluation.card is not None
    parts = [_plain(line) for line in evaluation.card.lines]
    parts.append("### Why")
    parts.extend(_reason(n, s) for n, s in enumerate(reasons, 1))
    parts.extend(_placed(evaluation))
    parts.extend(_helping(reasons))
    if evaluation.red_flags:
        parts.append("### Red flags checked")
        parts.append(_red_flag_table(evaluation.red_flags))
    return "\n\n".join([*parts, *_closing(evaluation, citations)])


def _placed(evaluation: Evaluation) -> list[str]:
    """The orders already placed, which no button proposes again: said instead."""
    placed = [p.already for p in evaluation.proposals if p.already is not None]
    if not placed or _ladder(evaluation).is_first(evaluation.escalation):
        return []
    return ["### Already placed", "\n".join(f"- {_inline(text)}" for text in placed)]


def _helping(reasons: Sequence[Suggestion]) -> list[str]:
    """The fired rules' advice, under "What may help"."""
    advice = _advice(reasons)
    if not advice:
        return []
    return ["### What may help", "\n".join(f"- {_inline(a)}" for a in advice)]


def _closing(evaluation: Evaluation, citations: Sequence[Citation]) -> list[str]:
    """The data left out or in doubt, the sources, and the ruleset's name and data time."""
    parts: list[str] = []
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
    return parts


def _reason(n: int, s: Suggestion) -> str:
    head = f"**{n}. {_inline(s.summary)}** ({s.level}; rule `{s.rule}`)"
    return f"{head}\n\n{s.detail.strip()}" if s.detail.strip() else head


def _ladder(evaluation: Evaluation) -> Ladder:
    if evaluation.levels:
        return Ladder(evaluation.levels)
    named = [*(s.level for s in evaluation.suggestions), evaluation.escalation]
    referrals = {s.level: s.referral for s in evaluation.suggestions if s.referral is not None}
    return Ladder(implied_levels(named, referrals))


def _orders(evaluation: Evaluation, levels: Ladder) -> tuple[Proposed, ...]:
    """The evaluation's proposals; for one built by hand without levels or proposals, its
    suggestions' under the default hit policy. None at the first level."""
    if levels.is_first(evaluation.escalation):
        return ()
    if evaluation.proposals or evaluation.levels:
        return evaluation.proposals
    _, orders = propose(
        evaluation.suggestions, evaluation.escalation, HitPolicy(), evaluation.as_of
    )
    return orders


def _order_suggestion(
    order: Proposed, patient: str, new_id: NewId, recommended: bool
) -> CardSuggestion:
    due = f", due {order.due.date().isoformat()}" if order.due is not None else ""
    return CardSuggestion(
        label=_clip(order.label, 80),
        uuid=new_id(),
        isRecommended=True if recommended else None,
        actions=[
            Action(
                type="create",
                description=_clip(
                    f"Draft ServiceRequest: {order.label}, priority {order.priority}{due}", 200
                ),
                resource=service_request(order, patient),
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
        rows.append(f"| {_cell(check.label)} | {state_words(check)} | {evidence} |")
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
