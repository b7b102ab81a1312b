"""The `vigil` command: a thin shell over the library; each subcommand lives in `commands/`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .commands import audit, evaluate, feedback, serve
from .output import OutputError

SUBCOMMANDS = (evaluate, serve, feedback, audit)


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(
        prog="vigil",
        description="Vigil: clinical decision support from clinician-written rulesets.",
    )
    subparsers = main.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in SUBCOMMANDS:
        module.register(subparsers)
    return main


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
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
    return code


if __name__ == "__main__":
    raise SystemExit(main())
