"""authoring.diff.population_impact: both versions evaluate every patient in one process."""

from __future__ import annotations

from authoring.diff import population_impact
from engine import load_text

from .small_ruleset import AS_OF, RULESET, patient

LOWERED = RULESET.replace("severe_potassium: 6.5 mmol/L", "severe_potassium: 6.0 mmol/L")


def test_lowering_a_threshold_moves_the_patients_between_it_and_the_old_one_only() -> None:
    values = [4.0, 5.6, 5.9, 6.0, 6.2, 6.4, 6.5, 7.0]
    data = [r for i, k in enumerate(values) for r in patient(i, k)]
    old, new = load_text(RULESET), load_text(LOWERED)
    assert old.key != new.key  # two compiled rulesets side by side
    impact = population_impact(old, new, data, AS_OF)
    assert impact.patients == 8
    assert impact.changed == 3
    [move] = impact.moves
    assert (move.before, move.after, move.count) == ("recheck", "urgent", 3)
    assert move.examples == ("Patient/p3", "Patient/p4", "Patient/p5")
    shifts = {s.rule: (s.started, s.stopped) for s in impact.rules}
    assert shifts == {"severe": (3, 0), "raised": (0, 3)}
    assert impact.levels == (("none", 1, 1), ("recheck", 5, 2), ("urgent", 2, 5))
    assert impact.to_dict()["moves"] == [
        {"from": "recheck", "to": "urgent", "count": 3, "examples": list(move.examples)}
    ]
    # each version keeps its own compiled rules, whichever ran last
    [back] = population_impact(new, old, data, AS_OF).moves
    assert (back.before, back.after, back.examples) == ("urgent", "recheck", move.examples)


def test_the_same_ruleset_twice_changes_nobody() -> None:
    data = [r for i, k in enumerate([5.0, 6.1, 6.6]) for r in patient(i, k)]
    ruleset = load_text(RULESET)
    impact = population_impact(ruleset, ruleset, data, AS_OF)
    assert (impact.patients, impact.changed, impact.moves, impact.rules) == (3, 0, (), ())


def test_examples_stop_at_five_the_first_in_number_order() -> None:
    data = [r for i in range(12) for r in patient(i, 6.2)]
    impact = population_impact(load_text(RULESET), load_text(LOWERED), data, AS_OF)
    assert impact.moves[0].count == 12
    assert impact.moves[0].examples == tuple(f"Patient/p{i}" for i in range(5))
