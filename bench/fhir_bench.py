"""End-to-end time of one patient Bundle through Vigil, next to fhir.resources validating it alone.

  floor   json.loads(text) + fhir.resources.R4B Bundle.model_validate(data)
  vigil   fhir_adapters.evaluate_bundle(text, ruleset, as_of), its stages timed apart too

for one patient of 10, 100 and 1,000 resources: calf Observations generated here on the
patterns of ../shared/fhir-samples, or with `--ruleset hyperkalaemia` a patient drawn by
bench/hyperkalaemia_population.py (its warnings counted). What each Bundle holds: bench/README.md.

    .venv/bin/python bench/fhir_bench.py            # full run (about a minute)
    .venv/bin/python bench/fhir_bench.py --quick    # smoke run (a few seconds)
    .venv/bin/python bench/fhir_bench.py --ruleset hyperkalaemia
    .venv/bin/python bench/fhir_bench.py --json out.json
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from fhir.resources.R4B.bundle import Bundle  # noqa: E402

import engine  # noqa: E402
import fhir_adapters  # noqa: E402
from bench import hyperkalaemia_population  # noqa: E402
from bench.durable_generic import DurableGeneric  # noqa: E402
from bench.engine_bench import CALF, RULESETS, machine  # noqa: E402
from bench.fhir_vocabulary import (  # noqa: E402
    CATEGORY,
    LABS,
    LOINC,
    SCT,
    SITES,
    add_lab_result,
    coding,
    quantity,
)
from fhir_adapters.patients import patient_records  # noqa: E402
from fhir_adapters.reading import load_resources  # noqa: E402

AS_OF = datetime(2026, 3, 1, 12, tzinfo=UTC)
SIZES = (10, 100, 1000)
GOAL_OVERHEAD = 0.25
# a population patient whose rules fire at every size (up to an emergency): the engine's share
# of the work is then that of a patient who needs something, not of one who needs nothing
HYPERKALAEMIA_SEED = hyperkalaemia_population.SEED + 3

PATIENT = "Patient/bench-1"


def _when(rng: random.Random) -> str:
    moment = AS_OF - timedelta(minutes=rng.randrange(0, 60 * 24 * 45))
    return moment.isoformat().replace("+00:00", "Z")


def _base(index: int, rng: random.Random, category: str, code: dict[str, Any]) -> dict[str, Any]:
    when = _when(rng)
    return {
        "resourceType": "Observation",
        "id": f"bench-{index}",
        "meta": {"lastUpdated": when},
        "status": "final",
        "category": [coding(CATEGORY, category, category.title())],
        "code": code,
        "subject": {"reference": PATIENT, "display": "Bench Patient"},
        "effectiveDateTime": when,
        "issued": when,
        "performer": [{"reference": "Practitioner/bench-gp", "display": "Dr Bench"}],
    }


def lab(index: int, rng: random.Random) -> dict[str, Any]:
    lab = rng.choice(LABS)
    code, display, _, _, low, high = lab
    obs = _base(index, rng, "laboratory", coding(LOINC, code, display))
    return add_lab_result(obs, lab, rng.uniform(low * 0.8, high))


def finding(index: int, rng: random.Random) -> dict[str, Any]:
    kind = rng.choices(["twitch", "weakness", "cramp"], weights=[5, 2, 2])[0]
    if kind == "twitch":
        obs = _base(index, rng, "exam", coding(SCT, "82470000", "Fasciculation (finding)"))
        obs["valueBoolean"] = True
        obs["bodySite"] = coding(SCT, *rng.choice(SITES))
    elif kind == "weakness":
        obs = _base(index, rng, "exam", coding(SCT, "26544005", "Muscle weakness (finding)"))
        obs["valueCodeableConcept"] = coding(SCT, "52101004", "Present")
    else:
        obs = _base(index, rng, "exam", coding(SCT, "55300003", "Cramp (finding)"))
        obs["valueBoolean"] = True
        obs["bodySite"] = coding(SCT, "53840002", "Calf")
        obs["component"] = [
            {
                "code": coding(LOINC, "103335-0", "Duration"),
                "valueQuantity": quantity(round(rng.uniform(0.5, 8), 1), "min"),
            }
        ]
    return obs


def survey(index: int, rng: random.Random) -> dict[str, Any]:
    if rng.random() < 0.5:
        obs = _base(index, rng, "survey", coding(LOINC, "70274-6", "GAD-7 total score"))
        obs["valueInteger"] = rng.randrange(0, 12)
    else:
        obs = _base(index, rng, "survey", coding(LOINC, "93832-4", "Sleep duration"))
        obs["valueQuantity"] = quantity(round(rng.uniform(5, 9), 1), "h")
    return obs


def bundle(size: int, seed: int = 7) -> str:
    """A collection Bundle: one Patient and `size` Observations the ruleset reads, as JSON."""
    rng = random.Random(seed)
    makers: list[Callable[[int, random.Random], dict[str, Any]]] = [lab, finding, survey]
    entries: list[dict[str, Any]] = [
        {
            "fullUrl": "urn:uuid:0b6c2d1e-0000-4000-8000-000000000001",
            "resource": {
                "resourceType": "Patient",
                "id": "bench-1",
                "active": True,
                "name": [{"family": "Bench", "given": ["Patient"]}],
                "gender": "female",
                "birthDate": "1980-04-02",
            },
        }
    ]
    for index in range(size):
        make = rng.choices(makers, weights=[5, 4, 1])[0]
        entries.append(
            {
                "fullUrl": f"urn:uuid:0b6c2d1e-0000-4000-8000-{index + 2:012d}",
                "resource": make(index, rng),
            }
        )
    return json.dumps(
        {
            "resourceType": "Bundle",
            "id": f"bench-{size}",
            "type": "collection",
            "timestamp": AS_OF.isoformat(),
            "entry": entries,
        }
    )


def floor(text: str) -> object:
    return Bundle.model_validate(json.loads(text))


def median_ms(run: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def hyperkalaemia_bundle(size: int) -> str:
    """A collection Bundle of one population patient with `size` resources besides the Patient."""
    resources = hyperkalaemia_population.patient_of_size(size, HYPERKALAEMIA_SEED)
    return hyperkalaemia_population.bundle(resources)


def measure(size: int, repeats: int, ruleset: engine.Ruleset) -> dict[str, Any]:
    calf = ruleset.id == CALF
    text, patient = (bundle(size), PATIENT) if calf else (hyperkalaemia_bundle(size), "Patient/hk0")
    results = fhir_adapters.evaluate_bundle(text, ruleset, AS_OF)
    if len(results) != 1 or results[0].patient != patient:
        raise SystemExit(f"expected one result for {patient}, got {[r.patient for r in results]}")
    evaluation = results[0].evaluation
    if calf and evaluation.warnings:  # the data is clean: a warning means something was not read
        raise SystemExit(f"unexpected warnings: {evaluation.warnings[:3]}")
    if not calf and not evaluation.suggestions:
        raise SystemExit(f"no rule suggested anything for the patient of {size} resources")
    batch = patient_records(text, ruleset)
    evaluator = engine.Evaluator(ruleset)
    records = batch.patients[0].records
    # the least any engine on durable_rules adds: this patient's rules on a bare Host
    direct = DurableGeneric(ruleset)
    floor(text)  # warm up all three
    direct.evaluate(records, AS_OF)
    floor_ms: list[float] = []
    vigil_ms: list[float] = []
    direct_ms: list[float] = []
    for _ in range(repeats):  # take turns
        floor_ms.append(median_ms(lambda: floor(text), 1))
        vigil_ms.append(median_ms(lambda: fhir_adapters.evaluate_bundle(text, ruleset, AS_OF), 1))
        direct_ms.append(median_ms(lambda: direct.evaluate(records, AS_OF), 1))
    parse = median_ms(lambda: load_resources(text), repeats)
    f, v = statistics.median(floor_ms), statistics.median(vigil_ms)
    return {
        "observations": size,
        "bytes": len(text),
        "floor_ms": f,
        "vigil_ms": v,
        "overhead": v / f - 1,
        "durable_ms": statistics.median(direct_ms),
        # measured apart, so they need not add up to vigil_ms exactly
        "parse_ms": parse,
        "validate_normalise_ms": median_ms(lambda: patient_records(text, ruleset), repeats) - parse,
        "evaluate_ms": median_ms(lambda: evaluator.evaluate(records, as_of=AS_OF), repeats),
        "escalation": evaluation.escalation,
        "warnings": len(evaluation.warnings),
        "repeats": repeats,
    }


def table(results: dict[str, Any]) -> str:
    calf = results["ruleset"] == CALF
    rows = [
        f"| {'Observations' if calf else 'resources'} | JSON KiB "
        "| floor: json.loads + Bundle.model_validate (ms) "
        "| Vigil evaluate_bundle (ms) | Vigil adds "
        "| of which parse / validate+normalise / evaluate (ms) |"
        " durable_rules alone (ms, share of floor) |"
        + ("" if calf else " escalation | warnings |"),
        "| ---: | ---: | ---: | ---: | ---: | --- | ---: |" + ("" if calf else " --- | ---: |"),
    ]
    for r in results["sizes"]:
        rows.append(
            f"| {r['observations']:,} | {r['bytes'] / 1024:.0f} | {r['floor_ms']:.2f} | "
            f"{r['vigil_ms']:.2f} | {r['overhead'] * 100:+.0f}% | {r['parse_ms']:.2f} / "
            f"{r['validate_normalise_ms']:.2f} / {r['evaluate_ms']:.2f} | "
            f"{r['durable_ms']:.2f} ({r['durable_ms'] / r['floor_ms'] * 100:.0f}%) |"
            + ("" if calf else f" {r['escalation']} | {r['warnings']} |")
        )
    worst = max(r["overhead"] for r in results["sizes"])
    m = results["machine"]
    rows += [
        "",
        f"Goal: Vigil adds at most {GOAL_OVERHEAD * 100:.0f}% on top of validation: "
        f"{'met' if worst <= GOAL_OVERHEAD else 'NOT met'} (worst {worst * 100:+.0f}%). "
        f"Median of {results['sizes'][0]['repeats']}+ repeats. Ruleset {results['ruleset']}.",
        "durable_rules alone: the patient's facts run on a bare durable_rules Host "
        "(bench/durable_generic.py), the least an engine on durable_rules adds.",
        f"Machine: {m['cpu']} ({m['cpus']} CPUs), Python {m['python']}, commit {m['commit']}.",
    ]
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: fewer repeats")
    parser.add_argument(
        "--repeats", type=int, default=None, help="repeats per size (31; a fifth of that for 1,000)"
    )
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    parser.add_argument("--ruleset", choices=RULESETS, default=CALF, help=f"({CALF})")
    args = parser.parse_args(argv)
    repeats = args.repeats or (3 if args.quick else 31)
    ruleset = engine.load_ruleset(args.ruleset)
    sizes = [
        measure(size, max(3, repeats // (5 if size >= 1000 else 1)), ruleset) for size in SIZES
    ]
    results = {
        "ruleset": args.ruleset,
        "sizes": sizes,
        "machine": machine(),
        "quick": args.quick,
    }
    print(table(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
