"""`vigil docs PATH -o DIR`: write a ruleset's review page, DIR/index.html and DIR/index.md.

Prints the paths written and one line on its scenarios. Exit 0 when written; 1 when the
ruleset has errors, a scenario fails or the folder cannot be written; 2 when the ruleset
file cannot be read at all. Problems are printed `file:line:column: error: message`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from authoring import Finding
from authoring.docs import write_docs
from engine import RulesetError

from ..output import write_stdout


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "docs",
        help="write a ruleset's review page (HTML and Markdown)",
        description="Write a self-contained review page of a ruleset for colleagues who do "
        "not read YAML: metadata, levels, every rule in plain words with thresholds in each "
        "unit system, codes, citations, the scenario table with pass or fail. Writes "
        "DIR/index.html and DIR/index.md and prints their paths.",
    )
    parser.add_argument("ruleset", metavar="ID|PATH", help="packaged ruleset id or its file/folder")
    parser.add_argument(
        "-o", "--output", metavar="DIR", type=Path, required=True, help="folder to write into"
    )
    parser.add_argument(
        "--no-scenarios",
        action="store_true",
        help="leave the scenario table out instead of running the scenarios",
    )
    parser.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="json: the files written and the scenarios run and failed, as one object",
    )
    parser.set_defaults(func=run, prog=parser.prog)


def run(args: argparse.Namespace) -> int:
    try:
        page, paths = write_docs(args.ruleset, args.output, run_scenarios=not args.no_scenarios)
    except RulesetError as error:
        for problem in error.problems:
            print(Finding.from_problem(problem), file=sys.stderr)
        unreadable = all(problem.line == 0 for problem in error.problems)
        return 2 if unreadable else 1
    except OSError as error:
        where = error.filename or args.output
        print(f"{where}: error: cannot write the page: {error.strerror}", file=sys.stderr)
        return 1
    rows = page.scenarios
    failed = 0 if rows is None else sum(not row.passed for row in rows)
    if args.format == "json":
        summary = {
            "ruleset": page.id,
            "version": page.version,
            "written": [str(p) for p in paths],
            "scenarios": None if rows is None else {"run": len(rows), "failed": failed},
        }
        write_stdout(json.dumps(summary, indent=2) + "\n")
    else:
        lines = [str(p) for p in paths]
        if rows is not None:
            lines.append(f"{page.id}: {len(rows) - failed} of {len(rows)} scenarios passed")
        write_stdout("".join(f"{line}\n" for line in lines))
    return 1 if failed else 0
