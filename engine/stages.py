"""Which stage facts an evaluation can leave out.

Every compiled rule waits for its stratum's stage fact, then for the facts its positive patterns
read (concepts, findings, suggestions). A stage none of whose rules has all of those facts
asserted by then can fire nothing: the facts a stage's firings assert come only from its rules
that could fire. Posting such a stage costs durable_rules an assert and its joins for nothing.
"""

from __future__ import annotations

from collections.abc import Set
from typing import Any

from .sharding import FactKey, fact_key

Needs = dict[int, tuple[frozenset[FactKey], ...]]


def stage_needs(definition: dict[str, Any]) -> Needs:
    """Per stage, the facts each of its rules reads positively (besides the stage fact), from
    the durable_rules `definition` (rule name -> {"all": patterns}); rules without a stage
    pattern are left out."""
    needs: dict[int, list[frozenset[FactKey]]] = {}
    for body in definition.values():
        stage: int | None = None
        reads: set[FactKey] = set()
        for pattern in body["all"]:
            ((name, test),) = pattern.items()
            tests: list[dict[str, Any]] = test.get("$and", [])
            if name.endswith("$not") or not tests:
                continue
            fields = tests[1] if len(tests) > 1 else {}
            key = fact_key({"t": tests[0]["t"], **fields})
            if key[0] == "g":
                stage = int(fields["n"])
            else:
                reads.add(key)
        if stage is not None:
            needs.setdefault(stage, []).append(frozenset(reads))
    return {stage: tuple(dict.fromkeys(rules)) for stage, rules in needs.items()}


def may_fire(needs: Needs, stage: int, asserted: Set[FactKey]) -> bool:
    """Whether some rule of `stage` has every fact it reads among `asserted`; a stage `needs`
    does not know may fire."""
    rules = needs.get(stage)
    return rules is None or any(reads <= asserted for reads in rules)
