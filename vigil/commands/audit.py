"""`vigil audit`: the service calls Vigil answered, newest first."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime

from fhir_adapters.cds_hooks.storage import AuditRecord, SqliteReader

from ..output import write_stdout
from ..terminal import printable
from .feedback import add_database_options, read_store


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("audit", help="the CDS Hooks calls Vigil answered")
    add_database_options(parser)
    parser.add_argument("--service", help="only this service (ruleset id)")
    parser.add_argument("--since", metavar="ISO-8601", help="only calls at or after this time")
    parser.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.set_defaults(func=run, prog=parser.prog)


def run(args: argparse.Namespace) -> int:
    since = None
    if args.since:
        try:
            when = datetime.fromisoformat(args.since)
        except ValueError:
            print(f"vigil audit: --since {args.since!r} is not an ISO-8601 time", file=sys.stderr)
            return 2
        since = (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()

    def calls(store: SqliteReader) -> list[AuditRecord]:
        return store.query(service=args.service, since=since, limit=args.limit)

    records = read_store(args, "audit", calls)
    if records is None:
        return 2
    if args.format == "json":
        write_stdout(json.dumps({"calls": [_json(r) for r in records]}, indent=2) + "\n")
    else:
        write_stdout(format_table(records) + "\n")
    return 0


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="seconds")


def _json(record: AuditRecord) -> dict[str, object]:
    out = record.to_dict()
    out["time"] = _iso(record.time)
    return out


def format_table(records: list[AuditRecord]) -> str:
    """One row a call, or a count of refused calls (`401 x37`) with the reason they were
    refused; stored values are escaped (a service id was once the path the caller sent)."""
    if not records:
        return "no calls recorded"
    rows = []
    for r in records:
        cards = ", ".join(f"{c.indicator}: {'+'.join(c.rules)}" for c in r.cards) or "-"
        ruleset = f"{r.ruleset_id}@{r.ruleset_version}" if r.ruleset_id else r.service
        status = f"{r.status} x{r.count}" if r.count != 1 else str(r.status)
        cells = [_iso(r.time), r.kind, ruleset, status, r.patient, r.escalation, cards, r.reason]
        rows.append([printable(cell) if cell else "-" for cell in cells])
    header = ["time", "kind", "service", "status", "patient", "escalation", "cards", "reason"]
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()]
    lines += [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
    return "\n".join(lines)
