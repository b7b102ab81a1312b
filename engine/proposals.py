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

A proposal's `if:` and `already:` conditions run inside durable_rules as hidden rules that only
derive a finding (`hidden_rules`, named by `hidden_finding`); the policy reads which were derived.
A proposal whose `if:` did not hold is left out; one whose `already:` held is reported as placed
(`Proposed.already`) instead of proposed. Below the escalation, an `always` rule limited to some
`kinds` shows only those. A `joins` proposal only adds its note to the same order proposed by
another rule. Orders of a `first` proposal lead, and its notes lead their order's.

`also` entries show rules of other levels at the escalations they name; a `hide` entry drops
its rules' proposals when another shown proposal orders its `if_shown` code. A merged order's
`text` is the note of its deciding proposal (highest priority, earliest due, rule order).

A rule that proposes nothing of its own but names a referral (a ruleset's `referrals:`) proposes
it as before levels had proposals: only at the escalation level, once per code at its most
pressing priority, whatever the policy.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal

from .clock import Duration, end_of_day, local_date, zone_of
from .evaluation import Proposed, Suggestion
from .levels import ladder
from .model import (
    Action,
    Hides,
    HitPolicy,
    Level,
    Priority,
    Proposal,
    Referral,
    Rule,
    Ruleset,
    Shows,
)
from .records import Record, is_active_on

HIDDEN = "$"  # in the id of a hidden rule and its finding: no rule id or finding may hold it
# a proposal's note filled in: for a drug group (or None), as the rule that proposed it read it
Fill = Callable[[str, str | None, str], str]


def hidden_finding(
    kind: Literal["proposal", "already", "instruction", "summary"], rule: str, n: int
) -> str:
    """The finding derived when the `if:` (kind "proposal") or `already:` condition of the
    n-th proposal of `rule` holds, or the `if:` of its n-th instruction or summary."""
    return f"{kind}{HIDDEN}{rule}{HIDDEN}{n}"


def is_hidden(name: str) -> bool:
    """Whether a rule id or finding is one of `hidden_rules`' (not shown to users)."""
    return HIDDEN in name


def hidden_rules(ruleset: Ruleset) -> tuple[Rule, ...]:
    """A derive-only rule for each proposal condition of the ruleset's suggesting rules."""
    levels = ladder(ruleset)
    hidden: list[Rule] = []
    for rule in ruleset.rules:
        level = rule.then.suggest
        if level is None or level not in levels:
            continue
        proposals = rule_proposals(rule.then, levels.level(level), first=levels.is_first(level))
        for n, proposal in enumerate(proposals):
            for kind, condition in (("proposal", proposal.when), ("already", proposal.already)):
                if condition is not None:
                    name = hidden_finding(kind, rule.id, n)  # type: ignore[arg-type]
                    hidden.append(Rule(name, name, condition, Action(derive=name), rule.line))
        for kind, said in (
            ("instruction", rule.then.instructions),
            ("summary", rule.then.summaries),
        ):
            for n, instruction in enumerate(said):
                if instruction.when is not None:
                    name = hidden_finding(kind, rule.id, n)  # type: ignore[arg-type]
                    hidden.append(
                        Rule(name, name, instruction.when, Action(derive=name), rule.line)
                    )
    return tuple(hidden)


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


def due_at(
    due: Duration | Literal["today", "now"] | None, as_of: datetime, zone: str
) -> datetime | None:
    """When a proposal is due: `as_of` plus `due` (months and years on the calendar of
    `zone`), `as_of` itself for "now", or for "today" 23:59:59 of the as_of date in `zone`."""
    if due is None:
        return None
    if due == "now":
        return as_of
    calendar = zone_of(zone)
    if due == "today":
        return end_of_day(as_of, calendar)
    fixed = due.fixed
    if fixed is not None:
        return as_of + fixed
    # a negative amount counts forwards
    return Duration(-due.amount, due.unit).before(as_of.astimezone(calendar))


def due_words(
    due: Duration | Literal["today", "now"] | None, at: datetime | None, zone: str
) -> str | None:
    """A due time as a card writes it: "now", "within 4 hours", "today", else "by" the local
    date of `at` (None when there is no due time)."""
    if at is None:
        return None
    if due == "now" or due == "today":
        return due
    if isinstance(due, Duration) and due.unit == "hours":
        return f"within {due}"
    return f"by {local_date(at, zone_of(zone)).isoformat()}"


def is_active(record: Record, as_of: datetime, zone: str) -> bool:
    """A medication record in use at `as_of`: status active and no end before as_of's date."""
    calendar = zone_of(zone)
    return is_active_on(record, local_date(as_of, calendar), calendar)


def propose(
    suggestions: Sequence[Suggestion],
    escalation: str,
    policy: HitPolicy,
    as_of: datetime,
    *,
    zone: str = "UTC",
    records: Sequence[Record] = (),
    derived: Mapping[str, Sequence[str]] | None = None,
    start_of: Callable[[str], datetime | None] | None = None,
    fill: Fill | None = None,
    rule_order: Sequence[str] | Mapping[str, int] = (),
) -> tuple[tuple[Suggestion, ...], tuple[Proposed, ...]]:
    """`suggestions` with `shown` set by the policy, and the orders they propose. `records` are
    the patient's records, read for the drug groups of medication reviews and the dates of
    orders already placed; `derived` the findings derived (name -> evidence sources);
    `start_of` a medication concept's latest start; `fill` fills a note's placeholders;
    `rule_order` the ruleset's rule ids in order (a merged order's tie-break), or each id's
    place in that order (worked out once for a ruleset)."""
    found: Mapping[str, Sequence[str]] = derived or {}
    shows = policy.shows()
    limits = [_showing(s, escalation, policy, shows) for s in suggestions]
    shown = tuple(
        replace(s, shown=limit is not None) for s, limit in zip(suggestions, limits, strict=True)
    )
    position = (
        rule_order
        if isinstance(rule_order, Mapping)
        else {rule: n for n, rule in enumerate(rule_order)}
    )
    orders: dict[Hashable, _Order] = {}
    candidates: list[tuple[Suggestion, int, Proposal]] = []
    for s, limit in zip(shown, limits, strict=True):
        if limit is None:
            continue
        if not s.proposals:
            if s.referral is not None and s.level == escalation:
                order = _Order.of(referral_proposal(s.referral), None, s.evidence, s.rule)
                _add(orders, ("referral", s.referral.code.key), order)
            continue
        for n, proposal in enumerate(s.proposals):
            if not _within(proposal, limit):
                continue
            if proposal.when is not None and hidden_finding("proposal", s.rule, n) not in found:
                continue
            candidates.append((s, n, proposal))
    gone = _hidden(candidates, policy.hide)
    for i, (s, n, proposal) in enumerate(candidates):
        if i in gone:
            continue
        placed = None
        if proposal.already is not None:
            evidence = found.get(hidden_finding("already", s.rule, n))
            if evidence is not None:
                placed = placed_text(proposal, evidence, records, zone)
        due, words = _due(proposal, as_of, zone, start_of)
        rank = (position.get(s.rule, len(position)), n)
        for group, reasons in _groups(proposal, s, records, as_of, zone):
            key: Hashable = (proposal.code.key, group)
            note = proposal.note and (fill(proposal.note, group, s.rule) if fill else proposal.note)
            order = _Order.of(
                replace(proposal, note=note), due, reasons, s.rule, placed, words=words, rank=rank
            )
            _add(orders, key if policy.merge else (s.rule, key), order)
    made = [o for o in orders.values() if not o.joins]
    made.sort(key=lambda o: not o.first)  # stable: the leading orders first, then as proposed
    return shown, tuple(o.proposed() for o in made)


Limit = tuple[Shows, ...]  # the entries a proposal must fit, any one of them; () for all


def _showing(
    s: Suggestion, escalation: str, policy: HitPolicy, shows: Sequence[Shows]
) -> Limit | None:
    """Which of the suggestion's proposals the policy shows: None for none of them (below the
    escalation, a rule none of whose proposals fits a limiting entry is not shown)."""
    if policy.show == "all" or s.level == escalation:
        return ()
    fits = tuple(
        e
        for e in shows
        if (not e.at or escalation in e.at) and (s.rule in e.rules or s.level in e.levels)
    )
    if not fits:
        return None
    if any(not e.kinds and not e.codes for e in fits):
        return ()
    return fits if any(_within(p, fits) for p in s.proposals) else None


def _within(proposal: Proposal, limit: Limit) -> bool:
    return not limit or any(
        (not e.kinds or proposal.kind in e.kinds) and (not e.codes or proposal.code.key in e.codes)
        for e in limit
    )


def _hidden(
    candidates: Sequence[tuple[Suggestion, int, Proposal]], hides: Sequence[Hides]
) -> set[int]:
    """The positions of the candidates a `hide` entry drops: those it names, when a candidate
    it does not name proposes its `if_shown` code."""
    gone: set[int] = set()
    for h in hides:
        named = {
            i
            for i, (s, _, p) in enumerate(candidates)
            if (not h.rules or s.rule in h.rules) and (not h.codes or p.code.key in h.codes)
        }
        if any(
            p.code.key == h.if_shown for i, (_, _, p) in enumerate(candidates) if i not in named
        ):
            gone |= named
    return gone


def placed_text(
    proposal: Proposal, evidence: Sequence[str], records: Sequence[Record], zone: str
) -> str:
    """What a card says of an order already placed: its `already_text` (default "<label>:
    already placed {date}") with {date} and {time} those of the latest dated record the
    `already:` condition matched (left out when none is dated)."""
    sources = set(evidence)
    times = [r.time for r in records if r.source in sources and r.time is not None]
    text = proposal.already_text or f"{proposal.label}: already placed {{date}}"
    if not times:
        return text.replace(" {date}", "").replace(" {time}", "")
    local = max(times).astimezone(zone_of(zone))
    return text.replace("{date}", local.date().isoformat()).replace(
        "{time}", local.strftime("%Y-%m-%d %H:%M")
    )


def _due(
    proposal: Proposal,
    as_of: datetime,
    zone: str,
    start_of: Callable[[str], datetime | None] | None,
) -> tuple[datetime | None, str | None]:
    """When the proposal is due, and in words; after a medicine's latest start when it says
    so, else (no active start, or that date has passed) `due_else` after as_of."""
    if proposal.due_after is None:
        due = due_at(proposal.due, as_of, zone)
        return due, due_words(proposal.due, due, zone)
    start = start_of(proposal.due_after) if start_of is not None else None
    due = due_at(proposal.due, start, zone) if start is not None else None
    if (due is None or due < as_of) and proposal.due_else is not None:
        due = due_at(proposal.due_else, as_of, zone)
        return due, due_words(proposal.due_else, due, zone)
    return due, due_words(None, due, zone)


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
    first: bool = False
    joins: bool = False  # every proposal of the order only joins another's
    already: str | None = None
    text: str | None = None  # the note of the proposal that sets the priority
    due_words: str | None = None  # those of the earliest due
    decider: tuple[bool, int, float, tuple[int, int]] = (False, 0, 0.0, (0, 0))

    @classmethod
    def of(
        cls,
        proposal: Proposal,
        due: datetime | None,
        reasons: Sequence[str],
        rule: str,
        already: str | None = None,
        *,
        words: str | None = None,
        rank: tuple[int, int] = (0, 0),
    ) -> _Order:
        """`rank`: the proposal's rule's place in the ruleset and its place in the rule."""
        notes = [proposal.note] if proposal.note else []
        stamp = due.timestamp() if due is not None else float("inf")
        priority = -PRIORITIES.index(proposal.priority)
        return cls(
            proposal,
            proposal.priority,
            due,
            notes,
            list(reasons),
            [rule],
            proposal.first,
            proposal.joins,
            already,
            proposal.note,
            words,
            (proposal.joins, priority, stamp, rank),
        )

    def merge(self, other: _Order) -> None:
        # the text is the deciding proposal's (a joiner's only when every proposal joins):
        # the highest priority, the earliest due, the first in rule order
        if other.decider < self.decider:
            self.text, self.decider = other.text, other.decider
        if PRIORITIES.index(other.priority) > PRIORITIES.index(self.priority):
            self.priority = other.priority
        if other.due is not None and (self.due is None or other.due < self.due):
            self.due, self.due_words = other.due, other.due_words
        if self.joins and not other.joins:
            self.proposal = other.proposal  # the order's own label and kind, not the joiner's
        self.joins = self.joins and other.joins
        self.already = self.already or other.already
        if other.first and not self.first:
            self.notes[:0] = [n for n in other.notes if n not in self.notes]
            self.first = True
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
            already=self.already,
            text=self.text,
            due_words=self.due_words,
        )


def _add(orders: dict[Hashable, _Order], key: Hashable, order: _Order) -> None:
    known = orders.get(key)
    if known is None:
        orders[key] = order
    else:
        known.merge(order)
