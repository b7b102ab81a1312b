"""`vigil evaluate`: FHIR files in, each patient's escalation and reasons out."""

from __future__ import annotations

import argparse
import io
import itertools
import os
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from authoring.explain import explain_result
from engine import Ruleset, RulesetError, load_ruleset
from engine.lifecycle import named_warning, not_in_force
from engine.model import Level
from engine.red_flags import red_flag_line
from fhir_adapters import FhirInputError, Loaded, PatientResult, Results, load_resources
from fhir_adapters.evaluate import combine, evaluate_patients, warning_dict
from fhir_adapters.folders import find_files, shown_path
from fhir_adapters.reading import MAX_JSON_SIZE

from ..json_stream import json_pieces
from ..output import stdout_is_terminal, write_stdout
from ..terminal import printable

DEFAULT_RULESET = "calf-fasciculation"
_FIRST_COLOUR = "\033[2m"  # the ruleset's first level: nothing to do
_COLOURS = {"info": "\033[32m", "warning": "\033[33m", "critical": "\033[1;31m"}
_RESET = "\033[0m"
# A lone surrogate: a file name's undecodable byte, or a JSON \udcff escape in the input.
_SURROGATE = re.compile(r"[\ud800-\udfff]")


class UsageError(Exception):
    """A problem with the command line itself; printed as one line, exit 2."""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "evaluate",
        help="evaluate FHIR R4 files against a ruleset",
        description="Evaluate every patient in FHIR R4 files (Bundles, resources, arrays, "
        "NDJSON; folders and their subfolders, through symbolic links too, are searched for "
        "files ending .json or .ndjson, in any case; other files are not read, with a "
        "warning) and print each patient's escalation with its reasons.",
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", type=Path)
    parser.add_argument(
        "--ruleset",
        metavar="ID|PATH",
        help=f"packaged ruleset id or a ruleset file/folder (default {DEFAULT_RULESET}, when it "
        "is active and effective; a draft, retired or out-of-period ruleset is used only when "
        "named here)",
    )
    parser.add_argument(
        "--as-of",
        metavar="ISO-8601",
        help="evaluate as of this time, e.g. 2026-03-01 or 2026-03-01T09:00:00Z (default now)",
    )
    parser.add_argument(
        "--format",
        choices=("json", "table"),
        help="json (one object) or table (default on a terminal)",
    )
    parser.add_argument(
        "--explain",
        action="store_true",
        help="with JSON output: add each patient's trace (`explanation`, as `vigil explain` "
        "gives it: why each rule fired or did not); about 100 KB a patient",
    )
    parser.add_argument(
        "--max-json-size",
        type=_mebibytes,
        default=MAX_JSON_SIZE,
        metavar="MIB",
        help=f"the largest JSON document read whole, in MiB (default {MAX_JSON_SIZE // 2**20}); "
        "NDJSON is read a line at a time, each line within it",
    )
    parser.set_defaults(func=run, prog=parser.prog)


def _mebibytes(text: str) -> int:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value < 2**40:  # NaN too
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of MiB")
    return max(1, int(value * 2**20))


def run(args: argparse.Namespace) -> int:
    try:
        as_of = parse_as_of(args.as_of)
        as_json = (args.format or ("table" if stdout_is_terminal() else "json")) == "json"
        if args.explain and not as_json:
            raise UsageError("--explain adds the trace to JSON output: give --format json")
        ruleset = chosen_ruleset(args.ruleset, as_of)
        patients = evaluate_patients(
            read(args.paths, args.max_json_size), ruleset, as_of, examine=args.explain
        )
    except (UsageError, FhirInputError) as error:
        print(f"vigil evaluate: {error}", file=sys.stderr)
        return 2
    except RulesetError as error:
        for problem in error.problems:
            print(f"vigil evaluate: {problem}", file=sys.stderr)
        return 2
    results = iter(patients)
    first = next(results, None)  # evaluated now: its time is the batch's, without --as-of
    header = {
        "ruleset": {"id": ruleset.id, "version": ruleset.version},
        "as_of": _evaluation_time(first, as_of).isoformat(),
    }
    if first is not None:
        results = itertools.chain([first], results)
    if as_json:
        # a patient at a time: a large input never holds every patient's result at once
        items = (with_explanation(r) if args.explain else r.to_dict() for r in results)
        tail = {"warnings": [warning_dict(w) for w in patients.warnings]}
        for piece in json_pieces(header, "results", items, tail):
            write_stdout(escape_surrogates(piece))
    else:
        table = io.StringIO()
        print_table(
            Results(list(results), patients.warnings), header, table, colour=_wants_colour()
        )
        write_stdout(escape_surrogates(table.getvalue()))
    return 0


def chosen_ruleset(named: str | None, as_of: datetime | None) -> Ruleset:
    """The ruleset `--ruleset` names (used whatever its status, with a warning on stderr when
    it is not in force), or else the default one, used only when it is in force at `as_of`."""
    ruleset = load_ruleset(named or DEFAULT_RULESET)
    if named is None:
        reason = not_in_force(ruleset, as_of)
        if reason is not None:
            raise UsageError(
                f"the default ruleset {ruleset.id} {ruleset.version} {reason}; "
                "name a ruleset with --ruleset to use it"
            )
    elif (warning := named_warning(ruleset, as_of)) is not None:
        print(f"vigil evaluate: warning: {warning}", file=sys.stderr)
    return ruleset


