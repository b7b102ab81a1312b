"""The card's "Do now" line: the orders the hit policy shows, in the order to act on them.

`Do now: ` then each order proposed (not one already placed) as `<text> [<due words>]`, joined
by "; ": the orders of rules at the escalation level first, then the others; then by priority
(stat, asap, urgent, routine); then by due, earliest first; then by the ruleset's rule order
and each rule's order of proposals. An order's text is its deciding proposal's note, else its
label. When no order is shown, the instruction of the rule that heads the card (the first
fired rule at the escalation level, in rule order), else `NO_ORDER`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence

from .evaluation import Proposed, Suggestion
from .model import Ruleset
from .proposals import PRIORITIES, hidden_finding

NO_ORDER = "No order proposed"
PREFIX = "Do now: "


def do_now(
    ruleset: Ruleset,
    suggestions: Sequence[Suggestion],
    proposals: Sequence[Proposed],
    escalation: str,
    fill: Callable[[str], str] | None = None,
    derived: Collection[str] = (),
    order: Mapping[str, int] | None = None,
) -> str | None:
    """The "Do now" line of one evaluation; None when no suggesting rule fired. `fill` fills
    an instruction's placeholders; `derived` names the findings derived (an instruction's
    `if:` held when its hidden finding is among them); `order` each rule id's place in the
    ruleset's rules (worked out once for a ruleset; None works it out)."""
    if not suggestions:
        return None
    if order is None:
        order = {rule.id: n for n, rule in enumerate(ruleset.rules)}
    fired = {s.rule: s for s in suggestions}
    shown = [p for p in proposals if p.already is None]
    if shown:

        def key(p: Proposed) -> tuple[bool, int, float, tuple[int, int]]:
            at_level = any(fired[r].level == escalation for r in p.rules if r in fired)
            due = p.due.timestamp() if p.due is not None else float("inf")  # undated: last
            place = min(_place(p, fired.get(r), order.get(r, len(order))) for r in p.rules)
            return (not at_level, -PRIORITIES.index(p.priority), due, place)

        return PREFIX + "; ".join(_item(p) for p in sorted(shown, key=key))
    heads = [s for s in suggestions if s.level == escalation] or list(suggestions)
    title = min(heads, key=lambda s: order.get(s.rule, len(order)))
    place = order.get(title.rule)
    rule = ruleset.rules[place] if place is not None else None
    said = [
        i.text
        for n, i in enumerate(rule.then.instructions if rule is not None else ())
        if i.when is None or hidden_finding("instruction", title.rule, n) in derived
    ]
    if not said:
        return PREFIX + NO_ORDER
    return PREFIX + _one_line(fill(said[0]) if fill else said[0])


def _item(p: Proposed) -> str:
    text = _one_line(p.text or p.label)
    return f"{text} [{p.due_words}]" if p.due_words else text


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _place(p: Proposed, s: Suggestion | None, rank: int) -> tuple[int, int]:
    """The rule's place, and the place of its first proposal of the order's code."""
    if s is None:
        return (rank, 0)
    n = next((n for n, q in enumerate(s.proposals) if q.code.key == p.code.key), 0)
    return (rank, n)
