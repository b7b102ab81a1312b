"""What a scenario expected against what its ruleset gave, one expectation key at a time.

`differences` returns a `Difference` for each key of the scenario's `expect:` block that does
not hold, in the block's order, with both sides in words a clinician reads and `value`: what
the key would say for the expectation to hold now (what `vigil test --update` writes).
"""

from __future__ import annotations

from dataclasses import dataclass

from engine import Evaluation
from fhir_adapters.scenarios import Expectation

# what a key would be set to for it to hold: a level, rule ids, note ids or texts, evidence
Value = str | tuple[str, ...] | dict[str, str | tuple[str, ...]] | None


@dataclass(frozen=True, slots=True)
class Difference:
    """One expectation that does not hold: its `key` in `expect:`, both sides in words, and
    `value`, what the key would be for it to hold (None: the key would go)."""

    key: str
    expected: str
    got: str
    value: Value

    def to_dict(self) -> dict[str, str]:
        return {"key": self.key, "expected": self.expected, "got": self.got}


def listed(items: tuple[str, ...] | list[str], empty: str = "none") -> str:
    """Ids or texts as a list a person reads: `a, b`, or `empty`."""
    return ", ".join(items) or empty


def rules(items: tuple[str, ...] | list[str]) -> str:
    """Rule ids as a list a person reads: `a, b`, or `no rule`."""
    return listed(items, "no rule")


def differences(expect: Expectation, evaluation: Evaluation) -> list[Difference]:
    """Each expectation of `expect` that `evaluation` does not meet, in `expect:` key order."""
    fired = tuple(s.rule for s in evaluation.suggestions)
    shown: dict[str, list[str]] = {}
    for line in evaluation.notes:
        shown.setdefault(line.id, []).append(line.text)
    warnings = [str(w) for w in evaluation.warnings]
    found: list[Difference] = []
    if expect.escalation is not None and evaluation.escalation != expect.escalation:
        got = f"{evaluation.escalation} (suggested by: {rules(fired)})"
        found.append(Difference("escalation", expect.escalation, got, evaluation.escalation))
    if not set(expect.fired) <= set(fired):
        missing = [r for r in expect.fired if r not in fired]
        found.append(
            Difference(
                "fired",
                rules(expect.fired),
                f"{rules(fired)} ({listed(missing)} did not fire)",
                fired,
            )
        )
    if expect.fired_exactly is not None and set(fired) != set(expect.fired_exactly):
        missing = [r for r in expect.fired_exactly if r not in fired]
        extra = [r for r in fired if r not in expect.fired_exactly]
        why = [*(f"{r} did not fire" for r in missing), *(f"{r} also fired" for r in extra)]
        found.append(
            Difference(
                "fired exactly",
                rules(expect.fired_exactly),
                f"{rules(fired)} ({'; '.join(why)})",
                fired,
            )
        )
    wrongly = [r for r in expect.not_fired if r in fired]
    if wrongly:
        keep = tuple(r for r in expect.not_fired if r not in fired)
        got = f"{listed(wrongly)} fired"
        found.append(Difference("not fired", rules(expect.not_fired), got, keep or None))
    unmet = [t for t in expect.warnings if not any(t in w for w in warnings)]
    if unmet:
        keep = tuple(t for t in expect.warnings if t not in unmet)
        expected = listed([repr(t) for t in expect.warnings])
        got = f"warnings: {listed(warnings)}"
        found.append(Difference("warnings", expected, got, keep or None))
    if expect.no_warnings and warnings:
        found.append(Difference("no warnings", "no warnings", listed(warnings), None))
    found.extend(_evidence(expect, evaluation))
    found.extend(_notes(expect, shown))
    if expect.do_now is not None and evaluation.do_now != expect.do_now:
        got = evaluation.do_now if evaluation.do_now is not None else "no Do now line"
        found.append(Difference("do now", expect.do_now, got, evaluation.do_now))
    return found


def _evidence(expect: Expectation, evaluation: Evaluation) -> list[Difference]:
    if not expect.evidence:
        return []
    given = {s.rule: s.evidence for s in evaluation.suggestions}
    wrong = [
        rule
        for rule, references in expect.evidence.items()
        if rule not in given or set(given[rule]) != set(references)
    ]
    if not wrong:
        return []
    expected = "; ".join(f"{r}: {listed(sorted(expect.evidence[r]))}" for r in wrong)
    got = "; ".join(
        f"{r}: {listed(sorted(given[r]))}" if r in given else f"{r} did not fire" for r in wrong
    )
    value: dict[str, str | tuple[str, ...]] = {
        rule: tuple(given[rule]) for rule in expect.evidence if rule in given
    }
    return [Difference("evidence", expected, got, value or None)]


def _notes(expect: Expectation, shown: dict[str, list[str]]) -> list[Difference]:
    found: list[Difference] = []
    wrong = [
        note
        for note, texts in expect.notes.items()
        if note not in shown or (texts is not None and tuple(shown[note]) != texts)
    ]
    if wrong:
        pinned = any(texts is not None for texts in expect.notes.values())
        expected = "; ".join(_note(n, expect.notes[n]) for n in wrong)
        got = "; ".join(
            _note(n, tuple(shown[n]) if expect.notes[n] is not None else None)
            if n in shown
            else f"{n} not shown"
            for n in wrong
        )
        value: Value = (
            {n: t[0] if len(t) == 1 else tuple(t) for n, t in shown.items()}
            if pinned
            else tuple(shown)
        )
        found.append(
            Difference("notes", expected, f"{got} (notes shown: {listed(list(shown))})", value)
        )
    showing = [n for n in expect.not_notes if n in shown]
    if showing:
        keep = tuple(n for n in expect.not_notes if n not in shown)
        got = "; ".join(_note(n, tuple(shown[n])) for n in showing) + " shown"
        found.append(Difference("not notes", listed(expect.not_notes), got, keep or None))
    return found


def _note(note: str, texts: tuple[str, ...] | None) -> str:
    return note if texts is None else f"{note} {' / '.join(repr(t) for t in texts)}"
