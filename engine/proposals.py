"""The hit policy: which fired suggesting rules show their proposals, and the orders proposed.

Every fired suggesting rule stays in the Evaluation; `shown` says whether its proposals are
proposed. With `show: all` every rule's are; with `show: escalation` only those of rules at the
escalation level and of the policy's `always` rules. A rule at the first level (an information
rule) proposes nothing.

A proposal with a `reason` (a medication concept) becomes one order per drug group: the
concept's active records grouped by `Record.code` (when none is active, all its records up to
as_of), with the group's records as its reasons. Any other proposal's reasons are its rule's
evidence. With `merge`, one order per code (and drug group): the earliest due, the highest
priority, each distinct note once; without it, one per rule and code.

A rule that proposes nothing of its own but names a referral (a ruleset's `referrals:`) proposes
it as before levels had proposals: only at the escalation level, once per code at its most
pressing priority, whatever the policy.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, time
from typing import Literal
from zoneinfo import ZoneInfo

from .clock import Duration
from .evaluation import Proposed, Suggestion
from .model import Action, HitPolicy, Level, Priority, Proposal, Referral
from .records import Record

PRIORITIES: tuple[Priority, ...] = ("routine", "urgent", "asap", "stat")  # least pressing first


def rule_proposals(action: Action, level: Level, *, first: bool) -> tuple[Proposal, ...]:
    """What a rule at `level` proposes: its action's proposals, else its level's; nothing at
    the first level."""
    if first:
        return ()
    return action.proposals or level.proposals


def referral_proposal(referral: Referral) -> Proposal:
    """A referral as a proposal; its label is the referral's display (else its code)."""
    code = referral.code
    return Proposal(code, code.display or code.code, priority_of(referral.priority), "referral")


def priority_of(text: str) -> Priority:
    """`text` as a FHIR request priority; raises ValueError for another word."""
    for priority in PRIORITIES:
        if priority == text:
            return priority
    raise ValueError(f"{text!r} is not a request priority ({', '.join(PRIORITIES)})")


def due_at(due: Duration | Literal["today"] | None, as_of: datetime, zone: str) -> datetime | None:
    """When a proposal is due: `as_of` plus `due` (months and years on the calendar of
    `zone`), or for "today" 23:59:59 of the as_of date in `zone`."""
    if due is None:
        return None
    local = as_of.astimezone(ZoneInfo(zone))
    if due == "today":
        return datetime.combine(local.date(), time(23, 59, 59), tzinfo=local.tzinfo)
    fixed = due.fixed
    if fixed is not None:
        return as_of + fixed
    return Duration(-due.amount, due.unit).before(local)  # a negative amount counts forwards


def is_active(record: Record, as_of: datetime, zone: str) -> bool:
    """A medication record in use at `as_of`: status active and no end before as_of's date."""
    if record.status != "active":
        return False
    if record.end is None:
        return True
    tz = ZoneInfo(zone)
    return record.end.astimezone(tz).date() >= as_of.astimezone(tz).date()


def propose(
    suggestions: Sequence[Suggestion],
    escalation: str,
    policy: HitPolicy,
    as_of: datetime,
    *,
    zone: str = "UTC",
    records: Sequence[Record] = (),
) -> tuple[tuple[Suggestion, ...], tuple[Proposed, ...]]:
    """`suggestions` with `shown` set by the policy, and the orders they propose. `records` are
    the patient's records, read for the drug groups of medication reviews."""
    shown = tuple(
        replace(
            s,
            shown=policy.show == "all" or s.level == escalation or s.rule in policy.always,
        )
        for s in suggestions
    )
    orders: dict[Hashable, _Order] = {}
    for s in shown:
        if not s.shown:
            continue
        if not s.proposals:
            if s.referral is not None and s.level == escalation:
                order = _Order.of(referral_proposal(s.referral), None, s.evidence, s.rule)
                _add(orders, ("referral", s.referral.code.key), order)
            continue
        for proposal in s.proposals:
            due = due_at(proposal.due, as_of, zone)
            for group, reasons in _groups(proposal, s, records, as_of, zone):
                key: Hashable = (proposal.code.key, group)
                _add(
                    orders,
                    key if policy.merge else (s.rule, key),
                    _Order.of(proposal, due, reasons, s.rule),
                )
    return shown, tuple(o.proposed() for o in orders.values())


def _groups(
    proposal: Proposal,
    suggestion: Suggestion,
    records: Sequence[Record],
    as_of: datetime,
    zone: str,
) -> list[tuple[str | None, tuple[str, ...]]]:
    """(drug group, its record sources) for a medication review; one group of the rule's
    evidence otherwise, or when the reason concept has no records."""
    if proposal.reason is None:
        return [(None, suggestion.evidence)]
    mine = [
        r for r in records if r.concept == proposal.reason and (r.time is None or r.time <= as_of)
    ]
    active = [r for r in mine if is_active(r, as_of, zone)] or mine
    groups: dict[str, list[str]] = {}
    for r in active:
        sources = groups.setdefault(r.code or r.source, [])
        if r.source not in sources:
            sources.append(r.source)
    if not groups:
        return [(None, suggestion.evidence)]
    return [(group, tuple(groups[group])) for group in sorted(groups)]


@dataclass
class _Order:
    proposal: Proposal
    priority: Priority
    due: datetime | None
    notes: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)

    @classmethod
    def of(
        cls, proposal: Proposal, due: datetime | None, reasons: Sequence[str], rule: str
    ) -> _Order:
        notes = [proposal.note] if proposal.note else []
        return cls(proposal, proposal.priority, due, notes, list(reasons), [rule])

    def merge(self, other: _Order) -> None:
        if PRIORITIES.index(other.priority) > PRIORITIES.index(self.priority):
            self.priority = other.priority
        if other.due is not None and (self.due is None or other.due < self.due):
            self.due = other.due
        for mine, theirs in (
            (self.notes, other.notes),
            (self.reasons, other.reasons),
            (self.rules, other.rules),
        ):
            mine.extend(x for x in theirs if x not in mine)

    def proposed(self) -> Proposed:
        p = self.proposal
        return Proposed(
            code=p.code,
            label=p.label,
            kind=p.kind,
            priority=self.priority,
            due=self.due,
            notes=tuple(self.notes),
            reasons=tuple(self.reasons),
            rules=tuple(self.rules),
        )


def _add(orders: dict[Hashable, _Order], key: Hashable, order: _Order) -> None:
    known = orders.get(key)
    if known is None:
        orders[key] = order
    else:
        known.merge(order)
