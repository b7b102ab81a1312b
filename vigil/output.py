"""A command's result written to standard output, with a failure the CLI reports in one line."""

from __future__ import annotations

import sys


class OutputError(Exception):
    """Standard output refused the result (a full disk, a device error), not a closed pipe."""


def write_stdout(text: str) -> None:
    """Write `text` to standard output and flush it, so that a failure is raised here, where
    the CLI reports it, and not at interpreter exit as a traceback."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        raise  # `vigil evaluate ... | head`: the reader stopped, which is not a failure
    except OSError as error:
        raise OutputError(error.strerror or str(error)) from None
