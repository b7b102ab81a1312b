"""The long run of tests/engine/test_large_ruleset_properties.py: many generated large rulesets
(a crowded concept, many concepts, chains of derived findings, rules waiting for no suggestion
at a level), each compiled and evaluated in a worker process, every patient's answer compared
with the plain-Python reading of the same rules.

The test suite runs a few dozen rulesets to stay inside its time budget; this script runs the
big number. Without `--seed` the examples are the derandomized ones; with one, a random sample
of its own. Exits 1, printing hypothesis' shrunk counterexample, at the first disagreement (a
crash or a hang of the worker is one).

    .venv/bin/python bench/large_ruleset_properties_soak.py                  # 300 rulesets
    .venv/bin/python bench/large_ruleset_properties_soak.py --examples 50 --seed 7
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import pytest  # noqa: E402
from hypothesis import HealthCheck, given, seed, settings  # noqa: E402

from tests.engine.test_large_ruleset_properties import (  # noqa: E402
    GeneratedRule,
    Worker,
    agrees_with_the_plain_reading,
    patients,
    rulesets,
)


def soak(examples: int, random_seed: int | None = None) -> int:
    """Compare `examples` generated rulesets with the plain reading; return how many were
    compared. Raises (after hypothesis has shrunk it) at a disagreement."""
    compared = 0
    worker = Worker()

    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=random_seed is None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(rulesets(), patients)
    def agrees(generated: tuple[int, list[GeneratedRule]], people: list[dict[str, int]]) -> None:
        nonlocal compared
        compared += 1
        agrees_with_the_plain_reading(worker, generated, people)

    if random_seed is not None:
        agrees = seed(random_seed)(agrees)
    try:
        agrees()
    finally:
        worker.close()
    return compared


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=300, help="generated rulesets (300)")
    parser.add_argument("--seed", type=int, default=None, help="a random sample of its own")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    try:
        compared = soak(args.examples, args.seed)
    except (Exception, pytest.fail.Exception) as error:  # pytest.fail: the worker died or hung
        notes = "\n".join(getattr(error, "__notes__", ()))
        print(f"the engine and the plain reading disagree: {error}\n{notes}")
        return 1
    seconds = time.perf_counter() - start
    print(
        f"{compared} generated rulesets: the engine agrees with the plain reading ({seconds:.0f} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
