"""A stage fact is copied only when its stratum holds more rules than one node of durable_rules'
alpha network should: a stage pattern tests nothing of its own, so it takes no room on the alpha
stack, and a stratum of a few dozen rules is one stage fact, not several."""

from __future__ import annotations

import math

import engine
from engine.compiler import compile_ruleset
from engine.sharding import MAX_RULES_PER_SHARD
from tests.engine.test_large_rulesets import calf_plus, potassium_rules


def test_the_hyperkalaemia_strata_take_one_stage_fact_each() -> None:
    compiled = compile_ruleset(engine.load_ruleset("hyperkalaemia"))

    assert len(compiled.definition) > 64  # more stage patterns in stratum 0 than 32
    assert [key for key in compiled.shards if key[0] == "g"] == []


def test_a_stratum_past_the_rules_a_shard_holds_is_copied_per_shard() -> None:
    thresholds = [f"{(201 + i) / 100:.2f}" for i in range(300)]
    ruleset = engine.load_text(calf_plus(potassium_rules(thresholds), "calf-plus-300"))
    compiled = compile_ruleset(ruleset)

    stage_zero = sum(1 for body in compiled.definition.values() if {"n": 0} in _tests(body))
    assert stage_zero > MAX_RULES_PER_SHARD
    assert compiled.shards[("g", 0)] == math.ceil(stage_zero / MAX_RULES_PER_SHARD)


def _tests(body: dict[str, object]) -> list[object]:
    patterns = body["all"]
    assert isinstance(patterns, list)
    return [
        test for pattern in patterns for value in pattern.values() for test in value.get("$and", [])
    ]
