"""Load test of the CDS Hooks service: `POST /cds-services/calf-fasciculation` (patient-view) with
50 prefetched Observations of one patient, against the real server on loopback, next to the same
evaluations in-process (how it runs and what each column is: bench/README.md).

Each round starts `python -m vigil serve --insecure-dev --workers N` in a temporary folder, keeps
`--concurrency` requests in flight until `--requests` responses or `--max-seconds`, and stops
it; every response must be a 200 with one card carrying a draft ServiceRequest. `--patients 1`
re-sends one chart; `--patients 1000` rotates 1,000 patients. Goals (issue 4): p99 under 50 ms
at 10 concurrent requests, and HTTP throughput within 2x of in-process.

    .venv/bin/python bench/cds_hooks_bench.py                  # full run (about 4 minutes)
    .venv/bin/python bench/cds_hooks_bench.py --quick          # smoke run (under ~30 s)
    .venv/bin/python bench/cds_hooks_bench.py --patients 1000 --workers 2 --rounds 5
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from bench.cds_hooks_payloads import (  # noqa: E402
    SERVICE,
    prefetch_bundle,
    request_template,
)

HOST = "127.0.0.1"
ISSUER = "https://ehr.example.org"
GOAL_P99_MS = 50.0
GOAL_RATIO = 2.0


@dataclass
class LoadResult:
    workers: int
    patients: int
    auth: bool
    requests: int
    errors: int
    seconds: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float
    client_cpu_s: float
    warmup: int
    startup_s: float
    server_cpu_s: dict[str, float] = field(default_factory=dict)  # supervisor, each worker
    first_error: str | None = None

    @property
    def server_cpu_ms_per_request(self) -> float:
        return sum(self.server_cpu_s.values()) * 1000 / self.requests if self.requests else 0.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of sorted values (q in 0..100)."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), round(q / 100 * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]


class Server:
    """`vigil serve` on loopback, in its own temporary folder: `--insecure-dev`, or with `auth`
    a configured issuer whose ES384 key signs the client's tokens (`Server.tokens`)."""

    def __init__(self, workers: int, log_path: Path | None = None, auth: bool = False) -> None:
        self.workers = workers
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        self._tmp = tempfile.TemporaryDirectory(prefix="vigil-cds-bench-")
        self._log_path = log_path or Path(self._tmp.name) / "server.log"
        self._log = open(self._log_path, "wb")  # noqa: SIM115
        self.proc: subprocess.Popen[bytes] | None = None
        self._key: Any = None
        self._options = ["--insecure-dev"]
        if auth:
            from joserfc.jwk import ECKey

            self._key = ECKey.generate_key("P-384", parameters={"kid": "bench-1"})
            folder = Path(self._tmp.name)
            (folder / "jwks.json").write_text(
                json.dumps({"keys": [self._key.as_dict(private=False)]})
            )
            (folder / "vigil.toml").write_text(
                f'database = "vigil.sqlite3"\n[[issuers]]\niss = "{ISSUER}"\n'
                'jwks_file = "jwks.json"\n'
            )
            self._options = ["--config", str(folder / "vigil.toml")]

    def tokens(self, count: int) -> list[str] | None:
        """`count` signed tokens for the service endpoint, each with its own jti; None
        without `auth`. Signed before the load, so the client's signing is not measured."""
        if self._key is None:
            return None
        from joserfc import jwt

        audience = f"{self.url}/cds-services/{SERVICE}"
        now = int(time.time())
        header = {"alg": "ES384", "typ": "JWT", "kid": "bench-1"}
        return [
            jwt.encode(
                header,
                {"iss": ISSUER, "aud": audience, "iat": now, "exp": now + 300, "jti": str(n)},
                self._key,
                algorithms=["ES384"],
            )
            for n in range(count)
        ]

    def start(self, timeout: float = 60.0) -> float:
        started = time.perf_counter()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "vigil",
                "serve",
                *self._options,
                "--host",
                HOST,
                "--port",
                str(self.port),
                "--workers",
                str(self.workers),
            ],
            cwd=self._tmp.name,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=2.0) as client:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise SystemExit(
                        f"server exited with {self.proc.returncode}:\n{self.log_tail()}"
                    )
                try:
                    if client.get(f"{self.url}/cds-services").status_code == 200:
                        return time.perf_counter() - started
                except httpx.HTTPError:
                    pass
                time.sleep(0.1)
        self.stop()
        raise SystemExit(f"server not ready after {timeout} s:\n{self.log_tail()}")

    def worker_pids(self) -> list[int]:
        """The worker processes: the supervisor's children (not multiprocessing's helpers)."""
        if self.proc is None:
            return []
        try:
            text = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text()
        except OSError:
            return []
        return [int(p) for p in text.split() if not _is_helper(int(p))]

    def cpu_seconds(self) -> dict[str, float]:
        """User + system CPU seconds so far of the supervisor and of each worker (Linux /proc)."""
        tick = os.sysconf("SC_CLK_TCK")
        out = {}
        processes = [("supervisor", self.proc.pid)] if self.proc is not None else []
        processes += [(f"worker {pid}", pid) for pid in self.worker_pids()]
        for name, pid in processes:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            out[name] = (int(fields[11]) + int(fields[12])) / tick
        return out

    def log_tail(self, lines: int = 30) -> str:
        self._log.flush()
        text = self._log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # uvicorn shuts its workers down on SIGINT
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self._log.close()
        self._tmp.cleanup()


