"""The long run of tests/rulesets/test_calf_properties.py: many random calf-fasciculation
patients (`tests.rulesets.calf_patients`) through `fhir_adapters.evaluate_bundle` with the
packaged 2.1.0 ruleset, each escalation and set of fired §7 rules compared with the oracle's
(`tests.calf_oracle`).

The test suite runs a fixed, small number of examples to stay inside its time budget; this
script runs the big number. Without `--seed` the examples are the derandomized ones (the
suite's first examples among them); with one, a new random sample each seed. Exits 1, printing
hypothesis' shrunk counterexample, at the first disagreement.

    .venv/bin/python bench/calf_properties_soak.py                  # 2000 patients
    .venv/bin/python bench/calf_properties_soak.py --examples 400 --seed 7
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from hypothesis import HealthCheck, given, seed, settings  # noqa: E402

from tests.rulesets.calf_patients import AS_OF, patient  # noqa: E402
from tests.rulesets.test_calf_properties import engine_answer, oracle_answer  # noqa: E402

Resource = dict[str, Any]


def soak(examples: int, random_seed: int | None = None) -> int:
    """Compare `examples` random patients with the oracle; return how many were compared.
    Raises AssertionError (after hypothesis has shrunk it) at a disagreement."""
    compared = 0

    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=random_seed is None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(patient())
    def agrees(resources: list[Resource]) -> None:
        nonlocal compared
        compared += 1
        found = engine_answer(resources, AS_OF)
        assert found.get("p") == oracle_answer(resources, AS_OF)

    if random_seed is not None:
        agrees = seed(random_seed)(agrees)
    agrees()
    return compared


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=2000, help="random patients (2000)")
    parser.add_argument("--seed", type=int, default=None, help="a random sample of its own")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    try:
        compared = soak(args.examples, args.seed)
    except AssertionError as error:
        notes = "\n".join(getattr(error, "__notes__", ()))
        print(f"the engine and the oracle disagree: {error}\n{notes}")
        return 1
    seconds = time.perf_counter() - start
    print(f"{compared} random patients: the engine agrees with the oracle ({seconds:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
