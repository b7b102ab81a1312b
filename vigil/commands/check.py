"""`vigil check PATH`: every problem loading a ruleset finds, at once, one a line.

Prints each finding `file:line:column: error: message` in file order, then a summary line;
exit 1 on errors (with `--release`, also on anything a release still needs), 2 for a file that
cannot be read at all, 0 for a clean ruleset.
"""

from __future__ import annotations

import argparse
import json
import sys

from authoring.check import check
from engine import RulesetError

from ..output import write_stdout


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "check",
        help="report every problem in a ruleset, at once",
        description="Load a ruleset as Vigil does and report every problem found (YAML syntax, "
        "keys, values, references, units, duplicates, rules durable_rules cannot compile), "
        "each at file:line:column.",
    )
    parser.add_argument("ruleset", metavar="ID|PATH", help="packaged ruleset id or its file/folder")
    parser.add_argument(
        "--release",
        action="store_true",
        help="also say what a release still needs (status, reviewers, dates, a new version)",
    )
    parser.add_argument(
        "--against",
        metavar="ID|PATH",
        help="with --release: the last release to compare with (default: the copy at git HEAD)",
    )
    parser.add_argument(
        "--format", choices=("text", "json"), default="text", help="output format (default text)"
    )
    parser.set_defaults(func=run, prog=parser.prog)


def run(args: argparse.Namespace) -> int:
    try:
        report = check(
            args.ruleset, release=bool(args.release or args.against), against=args.against
        )
    except RulesetError as error:  # the last release (--against, or at git HEAD) does not load
        for problem in error.problems:
            print(f"{args.prog}: the last release: {problem}", file=sys.stderr)
        return 2
    if args.format == "json":
        write_stdout(json.dumps(report.to_dict(), indent=2) + "\n")
    else:
        lines = [*map(str, report.findings), report.summary()]
        write_stdout("".join(f"{line}\n" for line in lines))
    return report.exit_code
