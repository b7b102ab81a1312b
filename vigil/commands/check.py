"""`vigil check PATH`: every problem loading a ruleset finds, at once, one a line.

Prints each finding `file:line:column: error: message` in file order, then a summary line;
exit 1 on errors, 2 for a file that cannot be read at all, 0 for a clean ruleset.
"""

from __future__ import annotations

import argparse
import json

from authoring.check import check

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
        "--format", choices=("text", "json"), default="text", help="output format (default text)"
    )
    parser.set_defaults(func=run, prog=parser.prog)


def run(args: argparse.Namespace) -> int:
    report = check(args.ruleset)
    if args.format == "json":
        write_stdout(json.dumps(report.to_dict(), indent=2) + "\n")
    else:
        lines = [*map(str, report.findings), report.summary()]
        write_stdout("".join(f"{line}\n" for line in lines))
    return report.exit_code