def _is_helper(pid: int) -> bool:
    """multiprocessing's resource tracker, a child of the server that is no worker."""
    try:
        return b"resource_tracker" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True


def check_response(response: httpx.Response) -> str | None:
    """None when the response is the expected card; else what is wrong."""
    if response.status_code != 200:
        return f"HTTP {response.status_code}: {response.text[:200]}"
    cards = response.json().get("cards") or []
    if len(cards) != 1:
        return f"expected 1 card, got {len(cards)}"
    actions = [a for s in cards[0].get("suggestions") or [] for a in s.get("actions") or []]
    if not any((a.get("resource") or {}).get("resourceType") == "ServiceRequest" for a in actions):
        return "the card has no ServiceRequest suggestion"
    return None


async def load(
    url: str,
    bodies: list[tuple[bytes, bytes]],
    concurrency: int,
    requests: int,
    max_seconds: float,
    check_every: int = 50,
    tokens: list[str] | None = None,
) -> tuple[list[float], int, float, str | None]:
    """Keep `concurrency` requests in flight until `requests` are done or `max_seconds` pass.
    Returns the latencies (ms), the error count, the elapsed seconds and the first error."""
    endpoint = f"{url}/cds-services/{SERVICE}"
    headers = {"content-type": "application/json"}
    latencies: list[float] = []
    errors = 0
    first_error: str | None = None
    issued = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=30.0, limits=limits) as client:
        started = time.perf_counter()
        deadline = started + max_seconds

        async def one() -> None:
            nonlocal issued, errors, first_error
            while issued < requests and time.perf_counter() < deadline:
                issued += 1
                number = issued
                head, tail = bodies[number % len(bodies)]
                content = head + str(uuid.uuid4()).encode() + tail
                these = headers
                if tokens is not None:
                    these = {**headers, "authorization": f"Bearer {tokens[number - 1]}"}
                t0 = time.perf_counter()
                try:
                    response = await client.post(endpoint, content=content, headers=these)
                    await response.aread()
                except httpx.HTTPError as exc:
                    problem: str | None = f"{type(exc).__name__}: {exc}"
                else:
                    # Full check on a sample only: parsing every answer would load the client.
                    problem = (
                        check_response(response)
                        if (number - 1) % check_every == 0
                        else (
                            None if response.status_code == 200 else f"HTTP {response.status_code}"
                        )
                    )
                elapsed = (time.perf_counter() - t0) * 1000
                if problem is None:
                    latencies.append(elapsed)
                else:
                    errors += 1
                    first_error = first_error or problem

        await asyncio.gather(*(one() for _ in range(concurrency)))
        return latencies, errors, time.perf_counter() - started, first_error


def run_server(
    workers: int,
    bodies: list[tuple[bytes, bytes]],
    concurrency: int,
    requests: int,
    warmup: int,
    max_seconds: float,
    auth: bool = False,
) -> LoadResult:
    """One round: a new server, a warm-up, then the measured load."""
    server = Server(workers, auth=auth)
    try:
        startup = server.start()
        tokens = server.tokens(warmup + requests)
        # Warm-up: every worker imports lazily and validates its first resources slowly; keep
        # concurrency so requests reach every worker.
        _, warm_errors, _, warm_error = asyncio.run(
            load(server.url, bodies, concurrency, warmup, max_seconds, 1, tokens)
        )
        if warm_errors:
            raise SystemExit(
                f"warm-up failed ({warm_errors} errors): {warm_error}\n{server.log_tail()}"
            )
        server_cpu0 = server.cpu_seconds()
        cpu0 = time.process_time()
        gc.disable()  # the client's own collections (up to 8 ms each) must not delay answers
        try:
            rest = tokens[warmup:] if tokens is not None else None
            latencies, errors, seconds, first_error = asyncio.run(
                load(server.url, bodies, concurrency, requests, max_seconds, tokens=rest)
            )
        finally:
            gc.enable()
        client_cpu = time.process_time() - cpu0
        server_cpu = {
            name: round(cpu - server_cpu0.get(name, 0.0), 3)
            for name, cpu in server.cpu_seconds().items()
        }
    finally:
        server.stop()
    latencies.sort()
    done = len(latencies)
    return LoadResult(
        workers=workers,
        patients=len(bodies),
        auth=auth,
        requests=done,
        errors=errors,
        seconds=seconds,
        rps=done / seconds if seconds else 0.0,
        p50_ms=percentile(latencies, 50),
        p90_ms=percentile(latencies, 90),
        p99_ms=percentile(latencies, 99),
        max_ms=latencies[-1] if latencies else float("nan"),
        mean_ms=statistics.fmean(latencies) if latencies else float("nan"),
        client_cpu_s=client_cpu,
        warmup=warmup,
        startup_s=startup,
        first_error=first_error,
        server_cpu_s=server_cpu,
    )


