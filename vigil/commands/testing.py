"""`vigil test`: run a ruleset's scenario files; show failures, coverage and boundaries.

Exit 0 when every scenario passes and (for the whole `scenarios/` folder) every suggesting rule
is expected both to fire and not to fire somewhere; 1 when a scenario fails or a rule is left
unchecked; 2 for a ruleset or scenario file that cannot be read. Parameter boundaries no
scenario sits on are notes and never fail a run. `--update` rewrites failing expectations,
`--show-fhir` prints the Bundle a scenario becomes, `--format json` the whole report.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys

from authoring.findings import Finding
from authoring.testing import (
    UpdateError,
    load_scenarios,
    render_rich,
    render_text,
    ruleset_folder,
    run_suite,
    update,
)
from engine import Problem, RulesetError, load_ruleset
from fhir_adapters.scenarios import ScenarioError

from ..output import stdout_is_terminal, write_stdout

__all__ = ["register", "ruleset_folder", "run"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "test",
        help="run a ruleset's scenario files",
        description="Run the scenario files of a ruleset (by default every file in its "
        "scenarios/ folder), print each failure as expected against got with the rules that "
        "fired, name every suggesting rule that no scenario expects to fire, or none expects "
        "not to fire, and each parameter boundary no scenario sits on.",
    )
    parser.add_argument("ruleset", metavar="ID|PATH", help="packaged ruleset id or its file/folder")
    parser.add_argument(
        "scenarios",
        nargs="*",
        metavar="SCENARIO",
        help="scenario files (or names in the ruleset's scenarios/) to run instead of all",
    )
    parser.add_argument(
        "--update",
        action="store_true",
        help="rewrite the expect: block of each failing scenario to what the ruleset gives now",
    )
    parser.add_argument(
        "--show-fhir",
        metavar="SCENARIO",
        help="print the FHIR Bundle (JSON) the scenario becomes, and run nothing",
    )
    parser.add_argument(
        "--format", choices=("text", "json"), default="text", help="output format (text)"
    )
    parser.set_defaults(func=run, prog=parser.prog)


def run(args: argparse.Namespace) -> int:
    try:
        if args.show_fhir is not None:
            load_ruleset(args.ruleset)  # a wrong reference is an error here too
            (scenario,) = load_scenarios(args.ruleset, [args.show_fhir])
            write_stdout(json.dumps(scenario.bundle, indent=2, ensure_ascii=False) + "\n")
            return 0
        report = run_suite(args.ruleset, args.scenarios or None)
        if args.update:
            changed = update(list(report.failed))
            for done in changed:
                print(f"updated {done.file}: {', '.join(done.keys)}", file=sys.stderr)
            if changed:
                report = run_suite(args.ruleset, args.scenarios or None)
    except (RulesetError, ScenarioError) as error:
        for problem in error.problems:
            print(f"{args.prog}: {_located(problem)}", file=sys.stderr)
        return 2
    except UpdateError as error:
        print(f"{args.prog}: {error}", file=sys.stderr)
        return 1
    if args.format == "json":
        write_stdout(json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n")
    elif stdout_is_terminal():
        write_stdout(render_rich(report, shutil.get_terminal_size().columns))
    else:
        write_stdout(render_text(report))
    return report.exit_code


def _located(problem: Problem) -> Finding:
    return Finding(problem.file, problem.line, problem.column, "error", problem.message)
