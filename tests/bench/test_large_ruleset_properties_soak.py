"""bench/large_ruleset_properties_soak.py, the long run of the large-ruleset property test,
still runs: generated rulesets through the engine's worker agree with the plain reading."""

from __future__ import annotations

import pytest

from bench import large_ruleset_properties_soak


def test_a_few_generated_rulesets_agree_with_the_plain_reading(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert large_ruleset_properties_soak.main(["--examples", "2", "--seed", "1"]) == 0
    assert capsys.readouterr().out.startswith(
        "2 generated rulesets: the engine agrees with the plain reading"
    )