def in_process(prefetches: list[dict[str, Any]], seconds: float, warmup: int) -> dict[str, Any]:
    """The service's evaluations in a loop in this process: `evaluate_bundle` on the prefetch
    Bundles in rotation, with a long-lived resource cache as a worker has, and the cards."""
    import engine
    import fhir_adapters
    from fhir_adapters.cache import ResourceCache

    ruleset = engine.load_ruleset(SERVICE)
    cache = ResourceCache()

    def evaluate(prefetch: dict[str, Any]) -> Any:
        results = fhir_adapters.evaluate_bundle(prefetch, ruleset, cache=cache)
        return results, [r.cards() for r in results]

    for i in range(warmup):
        results, _ = evaluate(prefetches[i % len(prefetches)])
        if len(results) != 1 or results[0].escalation == "none":
            raise SystemExit(f"in-process: unexpected results {results!r}")
    times: list[float] = []
    cpu0 = time.process_time()
    end = time.perf_counter() + seconds
    started = time.perf_counter()
    while time.perf_counter() < end:
        prefetch = prefetches[(warmup + len(times)) % len(prefetches)]
        t0 = time.perf_counter()
        evaluate(prefetch)
        times.append((time.perf_counter() - t0) * 1000)
    total = time.perf_counter() - started
    cpu = time.process_time() - cpu0
    times.sort()
    return {
        "patients": len(prefetches),
        "evaluations": len(times),
        "seconds": total,
        "rps": len(times) / total,
        "p50_ms": percentile(times, 50),
        "p99_ms": percentile(times, 99),
        "cpu_ms_per_evaluation": cpu * 1000 / len(times),
    }


