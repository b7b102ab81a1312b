"""A command's result written to standard output, with a failure the CLI reports in one line."""

from __future__ import annotations

import sys


class OutputError(Exception):
    """Standard output refused the result (a full disk, a device error, no standard output
    at all), not a closed pipe."""


def write_stdout(text: str) -> None:
    """Write `text` to standard output and flush it, so that a failure is raised here, where
    the CLI reports it, and not at interpreter exit as a traceback."""
    stream = sys.stdout
    if stream is None:  # started with stdout closed (`vigil evaluate x >&-`)
        raise OutputError("standard output is closed")
    try:
        stream.write(text)
        stream.flush()
    except BrokenPipeError:
        raise  # `vigil evaluate ... | head`: the reader stopped, which is not a failure
    except OSError as error:
        raise OutputError(error.strerror or str(error)) from None


def stdout_is_terminal() -> bool:
    """Whether standard output is a terminal; False when there is none (it was closed)."""
    return sys.stdout is not None and sys.stdout.isatty()
