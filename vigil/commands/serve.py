"""`vigil serve`: the CDS Hooks service on uvicorn, one engine per worker process
(`fhir_adapters.cds_hooks.workers`)."""

from __future__ import annotations

import argparse
import ipaddress
import os
import sys

from engine.lifecycle import not_in_force
from fhir_adapters.cds_hooks.app import CONFIG_ENV, INSECURE_BANNER, INSECURE_ENV, load_rulesets
from fhir_adapters.cds_hooks.config import ConfigError, load_config


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="run the CDS Hooks service",
        description="Serve every active ruleset of the config as a CDS Hooks 2.0 service.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port (default 8080)")
    parser.add_argument(
        "--workers", type=int, default=1, help="worker processes, each with its own engine"
    )
    parser.add_argument("--config", metavar="FILE", help="TOML service configuration")
    parser.add_argument(
        "--insecure-dev",
        action="store_true",
        help="switch JWT authentication off (loopback only; never with real patient data)",
    )
    parser.set_defaults(func=run, prog=parser.prog)


def run(args: argparse.Namespace) -> int:
    from fhir_adapters.cds_hooks.workers import PortUnavailable, serve

    if args.workers < 1 or not 0 < args.port < 65536:
        print("vigil serve: --workers must be >= 1 and --port 1-65535", file=sys.stderr)
        return 2
    try:
        config = load_config(args.config)
        insecure = args.insecure_dev or config.insecure_dev
        if insecure and not _loopback(args.host):
            print(
                f"vigil serve: --insecure-dev refuses to bind {args.host}; use a loopback address",
                file=sys.stderr,
            )
            return 2
        if not insecure and not config.issuers:
            print(
                "vigil serve: no [[issuers]] in the config, so every call would be refused; "
                "add one, or use --insecure-dev for local development",
                file=sys.stderr,
            )
            return 2
        served = load_rulesets(config.rulesets)  # fail here, once, rather than in every worker
    except (ConfigError, ValueError, OSError) as exc:
        print(f"vigil serve: {exc}".splitlines()[0], file=sys.stderr)
        return 2
    for ruleset in served:
        if (reason := not_in_force(ruleset)) is not None:
            print(
                f"vigil serve: warning: {ruleset.id} {ruleset.version} {reason}: not served now",
                file=sys.stderr,
            )
    if insecure:
        print(f"\n*** {INSECURE_BANNER} ***\n", file=sys.stderr)
    os.environ[CONFIG_ENV] = str(args.config or "")
    os.environ[INSECURE_ENV] = "1" if insecure else "0"
    try:
        return serve(args.host, args.port, args.workers, config.database)
    except PortUnavailable as exc:
        print(f"vigil serve: {exc}", file=sys.stderr)
        return 2


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
