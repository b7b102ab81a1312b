"""`vigil explain`: each patient's evaluation in plain words: what the records say, which
rules fired on what, and why each other rule did not fire. Exit 2 for input or a ruleset
that cannot be read (or a `--patient` the input lacks), else 0."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

from authoring.explain import PatientNotFound, explain, to_markdown, to_text
from engine import RulesetError
from fhir_adapters import FhirInputError
from fhir_adapters.reading import MAX_JSON_SIZE

from ..output import stdout_is_terminal, write_stdout
from .evaluate import DEFAULT_RULESET, UsageError, escape_surrogates, parse_as_of, read


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "explain",
        help="explain each patient's evaluation in plain words",
        description="Evaluate every patient in FHIR R4 files (read as `vigil evaluate` reads "
        "them) and explain it: what the records say about every concept the rules read, each "
        "rule that fired with what it matched, and each rule that did not fire with the first "
        "condition that failed and by how much.",
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", type=Path)
    parser.add_argument(
        "--ruleset",
        default=DEFAULT_RULESET,
        metavar="ID|PATH",
        help=f"packaged ruleset id or a ruleset file/folder (default {DEFAULT_RULESET})",
    )
    parser.add_argument("--patient", metavar="ID", help="explain only this patient (its id)")
    parser.add_argument(
        "--as-of",
        metavar="ISO-8601",
        help="evaluate as of this time, e.g. 2026-03-01 or 2026-03-01T09:00:00Z (default now)",
    )
    parser.add_argument(
        "--format",
        choices=("text", "markdown", "json"),
        default="text",
        help="text (default), markdown or json",
    )
    parser.set_defaults(func=run, prog=parser.prog)


def run(args: argparse.Namespace) -> int:
    try:
        as_of = parse_as_of(args.as_of)
        explanation = explain(
            args.ruleset, read(args.paths, MAX_JSON_SIZE), as_of, patient=args.patient
        )
    except (UsageError, FhirInputError, PatientNotFound) as error:
        print(f"{args.prog}: {error}", file=sys.stderr)
        return 2
    except RulesetError as error:
        for problem in error.problems:
            print(f"{args.prog}: {problem}", file=sys.stderr)
        return 2
    if args.format == "json":
        text = json.dumps(explanation.to_dict(), indent=2, ensure_ascii=False) + "\n"
    elif args.format == "markdown":
        text = to_markdown(explanation)
    else:
        terminal = stdout_is_terminal()
        width = shutil.get_terminal_size().columns if terminal else 100
        colour = terminal and "NO_COLOR" not in os.environ
        text = to_text(explanation, width=width, colour=colour)
    write_stdout(escape_surrogates(text))
    return 0
