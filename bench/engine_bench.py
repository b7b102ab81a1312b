"""Microseconds per patient for a ruleset's logic, side by side, and Vigil's resident memory
after 1,000 and 100,000 evaluations in a fresh process (what each row is: bench/README.md).

  durable_rules used directly: bench/durable_generic.py (the ruleset's compiled rules on a
  bare Host, fed the facts Vigil computes), and Vigil; calf-fasciculation (the default) on
  bench/population.py's records, hyperkalaemia on its FHIR population read into records

Every implementation's answers are cross-checked first; a disagreement fails the run.

    .venv/bin/python bench/engine_bench.py                 # full run (about 2 minutes)
    .venv/bin/python bench/engine_bench.py --quick         # smoke run (a few seconds)
    .venv/bin/python bench/engine_bench.py --ruleset hyperkalaemia
    .venv/bin/python bench/engine_bench.py --json out.json
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import engine  # noqa: E402
from bench.durable_generic import Answer, DurableGeneric  # noqa: E402
from bench.hyperkalaemia_population import population_records  # noqa: E402
from bench.population import AS_OF, population  # noqa: E402

GOAL_RATIO = 1.3
GOAL_RSS_GROWTH = 0.10
CALF = "calf-fasciculation"
RULESETS = (CALF, "hyperkalaemia")


def machine() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        commit = subprocess.run(
            ["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    from importlib.metadata import version

    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu": model,
        "cpus": os.cpu_count(),
        "durable_rules": version("durable_rules"),
        "commit": commit,
    }


def rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


# -- correctness first ------------------------------------------------------------------------


def cross_check_generic(
    patients: list[list[engine.Record]], direct: DurableGeneric, vigil: engine.Evaluator
) -> Counter[str]:
    """durable_rules used directly and Vigil give the same escalation, fire the same suggesting
    rules and derive the same findings. Exits with status 1 on the first disagreement."""
    escalations: Counter[str] = Counter()
    for index, records in enumerate(patients):
        got_direct = direct.evaluate(records, AS_OF)
        got_vigil = vigil.evaluate(records, as_of=AS_OF)
        vigil_answer = Answer(
            got_vigil.escalation,
            frozenset(s.rule for s in got_vigil.suggestions),
            frozenset(f.name for f in got_vigil.findings),
        )
        for attribute in ("escalation", "rules", "findings"):
            mine, theirs = getattr(got_direct, attribute), getattr(vigil_answer, attribute)
            if mine != theirs:
                _fail(
                    index,
                    records,
                    f"{attribute}: durable {_words(mine)}, vigil {_words(theirs)}",
                )
        escalations[got_vigil.escalation] += 1
    return escalations


def _words(value: str | frozenset[str]) -> str:
    return value if isinstance(value, str) else str(sorted(value))


def patients_of(ruleset: str, size: int) -> list[list[engine.Record]]:
    """The benchmark's population for `ruleset`, as engine Records (read before any timing)."""
    if ruleset == CALF:
        return population(size)
    return population_records(size, engine.load_ruleset(ruleset))


def _fail(index: int, records: list[engine.Record], message: str) -> None:
    print(f"DISAGREEMENT on patient {index}: {message}", file=sys.stderr)
    for record in records:
        print(f"  {record}", file=sys.stderr)
    raise SystemExit(1)


# -- timing -----------------------------------------------------------------------------------


def timings(
    implementations: dict[str, Callable[[list[engine.Record]], object]],
    patients: list[list[engine.Record]],
    rounds: int,
) -> dict[str, list[list[float]]]:
    """Per-patient wall times in microseconds; the implementations take turns each round so
    that drift (frequency scaling, a noisy neighbour) spreads over all of them."""
    samples: dict[str, list[list[float]]] = {name: [] for name in implementations}
    names = list(implementations)
    clock = time.perf_counter_ns
    for run in implementations.values():  # warm up: imports, caches, registration
        for records in patients[:200]:
            run(records)
    for round_ in range(rounds):
        order = names[round_ % len(names) :] + names[: round_ % len(names)]
        for name in order:
            run, out = implementations[name], list[float]()
            samples[name].append(out)
            for records in patients:
                start = clock()
                run(records)
                out.append((clock() - start) / 1000)
    return samples


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "median_us": statistics.median(ordered),
        "p95_us": ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))],
        "mean_us": statistics.fmean(ordered),
    }


# -- memory (in a fresh process) --------------------------------------------------------------


def rss_worker(first: int, second: int, size: int, ruleset: str) -> None:
    patients = patients_of(ruleset, size)
    vigil = engine.Evaluator(engine.load_ruleset(ruleset))
    points = {}
    for done in range(1, second + 1):
        vigil.evaluate(patients[done % size], as_of=AS_OF)
        if done in (first, second):
            gc.collect()
            points[done] = rss_kb()
    print(
        json.dumps(
            {
                "first": first,
                "second": second,
                "rss_first_kb": points[first],
                "rss_second_kb": points[second],
            }
        )
    )


