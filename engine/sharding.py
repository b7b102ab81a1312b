"""Lay a compiled ruleset out inside durable_rules' fixed-size alpha network.

durable_rules passes each fact through a tree of alpha nodes (one test each) and walks the nodes
the fact matches on a stack of 64 (`MAX_STACK_SIZE`, events.c): past it the assert fails with
error 303. An alpha node holds at most 256 rules ending under it (error 108 when the ruleset is
created) and 511 children (its 512-slot hash table then fills and durable_rules loops for ever).
So 62 rules on one concept, all matching one patient, failed, and 256 rules in one stratum
could not be created.

The patterns reading one fact (a concept's summary, a finding, a stage) are spread over shards of
at most `MAX_TESTS_PER_SHARD` tests and `MAX_RULES_PER_SHARD` patterns. A pattern with no test of
its own (a stage, a finding) ends at the fact's node: it takes no room on the stack, only one of
the rules under that node, so a stratum of stage patterns needs no copy below that many. A fact
that needs more than one shard is asserted once per shard, each copy with its shard number `k`,
and each pattern tests `k` right after the fact's name: one copy then reaches only its own
shard's tests, so the stack and the rules under any node stay bounded, however many rules read
the fact.
"""

from __future__ import annotations

from typing import Any

SHARD = "k"
# the most tests one copy of a fact reaches, with room on the 64-entry stack for the nodes above
# them (the fact's type, its name, its shard)
MAX_TESTS_PER_SHARD = 32
# the most patterns on one shard of a fact: each puts one rule under a node of the shard, well
# below the 256 a node holds
MAX_RULES_PER_SHARD = 128
# the most children of one alpha node: concepts, findings or stages read, shards of one fact
MAX_CHILDREN = 500

FactKey = tuple[str, object]

_NAME_FIELDS = {"c": "c", "f": "f", "g": "n"}
_KINDS = {"c": "concepts", "f": "findings", "g": "stages", "s": "suggestions"}


class LayoutError(ValueError):
    """No layout fits; `rule` is the compiled rule at which the limit was passed."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule


def fact_key(fact: dict[str, Any]) -> FactKey:
    """Which fact this is, as rules select it: its type, and its concept, finding or stage."""
    kind = fact["t"]
    return (kind, fact.get(_NAME_FIELDS.get(kind, "")))


def shard(definition: dict[str, Any]) -> dict[FactKey, int]:
    """Assign each pattern of the durable_rules `definition` (rule name -> {"all": patterns}) to a
    shard of the fact it reads, in rule order, inserting the shard test where a fact needs more
    than one; return those facts with their number of copies. Raises `LayoutError`."""
    # fact -> (its last shard, tests in that shard, patterns in that shard)
    load: dict[FactKey, tuple[int, int, int]] = {}
    placed: list[tuple[FactKey, list[dict[str, Any]], int, int]] = []  # and where `k` goes
    names: dict[str, set[object]] = {}
    for rule, body in definition.items():
        for pattern in body["all"]:
            tests: list[dict[str, Any]] = next(iter(pattern.values()))["$and"]
            kind = tests[0]["t"]
            field = _NAME_FIELDS.get(kind)
            key: FactKey = (kind, tests[1][field] if field else None)
            named = names.setdefault(kind, set())
            named.add(key[1])
            if len(named) > MAX_CHILDREN:
                raise LayoutError(
                    rule,
                    f"the ruleset reads more than {MAX_CHILDREN} different {_KINDS[kind]}: "
                    "split the ruleset",
                )
            head = 2 if field else 1
            weight = len(tests) - head
            number, used, rules = load.get(key, (0, 0, 0))
            if (used and used + weight > MAX_TESTS_PER_SHARD) or rules >= MAX_RULES_PER_SHARD:
                number, used, rules = number + 1, 0, 0
            if number >= MAX_CHILDREN:
                raise LayoutError(
                    rule,
                    f"more than {MAX_CHILDREN * MAX_TESTS_PER_SHARD} tests read one of its "
                    f"{_KINDS[kind]}: split the ruleset",
                )
            load[key] = (number, used + weight, rules + 1)
            placed.append((key, tests, head, number))
    counts = {key: number + 1 for key, (number, _, _) in load.items() if number}
    for key, tests, head, number in placed:
        if key in counts:
            tests.insert(head, {SHARD: number})
    return counts
