"""`vigil new NAME [--dir DIR]`: a new ruleset folder from the commented template."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from authoring.new import NewRulesetError, new_ruleset

from ..output import write_stdout


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "new",
        help="create a ruleset folder from a commented template",
        description="Create the folder DIR/NAME with a commented ruleset.yaml (levels, one "
        "concept, one parameter, one cited rule; status draft), two scenarios and a README. "
        "As created it passes `vigil test`.",
    )
    parser.add_argument("name", metavar="NAME", help="the ruleset id, e.g. calf-cramp")
    parser.add_argument(
        "--dir",
        type=Path,
        default=Path(),
        metavar="DIR",
        help="where to create the folder (default the current folder)",
    )
    parser.set_defaults(func=run, prog=parser.prog)


def run(args: argparse.Namespace) -> int:
    try:
        folder = new_ruleset(args.name, args.dir)
    except NewRulesetError as error:
        print(f"{args.prog}: {error}", file=sys.stderr)
        return 2
    write_stdout(
        f"created {folder}/: ruleset.yaml, scenarios/ (2 files), README.md\n"
        f"next: edit {folder / 'ruleset.yaml'}, then run `vigil test {folder}`\n"
    )
    return 0