def rss(first: int, second: int, size: int, ruleset: str) -> dict[str, Any]:
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            "--rss-worker",
            str(first),
            str(second),
            "--patients",
            str(size),
            "--ruleset",
            ruleset,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    result["growth"] = result["rss_second_kb"] / result["rss_first_kb"] - 1
    return result


# -- report -----------------------------------------------------------------------------------


def table(results: dict[str, Any]) -> str:
    t = results["timing"]
    d = t["durable"]["median_us"]
    rows = [
        "| implementation | median µs/patient | p95 µs/patient | mean µs/patient "
        "| vs durable (median) |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    labels = {
        "durable": "(a) durable_rules used directly (compiled definition, bare Host)",
        "vigil": "(b) Vigil `Evaluator.evaluate`",
    }
    for name, label in labels.items():
        if name not in t:
            continue
        s = t[name]
        rows.append(
            f"| {label} | {s['median_us']:.0f} | {s['p95_us']:.0f} | "
            f"{s['mean_us']:.0f} | {s['median_us'] / d:.2f}x |"
        )
    m = results["rss"]
    rows += [
        "",
        "| Vigil memory | value |",
        "| --- | ---: |",
        f"| RSS after {m['first']:,} evaluations | {m['rss_first_kb'] / 1024:.1f} MiB |",
        f"| RSS after {m['second']:,} evaluations | {m['rss_second_kb'] / 1024:.1f} MiB |",
        f"| growth | {m['growth'] * 100:+.1f}% |",
        "",
        f"Vigil/durable (median): **{results['ratio']:.2f}x** (goal ≤ {GOAL_RATIO}x: "
        f"{'met' if results['ratio'] <= GOAL_RATIO else 'NOT met'}); RSS growth "
        f"{m['growth'] * 100:+.1f}% (goal < {GOAL_RSS_GROWTH * 100:.0f}%: "
        f"{'met' if m['growth'] < GOAL_RSS_GROWTH else 'NOT met'}). Vigil/durable per round: "
        + ", ".join(f"{r:.2f}" for r in results["round_ratios"])
        + ".",
        f"Ruleset {results['ruleset']}: {results['patients']:,} patients x "
        f"{results['rounds']} rounds, "
        f"{results['records_per_patient']:.1f} records a patient; escalations "
        + ", ".join(f"{k} {v}" for k, v in sorted(results["escalations"].items()))
        + ".",
        f"Machine: {results['machine']['cpu']} ({results['machine']['cpus']} CPUs), Python "
        f"{results['machine']['python']}, durable_rules {results['machine']['durable_rules']}, "
        f"commit {results['machine']['commit']}.",
    ]
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patients", type=int, default=None, help="population size (2,000)")
    parser.add_argument("--rounds", type=int, default=None, help="timed passes (5)")
    parser.add_argument("--quick", action="store_true", help="smoke run: small and fast")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    parser.add_argument("--ruleset", choices=RULESETS, default=CALF, help=f"({CALF})")
    parser.add_argument(
        "--rss-worker", nargs=2, type=int, metavar=("FIRST", "SECOND"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    size = args.patients or (200 if args.quick else 2000)
    if args.rss_worker:
        rss_worker(args.rss_worker[0], args.rss_worker[1], size, args.ruleset)
        return 0
    rounds = args.rounds or (2 if args.quick else 5)
    first, second = (200, 2_000) if args.quick else (1_000, 100_000)

    patients = patients_of(args.ruleset, size)
    ruleset = engine.load_ruleset(args.ruleset)
    vigil = engine.Evaluator(ruleset)
    implementations: dict[str, Callable[[list[engine.Record]], object]]
    generic = DurableGeneric(ruleset)
    escalations = cross_check_generic(patients, generic, vigil)
    implementations = {"durable": lambda records: generic.evaluate(records, AS_OF)}
    implementations["vigil"] = lambda records: vigil.evaluate(records, as_of=AS_OF)
    samples = timings(implementations, patients, rounds)
    timing = {
        name: summary([v for round_ in rounds_ for v in round_])
        for name, rounds_ in samples.items()
    }
    round_ratios = [
        statistics.median(v) / statistics.median(d)
        for v, d in zip(samples["vigil"], samples["durable"], strict=True)
    ]
    results: dict[str, Any] = {
        "ruleset": args.ruleset,
        "patients": size,
        "rounds": rounds,
        "records_per_patient": statistics.fmean(len(p) for p in patients),
        "escalations": dict(escalations),
        "timing": timing,
        "ratio": timing["vigil"]["median_us"] / timing["durable"]["median_us"],
        "round_ratios": round_ratios,
        "rss": rss(first, second, size, args.ruleset),
        "machine": machine(),
        "quick": args.quick,
    }
    print(table(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
