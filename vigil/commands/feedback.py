"""`vigil feedback report`: accept and override counts, and override reasons, per rule."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from fhir_adapters.cds_hooks.config import ConfigError, load_config
from fhir_adapters.cds_hooks.storage import RuleFeedback, SqliteReader, StoreUnreadable

from ..output import write_stdout
from ..terminal import printable

T = TypeVar("T")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("feedback", help="clinicians' feedback on Vigil's cards")
    actions = parser.add_subparsers(dest="feedback_action", required=True, metavar="ACTION")
    report = actions.add_parser("report", help="accepted and overridden cards per rule")
    add_database_options(report)
    report.add_argument("--service", help="only this service (ruleset id)")
    report.add_argument("--format", choices=("table", "json"), default="table")
    report.set_defaults(func=run_report, prog=report.prog)


def add_database_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE", help="TOML service configuration")
    parser.add_argument("--database", metavar="PATH", help="SQLite file (overrides the config)")


def database_path(args: argparse.Namespace, command: str) -> Path | None:
    """The file named by --database or the config; None (after a message) when there is none."""
    try:
        return Path(args.database) if args.database else load_config(args.config).database
    except ConfigError as exc:
        print(f"vigil {command}: {exc}", file=sys.stderr)
        return None


def read_store(
    args: argparse.Namespace, command: str, read: Callable[[SqliteReader], T]
) -> T | None:
    """What `read` finds in the database, opened read-only; None (after a one-line message) when
    it is missing or cannot be read as Vigil's."""
    path = database_path(args, command)
    if path is None:
        return None
    try:
        store = SqliteReader(path)
        try:
            return read(store)
        finally:
            store.close()
    except StoreUnreadable as exc:
        print(f"vigil {command}: {exc}", file=sys.stderr)
        return None


def run_report(args: argparse.Namespace) -> int:
    rows = read_store(args, "feedback report", lambda store: store.feedback_report(args.service))
    if rows is None:
        return 2
    if args.format == "json":
        write_stdout(json.dumps({"rules": [_row_dict(r) for r in rows]}, indent=2) + "\n")
    else:
        write_stdout(format_table(rows) + "\n")
    return 0


def _row_dict(row: RuleFeedback) -> dict[str, object]:
    return {
        "rule": row.rule,
        "accepted": row.accepted,
        "overridden": row.overridden,
        "override_reasons": dict(sorted(row.reasons.items(), key=lambda kv: (-kv[1], kv[0]))),
    }


def format_table(rows: list[RuleFeedback]) -> str:
    """One row a rule; stored text is escaped (override reasons are what the caller sent)."""
    if not rows:
        return "no feedback recorded"
    width = max(len("rule"), *(len(printable(r.rule)) for r in rows))
    lines = [f"{'rule':<{width}}  accepted  overridden  override reasons"]
    for r in rows:
        reasons = ", ".join(
            f"{printable(reason)} ({n})"
            for reason, n in sorted(r.reasons.items(), key=lambda kv: -kv[1])
        )
        rule = printable(r.rule)
        lines.append(f"{rule:<{width}}  {r.accepted:>8}  {r.overridden:>10}  {reasons or '-'}")
    return "\n".join(lines)
