"""`vigil reference`: the ruleset language's constructs with examples, the code systems and the
units, for authors."""

from __future__ import annotations

import argparse

from authoring.reference import render

from ..output import write_stdout


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "reference",
        help="the ruleset language: constructs with examples, code systems, units",
        description="Print every construct of the ruleset language with an example, the code "
        "systems with their URIs and the units Vigil reads.",
    )
    parser.add_argument(
        "--format",
        choices=("text", "markdown", "json"),
        default="text",
        help="text (default), markdown, or json",
    )
    parser.set_defaults(func=run, prog=parser.prog)


def run(args: argparse.Namespace) -> int:
    write_stdout(render(args.format))
    return 0
