"""`vigil lint`: a reviewer's static analysis of a ruleset, as located warnings.

Exit 0 when the ruleset loads (warnings too; with `--strict`, 1 while a warning is not
answered in the ruleset's `lint-answers:`), 1 when it does not load, 2 when no ruleset file
can be found at all.
"""

from __future__ import annotations

import argparse
import json
import sys

from rich.console import Console
from rich.markup import escape

from authoring.findings import Finding, in_file_order
from authoring.lint import lint_with_subjects, load_with_source
from engine import RulesetError, RulesetNotFound

from ..output import stdout_is_terminal, write_stdout
from ..terminal import printable

LEVEL_STYLES = {"error": "bold red", "warning": "yellow", "note": "cyan"}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "lint",
        help="warn about rules that can never fire, compete, or leave gaps",
        description="Lint a ruleset: rules that can never fire, rules on the same condition "
        "with different levels, threshold bands that overlap, leave a gap or are out of order, "
        "shadowed rules, names nothing reads, rules without a citation, no reviewers. Answer a "
        "warning in the ruleset's lint-answers: {warning: CODE, subject: ID, answer: TEXT}.",
    )
    parser.add_argument("ruleset", metavar="ID|PATH", help="packaged ruleset id or its file/folder")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument(
        "--strict", action="store_true", help="exit 1 while any warning is unanswered"
    )
    parser.set_defaults(func=run, prog=parser.prog)


def run(args: argparse.Namespace) -> int:
    try:
        ruleset, source = load_with_source(args.ruleset)
    except RulesetNotFound as error:
        print(f"{args.prog}: {' '.join(str(error).split())}", file=sys.stderr)
        return 2
    except RulesetError as error:
        errors = in_file_order(Finding.from_problem(p) for p in error.problems)
        return report([(f, "") for f in errors], args.format, None)
    found = lint_with_subjects(ruleset, source)
    code = report(found, args.format, ruleset.id)
    unanswered = any(f.level == "warning" for f, _ in found)
    return 1 if args.strict and unanswered else code


def report(found: list[tuple[Finding, str]], form: str, ruleset: str | None) -> int:
    """Print the findings (each with its subject); 1 when the ruleset did not load
    (`ruleset` None), else 0."""
    findings = [f for f, _ in found]
    if form == "json":
        document = {
            "ruleset": ruleset,
            "loaded": ruleset is not None,
            "findings": [{**f.to_dict(), "subject": subject} for f, subject in found],
        }
        write_stdout(json.dumps(document, indent=2) + "\n")
    else:
        lines = [printable(str(f), backslash=False) for f in findings]
        if ruleset is not None:
            warnings = sum(f.level == "warning" for f in findings)
            notes = sum(f.level == "note" for f in findings)
            lines.append(f"{ruleset}: {warnings} warning(s), {notes} answered")
        if stdout_is_terminal():
            Console(soft_wrap=True, highlight=False).print("\n".join(map(coloured, lines)))
        else:
            write_stdout("".join(f"{line}\n" for line in lines))
    return 1 if ruleset is None else 0


def coloured(line: str) -> str:
    """A finding's line in rich markup: its level word in the level's colour."""
    for level, style in LEVEL_STYLES.items():
        where, marker, message = line.partition(f": {level}: ")
        if marker:
            return f"{escape(where)}: [{style}]{level}[/]: {escape(message)}"
    return escape(line)
