"""The `vigil` command: a thin shell over the library; each subcommand lives in `commands/`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Protocol

from engine import VigilError

from .commands import (
    audit,
    check,
    diff,
    docs,
    evaluate,
    explain,
    feedback,
    lint,
    new,
    reference,
    serve,
    testing,
)
from .output import OutputError, write_stdout

SUBCOMMANDS = (
    evaluate,
    serve,
    feedback,
    audit,
    new,
    check,
    lint,
    testing,
    explain,
    docs,
    diff,
    reference,
)


class Writable(Protocol):
    def write(self, text: str, /) -> object: ...


class Parser(argparse.ArgumentParser):
    """argparse's parser, but help goes through `write_stdout`: argparse drops a failed write
    and exits 0, so `vigil --help > /dev/full` seemed to succeed."""

    def print_help(self, file: Writable | None = None) -> None:
        if file is None:
            write_stdout(self.format_help())
        else:
            super().print_help(file)


def parser() -> argparse.ArgumentParser:
    main = Parser(
        prog="vigil",
        description="Vigil: clinical decision support from clinician-written rulesets.",
    )
    subparsers = main.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in SUBCOMMANDS:
        module.register(subparsers)
    return main


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = parser().parse_args(argv)
    except OutputError as error:  # `vigil --help > /dev/full`
        print(f"vigil: cannot write the output: {error}", file=sys.stderr)
        return 1
    try:
        code: int = args.func(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `vigil evaluate ... | head`
        sys.stderr.close()
        return 0
    except OutputError as error:  # `vigil evaluate ... > /dev/full`
        print(f"{args.prog}: cannot write the output: {error}", file=sys.stderr)
        return 1
    except VigilError as error:  # what a command did not expect, e.g. durable_rules failing
        print(f"{args.prog}: {' '.join(str(error).split())}", file=sys.stderr)
        return 1
    return code


if __name__ == "__main__":
    raise SystemExit(main())
