"""Seconds for `vigil diff OLD NEW --population` on a generated population, per packaged ruleset.

NEW is a copy of the packaged ruleset with one threshold changed; the population is
bench/scenario_population.py's (1,000 patients grown from the ruleset's scenarios). Timed: the
CLI's library path, in one process: loading both versions, comparing the models, reading the
FHIR population and evaluating every patient with both versions (`population_impact`).

    .venv/bin/python bench/diff_bench.py                      # both rulesets, 1,000 patients
    .venv/bin/python bench/diff_bench.py --quick              # smoke run: 100 patients
    .venv/bin/python bench/diff_bench.py --ruleset hyperkalaemia
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import engine  # noqa: E402
from authoring.diff import diff_rulesets, population_impact  # noqa: E402
from bench.scenario_population import AS_OF, population  # noqa: E402

# the one threshold each copy changes: (parameter, new value as written)
CHANGES = {
    "hyperkalaemia": ("severe_potassium", "6.3 mmol/L"),
    "calf-fasciculation": ("low_potassium", "3.3 mmol/L"),
}


def changed_copy(ruleset: str, folder: Path) -> Path:
    """A copy of the packaged ruleset's folder (without scenarios) with its threshold changed."""
    source = engine.packaged_rulesets()[ruleset].parent
    target = folder / source.name
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("scenarios"))
    name, value = CHANGES[ruleset]
    file = target / "ruleset.yaml"
    text, count = re.subn(
        rf"^(\s+{re.escape(name)}:\s*)[^#\n]+?(\s*(#.*)?)$",
        rf"\g<1>{value}\g<2>",
        file.read_text(),
        count=1,
        flags=re.MULTILINE,
    )
    if count != 1:
        raise SystemExit(f"{file}: no parameter {name} to change")
    file.write_text(text)
    return target


def measure(ruleset: str, size: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as temp:
        new_folder = changed_copy(ruleset, Path(temp))
        start = time.perf_counter()
        old, new = engine.load_ruleset(ruleset), engine.load_ruleset(new_folder)
        loaded = time.perf_counter()
        changes = diff_rulesets(old, new)
        compared = time.perf_counter()
        data = population(engine.packaged_rulesets()[ruleset].parent, size)
        generated = time.perf_counter()
        cpu = time.process_time()
        impact = population_impact(old, new, data, AS_OF)
        evaluated = time.perf_counter()
        cpu = time.process_time() - cpu
    return {
        "ruleset": ruleset,
        "patients": impact.patients,
        "changes": len(changes.changes),
        "changed": impact.changed,
        "load": loaded - start,
        "diff": compared - loaded,
        "generate": generated - compared,
        "impact": evaluated - generated,
        "impact_cpu": cpu,
        "total": (loaded - start) + (compared - loaded) + (evaluated - generated),
    }


def table(rows: list[dict[str, object]]) -> str:
    lines = [
        "| ruleset | patients | changes | escalations moved | load both (s) | diff (ms) "
        "| evaluate both (s) | of which CPU (s) | total (s) | generate (s) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r['ruleset']} | {r['patients']} | {r['changes']} | {r['changed']} "
            f"| {r['load']:.2f} | {float(str(r['diff'])) * 1000:.1f} | {r['impact']:.2f} "
            f"| {r['impact_cpu']:.2f} "
            f"| {r['total']:.2f} | {r['generate']:.2f} |"
        )
    lines.append(
        "total: load both versions, diff, read and evaluate the population with both "
        "(the CLI's path without printing); generating the population is not counted. "
        "CPU: this process's CPU time while evaluating, the wall time on an idle machine."
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patients", type=int, default=None, help="population size (1,000)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 100 patients")
    parser.add_argument("--ruleset", choices=tuple(CHANGES), action="append")
    args = parser.parse_args(argv)
    size = args.patients or (100 if args.quick else 1000)
    rows = [measure(ruleset, size) for ruleset in args.ruleset or CHANGES]
    print(table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
