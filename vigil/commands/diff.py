"""`vigil diff OLD NEW [--population PATH...]`: what changed between two versions of a
ruleset, and with a population how many patients' escalation it moves.

Exit 0 once the report is written; 2 for a ruleset, FHIR file or `--as-of` that cannot be
read (each problem printed `file:line:column: error: message`).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
from pathlib import Path

from rich.console import Console

from authoring.diff import diff_rulesets, population_impact
from authoring.diff.report import report_dict, write_report
from authoring.findings import Finding
from engine import Problem, RulesetError, load_ruleset
from fhir_adapters import FhirInputError
from fhir_adapters.reading import MAX_JSON_SIZE

from ..output import stdout_is_terminal, write_stdout
from .evaluate import UsageError, escape_surrogates, parse_as_of, read


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "diff",
        help="what changed between two versions of a ruleset, and for which patients",
        description="Compare two versions of a ruleset (packaged ids, folders or ruleset.yaml "
        "files): metadata, levels, parameters, concepts and codes, rules, referrals, "
        "citations, red flags, notes. With --population, evaluate every patient in those "
        "FHIR files or folders with both versions and count the escalations and rules that "
        "change.",
    )
    parser.add_argument("old", metavar="OLD", help="the old version: packaged id or file/folder")
    parser.add_argument("new", metavar="NEW", help="the new version: packaged id or file/folder")
    parser.add_argument(
        "--population",
        action="append",
        type=Path,
        metavar="PATH",
        help="FHIR files or folders read as `vigil evaluate` reads them (repeatable)",
    )
    parser.add_argument(
        "--as-of",
        metavar="ISO-8601",
        help="evaluate the population as of this time, e.g. 2026-03-01 (default now)",
    )
    parser.add_argument(
        "--format", choices=("json", "text"), default="text", help="text (default) or json"
    )
    parser.set_defaults(func=run, prog=parser.prog)


def _errors(problems: list[Problem] | tuple[Problem, ...]) -> None:
    for problem in problems:
        print(Finding.from_problem(problem), file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    try:
        as_of = parse_as_of(args.as_of)
        old = load_ruleset(args.old)
        new = load_ruleset(args.new)
        changes = diff_rulesets(old, new)
        impact = None
        if args.population:
            data = read(args.population, MAX_JSON_SIZE)
            impact = population_impact(old, new, data, as_of)
    except RulesetError as error:
        _errors(error.problems)
        return 2
    except (UsageError, FhirInputError) as error:
        print(f"{args.prog}: error: {error}", file=sys.stderr)
        return 2
    if args.format == "json":
        text = json.dumps(report_dict(changes, impact), indent=2, ensure_ascii=False) + "\n"
    else:
        buffer = io.StringIO()
        terminal = stdout_is_terminal()
        console = Console(
            file=buffer,
            force_terminal=terminal,
            no_color=not terminal or "NO_COLOR" in os.environ,
            width=None if terminal else 120,
            highlight=False,
            soft_wrap=not terminal,
        )
        write_report(changes, impact, console)
        text = buffer.getvalue()
        if not terminal:  # rich pads table cells to the width: not in a file
            text = "".join(f"{line.rstrip()}\n" for line in text.splitlines())
    write_stdout(escape_surrogates(text))
    return 0