def _median_round(rounds: list[LoadResult]) -> LoadResult:
    """The round whose p99 is the median (the lower middle one of an even count)."""
    ordered = sorted(rounds, key=lambda r: r.p99_ms)
    return ordered[(len(ordered) - 1) // 2]


def _mode(patients: int) -> str:
    return "same chart re-sent" if patients == 1 else f"{patients:,} patients in rotation"


def table(
    rounds: dict[tuple[int, int], list[LoadResult]],
    inproc: dict[int, dict[str, Any]],
    concurrency: int,
) -> str:
    rows = [
        f"| patients | setup ({concurrency} concurrent) | rounds | requests | errors | p50 ms"
        " | p99 ms (median round) | p99 ms, all rounds | req/s | in-process / HTTP"
        " | server CPU ms/req (supervisor / workers) | client CPU |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | --- | ---: |",
    ]
    for patients, measured in inproc.items():
        for (workers, mode_patients), these in rounds.items():
            if mode_patients != patients:
                continue
            r = _median_round(these)
            ratio = measured["rps"] / r.rps if r.rps else float("inf")
            share = r.client_cpu_s / r.seconds if r.seconds else 0.0
            total_cpu = sum(r.server_cpu_s.values()) or 1.0
            split = " / ".join(f"{cpu / total_cpu:.0%}" for cpu in r.server_cpu_s.values())
            every = ", ".join(f"{x.p99_ms:.1f}" for x in these)
            auth = ", JWT" if r.auth else ""
            rows.append(
                f"| {_mode(patients)} | HTTP{auth}, {workers} worker{'s' if workers > 1 else ''} "
                f"| {len(these)} | {sum(x.requests for x in these)} "
                f"| {sum(x.errors for x in these)} | {r.p50_ms:.1f} | {r.p99_ms:.1f} | {every} "
                f"| {r.rps:.1f} | {ratio:.2f}x | {r.server_cpu_ms_per_request:.1f} ({split}) "
                f"| {share:.0%} of a core |"
            )
        rows.append(
            f"| {_mode(patients)} | in-process, 1 process | 1 | {measured['evaluations']} | 0 "
            f"| {measured['p50_ms']:.1f} | {measured['p99_ms']:.1f} | - "
            f"| {measured['rps']:.1f} | 1.00x "
            f"| {measured['cpu_ms_per_evaluation']:.1f} (same process) | - |"
        )
    return "\n".join(rows)


def verdict(
    rounds: dict[tuple[int, int], list[LoadResult]], inproc: dict[int, dict[str, Any]]
) -> list[str]:
    lines = []
    for (workers, patients), these in rounds.items():
        r = _median_round(these)
        worst = max(x.p99_ms for x in these)
        ratio = inproc[patients]["rps"] / r.rps if r.rps else float("inf")
        p99_ok = "meets" if r.p99_ms < GOAL_P99_MS else "misses"
        ratio_ok = "meets" if ratio <= GOAL_RATIO else "misses"
        lines.append(
            f"- {_mode(patients)}, {workers} worker(s): p99 {r.p99_ms:.1f} ms (worst round"
            f" {worst:.1f}) {p99_ok} the {GOAL_P99_MS:.0f} ms goal; throughput {ratio:.2f}x"
            f" below in-process {ratio_ok} the {GOAL_RATIO:.0f}x goal."
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run, under ~30 s")
    parser.add_argument("--requests", type=int, help="measured requests per round (default 2000)")
    parser.add_argument("--concurrency", type=int, default=10, help="requests in flight (10)")
    parser.add_argument("--observations", type=int, default=50, help="prefetched Observations (50)")
    parser.add_argument(
        "--workers", type=int, nargs="+", default=[1, 2], help="worker counts (1 2)"
    )
    parser.add_argument(
        "--patients",
        type=int,
        nargs="+",
        help="distinct patients in rotation, one load per value (default 1 1000; more than 1"
        " defeats the service's cache of resources already read)",
    )
    parser.add_argument("--rounds", type=int, help="rounds per setup, a new server each (3)")
    parser.add_argument(
        "--auth",
        action="store_true",
        help="JWT authentication on (ES384 tokens signed before the load) instead of"
        " --insecure-dev",
    )
    parser.add_argument("--max-seconds", type=float, help="time cap per measured load (default 60)")
    parser.add_argument("--json", metavar="FILE", help="write the results as JSON")
    args = parser.parse_args(argv)

    requests = args.requests or (100 if args.quick else 2000)
    warmup = 20 if args.quick else 200
    max_seconds = args.max_seconds or (3.0 if args.quick else 60.0)
    inproc_seconds = 1.0 if args.quick else 8.0
    rotations = args.patients or ([1, 20] if args.quick else [1, 1000])
    round_count = args.rounds or (1 if args.quick else 3)

    now = datetime.now(UTC)
    first = request_template(prefetch_bundle(args.observations, now, 1))
    print(
        f"patient-view, {args.observations} prefetched Observations"
        f" ({len(first[0]) + len(first[1]) + 36:,} bytes), {args.concurrency} concurrent,"
        f" {requests} requests a round after {warmup} warm-up, {round_count} round(s);"
        f" {os.cpu_count()} CPUs, Python {platform.python_version()}",
        file=sys.stderr,
    )
    load_before = os.getloadavg()[0]
    if load_before > 0.5:
        print(
            f"warning: load average {load_before:.2f} before the run; other processes share the"
            " CPUs and the figures will be lower than on a quiet machine",
            file=sys.stderr,
        )
    rounds: dict[tuple[int, int], list[LoadResult]] = {}
    inproc: dict[int, dict[str, Any]] = {}
    for patients in rotations:
        prefetches = [prefetch_bundle(args.observations, now, k + 1) for k in range(patients)]
        bodies = [request_template(p) for p in prefetches]
        gc.collect()
        gc.freeze()  # the client's own heap (the bodies) out of its collections
        for workers in args.workers:
            for number in range(round_count):
                print(
                    f"... {_mode(patients)}: --workers {workers}, round {number + 1}",
                    file=sys.stderr,
                )
                result = run_server(
                    workers, bodies, args.concurrency, requests, warmup, max_seconds, args.auth
                )
                rounds.setdefault((workers, patients), []).append(result)
        print(f"... {_mode(patients)}: in-process", file=sys.stderr)
        inproc[patients] = in_process(prefetches, inproc_seconds, warmup=10 if args.quick else 50)
        gc.unfreeze()

    print(table(rounds, inproc, args.concurrency))
    print()
    print(
        f"- load average (1 min) before the run {load_before:.2f}, after {os.getloadavg()[0]:.2f}"
    )
    print("\n".join(verdict(rounds, inproc)))
    failed = [r for these in rounds.values() for r in these if r.errors]
    for r in failed:
        print(f"- {r.workers} worker(s), {r.patients} patients: {r.errors} errors: {r.first_error}")
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "observations": args.observations,
                    "concurrency": args.concurrency,
                    "cpus": os.cpu_count(),
                    "python": platform.python_version(),
                    "http": [asdict(r) for these in rounds.values() for r in these],
                    "in_process": list(inproc.values()),
                    "load_average_before": load_before,
                    "goals": {"p99_ms": GOAL_P99_MS, "ratio": GOAL_RATIO},
                },
                indent=2,
            )
        )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