def with_explanation(result: PatientResult) -> dict[str, Any]:
    """A patient's JSON result with its trace: why each rule fired or did not (`explanation`)."""
    out = result.to_dict()
    explained = explain_result(result)
    if explained is not None:
        out["explanation"] = explained.to_dict()
    return out


def read(paths: list[Path], max_json_size: int) -> Loaded:
    """Every file the paths name, folders searched, read as one dataset; what a folder holds
    and is not read is a warning on the batch."""
    found = find_files(paths)
    loaded = [
        load_resources(p, origin=shown_path(p), max_json_size=max_json_size) for p in found.files
    ]
    return combine([Loaded(", ".join(map(shown_path, paths)), warnings=found.warnings), *loaded])


def escape_surrogates(text: str) -> str:
    """`text` with each lone surrogate written as its JSON escape, \\udcff: no encoder can
    write one, and inside a JSON string the escape reads back as the same character."""
    return _SURROGATE.sub(lambda match: f"\\u{ord(match[0]):04x}", text)


def _evaluation_time(first: PatientResult | None, as_of: datetime | None) -> datetime:
    """The time the patients were evaluated at: `--as-of`, or else the one "now" the batch
    read (the engine then knows that a record dated later is a data error)."""
    if as_of is not None:
        return as_of
    return first.evaluation.as_of if first is not None else datetime.now(UTC)


def parse_as_of(text: str | None) -> datetime | None:
    """The `--as-of` time; None without one, so that the engine takes now as its default."""
    if text is None:
        return None
    not_iso = UsageError(
        f"--as-of {text!r} is not an ISO 8601 date-time: write e.g. 2026-03-01T00:00:00Z "
        "(or a date alone, 2026-03-01)"
    )
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise not_iso from None
    if len(text) == 10:  # a date alone: the start of that day, UTC
        return moment.replace(tzinfo=UTC)
    if moment.tzinfo is None:
        if not _parses(f"{text}Z"):  # 20260301, which fromisoformat reads: no time to add a zone to
            raise not_iso
        raise UsageError(f"--as-of {text!r} needs a timezone, e.g. {text}Z")
    return moment


def _parses(text: str) -> bool:
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def _wants_colour() -> bool:
    return stdout_is_terminal() and "NO_COLOR" not in os.environ


def _colour(level: str, levels: tuple[Level, ...]) -> str:
    """The escalation's colour, by its level's card indicator."""
    if not levels or levels[0].id == level:
        return _FIRST_COLOUR
    found = next((lv for lv in levels if lv.id == level), None)
    return _COLOURS[found.indicator] if found is not None else ""


def print_table(results: Results, output: dict[str, Any], out: TextIO, *, colour: bool) -> None:
    ruleset = output["ruleset"]
    out.write(f"Ruleset {ruleset['id']} {ruleset['version']}, as of {output['as_of']}\n\n")
    # escaped before they are aligned: a Patient without an id is known by its fullUrl, any text
    patients = [printable(escape_surrogates(r.patient), backslash=False) for r in results]
    width = max([len("Patient"), *map(len, patients)])
    levels = results[0].evaluation.levels if results else ()
    level_width = max([len("Escalation"), *(len(level.id) for level in levels)])
    out.write(f"{'Patient':<{width}}  {'Escalation':<{level_width}}  Reasons\n")
    out.write(f"{'-' * width}  {'-' * level_width}  {'-' * 40}\n")
    for result, patient in zip(results, patients, strict=True):
        level = result.escalation
        shown = f"{level:<{level_width}}"
        if colour:
            shown = f"{_colour(level, result.evaluation.levels)}{shown}{_RESET}"
        card = result.evaluation.card
        if card is not None:  # the ruleset writes the card's text: shown as the card shows it
            reasons = [printable(escape_surrogates(t), backslash=False) for t in card.lines]
            reasons.insert(0, printable(escape_surrogates(card.title), backslash=False))
        else:
            reasons = [s.summary for s in result.evaluation.suggestions] or ["-"]
        out.write(f"{patient:<{width}}  {shown}  {reasons[0]}\n")
        for reason in reasons[1:]:
            out.write(f"{'':<{width}}  {'':<{level_width}}  {reason}\n")
        if card is None and result.evaluation.do_now:
            out.write(f"{'':<{width}}  {'':<{level_width}}  {result.evaluation.do_now}\n")
        for note in () if card is not None else result.evaluation.notes:  # in the ruleset's order
            text = printable(escape_surrogates(note.text), backslash=False)
            out.write(f"{'':<{width}}  {'':<{level_width}}  note: {text}\n")
        flags = red_flag_line(result.evaluation.red_flags)
        # shown where a card would show them (a written card says them in Found, Not recorded)
        if flags and result.evaluation.suggestions and card is None:
            out.write(f"{'':<{width}}  {'':<{level_width}}  {printable(flags)}\n")
        count = len(result.evaluation.warnings)
        if count:
            plural = "s" if count > 1 else ""
            out.write(f"{'':<{width}}  {'':<{level_width}}  ({count} data warning{plural})\n")
    if not results:
        out.write("(no patients found)\n")
    if results.warnings:
        out.write(f"\n{len(results.warnings)} warning(s) about data that belongs to no patient\n")
