"""`vigil test`: run a ruleset's scenario files and say which suggestions they leave unchecked.

Exit 0 when every scenario passes and (for the whole `scenarios/` folder) every suggesting rule
is expected both to fire and not to fire somewhere; 1 when a scenario fails or a rule is left
unchecked; 2 for a ruleset or scenario file that cannot be read.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from engine import RulesetError, load_ruleset, packaged_rulesets
from fhir_adapters.scenarios import (
    ScenarioError,
    coverage,
    load_scenario,
    run_scenario,
    scenario_files,
)

from ..output import write_stdout


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "test",
        help="run a ruleset's scenario files",
        description="Run the scenario files of a ruleset (by default every file in its "
        "scenarios/ folder), print each failure, and name every suggesting rule that no "
        "scenario expects to fire, or none expects not to fire.",
    )
    parser.add_argument("ruleset", metavar="ID|PATH", help="packaged ruleset id or its file/folder")
    parser.add_argument(
        "scenarios",
        nargs="*",
        metavar="SCENARIO",
        type=Path,
        help="scenario files to run instead of the whole scenarios/ folder",
    )
    parser.set_defaults(func=run, prog=parser.prog)


def ruleset_folder(ref: str) -> Path:
    """The folder of a ruleset reference, where its `scenarios/` live."""
    packaged = packaged_rulesets(every=True)
    if ref in packaged:
        return packaged[ref].parent
    path = Path(ref)
    return path if path.is_dir() else path.parent


def run(args: argparse.Namespace) -> int:
    try:
        ruleset = load_ruleset(args.ruleset)
        paths = args.scenarios or scenario_files(ruleset_folder(args.ruleset))
        scenarios = [load_scenario(p) for p in paths]
        outcomes = [run_scenario(s, ruleset) for s in scenarios]
    except (RulesetError, ScenarioError) as error:
        for problem in error.problems:
            print(f"{args.prog}: {problem}", file=sys.stderr)
        return 2
    lines: list[str] = []
    for outcome in outcomes:
        lines.extend(f"FAIL {outcome.scenario.file}: {f}" for f in outcome.failures)
    failed = sum(not o.passed for o in outcomes)
    lines.append(f"{ruleset.id}: {len(outcomes) - failed} of {len(outcomes)} scenarios passed")
    gaps = [] if args.scenarios else coverage(ruleset, scenarios).lines()
    lines.extend(f"unchecked: {gap}" for gap in gaps)
    write_stdout("".join(f"{line}\n" for line in lines))
    return 1 if failed or gaps or not outcomes else 0
