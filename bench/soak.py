"""Soak test of `vigil serve`: one server under steady mixed load for `--minutes` (default 10),
the memory of every one of its processes sampled every `--sample-seconds` (default 10).

`vigil serve --workers 2` on loopback, authentication on (a test issuer with a key made for the
run), `--rate` calls a second (20): 35% fresh charts, 35% re-sent charts, 15% feedback, 15%
refused tokens. Exits 1 unless every call gets the status its kind expects (no 5xx, no
connection error), no process is replaced, and every process's RSS at the end is within 10% of
its RSS after the first minute (`--no-rss-goal` leaves that out, for a short smoke run).

    .venv/bin/python bench/soak.py                       # 10 minutes
    .venv/bin/python bench/soak.py --minutes 0.3 --sample-seconds 2 --no-rss-goal
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from joserfc import jwt  # noqa: E402
from joserfc.jwk import ECKey  # noqa: E402

from bench.cds_hooks_bench import free_port  # noqa: E402
from bench.cds_hooks_payloads import SERVICE, hook_request, prefetch_bundle  # noqa: E402

HOST = "127.0.0.1"
ISSUER = "https://ehr.example.org"
RSS_GOAL = 0.10
RE_SENT_PATIENTS = 20
OBSERVATIONS = 20
MIX = (("fresh", 35), ("re-sent", 35), ("feedback", 15), ("refused", 15))
EXPECTED = {"fresh": 200, "re-sent": 200, "feedback": 200, "refused": 401}
MAX_IN_FLIGHT = 32
KEEPALIVE_SECONDS = 2.0  # under uvicorn's timeout_keep_alive (5 s)


class SoakServer:
    """`vigil serve --workers N` with authentication on, in a temporary folder."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        self.folder = tempfile.TemporaryDirectory(prefix="vigil-soak-")
        path = Path(self.folder.name)
        self.key = ECKey.generate_key("P-384", parameters={"kid": "soak-1"})
        self.stranger = ECKey.generate_key("P-384", parameters={"kid": "soak-1"})
        (path / "jwks.json").write_text(json.dumps({"keys": [self.key.as_dict(private=False)]}))
        (path / "vigil.toml").write_text(
            f'database = "vigil.sqlite3"\n[[issuers]]\niss = "{ISSUER}"\njwks_file = "jwks.json"\n'
        )
        self.log_path = path / "server.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 90.0) -> None:
        command = [sys.executable, "-m", "vigil", "serve", "--config", "vigil.toml"]
        command += ["--host", HOST, "--port", str(self.port), "--workers", str(self.workers)]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command,
                cwd=self.folder.name,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"},
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(
                    f"vigil serve exited with {self.process.returncode}:\n{self.log()}"
                )
            try:
                answered = httpx.get(f"{self.url}/cds-services", timeout=2).status_code == 200
                if answered and len(self.workers_now()) == self.workers:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise SystemExit(f"vigil serve not ready after {timeout} s:\n{self.log()}")

    def workers_now(self) -> list[int]:
        """The supervisor's children that are workers (not multiprocessing's helper)."""
        return [pid for pid in self._children() if b"resource_tracker" not in _cmdline(pid)]

    def processes(self) -> dict[str, int]:
        """Every process of the server, named: the supervisor, its workers, its helpers."""
        assert self.process is not None
        named = {"supervisor": self.process.pid}
        for pid in self._children():
            kind = "helper" if b"resource_tracker" in _cmdline(pid) else "worker"
            named[f"{kind} {pid}"] = pid
        return named

    def _children(self) -> list[int]:
        assert self.process is not None
        pid = self.process.pid
        try:
            return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
        except OSError:
            return []

    def token(self, path: str, *, key: ECKey | None = None, **claims: Any) -> str:
        now = int(time.time())
        body = {
            "iss": ISSUER,
            "aud": self.url + path,
            "iat": now,
            "exp": now + 300,
            "jti": str(uuid.uuid4()),
            **claims,
        }
        header = {"alg": "ES384", "typ": "JWT", "kid": "soak-1"}
        return jwt.encode(header, body, key or self.key, algorithms=["ES384"])

    def log(self, lines: int = 30) -> str:
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def rss_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


@dataclass
class Tally:
    statuses: collections.Counter[tuple[str, str]] = field(default_factory=collections.Counter)
    latencies: list[float] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)

    def add(self, kind: str, outcome: str, ms: float) -> None:
        self.statuses[(kind, outcome)] += 1
        self.latencies.append(ms)
        if outcome != str(EXPECTED[kind]) and len(self.unexpected) < 10:
            self.unexpected.append(f"{kind}: {outcome}")

    def count(self, predicate: Any) -> int:
        return sum(n for (kind, outcome), n in self.statuses.items() if predicate(kind, outcome))


class Load:
    """The mixed calls, each built as it is sent."""

    def __init__(self, server: SoakServer, seed: int) -> None:
        self.server = server
        self.rng = random.Random(seed)
        self.fresh = 1000  # patients above the re-sent ones' numbers
        self.re_sent = [
            prefetch_bundle(OBSERVATIONS, patient=n) for n in range(2, 2 + RE_SENT_PATIENTS)
        ]
        self.kinds = [kind for kind, weight in MIX for _ in range(weight)]
        self.used: list[str] = []  # tokens accepted once, to replay

    def next_call(self) -> tuple[str, str, bytes, dict[str, str]]:
        kind = self.rng.choice(self.kinds)
        path = f"/cds-services/{SERVICE}"
        if kind == "fresh":
            self.fresh += 1
            body: Any = hook_request(
                prefetch_bundle(OBSERVATIONS, patient=self.fresh), str(uuid.uuid4())
            )
        elif kind == "re-sent":
            body = hook_request(self.rng.choice(self.re_sent), str(uuid.uuid4()))
        elif kind == "feedback":
            path += "/feedback"
            body = {"feedback": [self._feedback()]}
        else:
            body = hook_request(self.rng.choice(self.re_sent), str(uuid.uuid4()))
        token = self._refused(path) if kind == "refused" else self.server.token(path)
        headers = {"content-type": "application/json", "authorization": f"Bearer {token}"}
        return kind, path, json.dumps(body, separators=(",", ":")).encode(), headers

    def _feedback(self) -> dict[str, Any]:
        stamp = datetime.now(UTC).isoformat()
        if self.rng.random() < 0.5:
            return {
                "card": str(uuid.uuid4()),
                "outcome": "accepted",
                "acceptedSuggestions": [{"id": str(uuid.uuid4())}],
                "outcomeTimestamp": stamp,
            }
        reason = {"reason": {"code": "not-relevant", "system": "https://example.org"}}
        return {
            "card": str(uuid.uuid4()),
            "outcome": "overridden",
            "overrideReason": reason,
            "outcomeTimestamp": stamp,
        }

    def _refused(self, path: str) -> str:
        way = self.rng.randrange(3)
        if way == 0:
            return self.server.token(path, key=self.server.stranger)  # not the issuer's key
        if way == 1:
            now = int(time.time())
            return self.server.token(path, iat=now - 900, exp=now - 600)
        if self.used:
            return self.rng.choice(self.used)  # already accepted once: a replay
        return self.server.token(path, key=self.server.stranger)


async def run_load(
    server: SoakServer, load: Load, seconds: float, rate: float, tally: Tally
) -> None:
    """Send `rate` calls a second for `seconds`, at most MAX_IN_FLIGHT at once."""
    # An idle connection is dropped by the client before uvicorn closes it (after 5 s): with
    # both at 5 s, a call sent as the server closes fails with a ReadError, which is the race
    # of the two timers, not a call the service lost.
    limits = httpx.Limits(
        max_connections=MAX_IN_FLIGHT,
        max_keepalive_connections=MAX_IN_FLIGHT,
        keepalive_expiry=KEEPALIVE_SECONDS,
    )
    in_flight = asyncio.Semaphore(MAX_IN_FLIGHT)
    async with httpx.AsyncClient(base_url=server.url, timeout=30.0, limits=limits) as client:

        async def one(kind: str, path: str, content: bytes, headers: dict[str, str]) -> None:
            started = time.perf_counter()
            try:
                response = await client.post(path, content=content, headers=headers)
                outcome = str(response.status_code)
                if kind != "refused" and outcome == "200" and len(load.used) < 100:
                    load.used.append(headers["authorization"].removeprefix("Bearer "))
            except httpx.HTTPError as exc:
                outcome = type(exc).__name__
            finally:
                in_flight.release()
            tally.add(kind, outcome, (time.perf_counter() - started) * 1000)

        tasks = set()
        start = time.monotonic()
        sent = 0
        while (now := time.monotonic()) - start < seconds:
            due = start + sent / rate
            if due > now:
                await asyncio.sleep(due - now)
                continue
            await in_flight.acquire()
            task = asyncio.create_task(one(*load.next_call()))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            sent += 1
        await asyncio.gather(*tasks)


async def sample_memory(
    server: SoakServer,
    every: float,
    stop: asyncio.Event,
    samples: list[tuple[float, dict[str, float]]],
    connections: list[dict[str, int]],
) -> None:
    """Every `every` seconds until `stop`, and once more then: each process's RSS, and how many
    client connections each worker holds (the supervisor hands them out by count)."""
    start = time.monotonic()
    while True:
        processes = server.processes()
        row = {name: rss_mib(pid) for name, pid in processes.items()}
        samples.append((time.monotonic() - start, {k: v for k, v in row.items() if v is not None}))
        connections.append(
            {n: established(pid, server.port) for n, pid in processes.items() if "worker" in n}
        )
        if stop.is_set():
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)


def established(pid: int, port: int) -> int:
    """How many established TCP connections to `port` the process holds (Linux /proc)."""
    inodes = set()
    with contextlib.suppress(OSError):
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                local = int(fields[1].rsplit(":", 1)[1], 16)
                count += local == port and fields[3] == "01" and fields[9] in inodes
    return count


Samples = list[tuple[float, dict[str, float]]]


async def soak(
    server: SoakServer, args: argparse.Namespace
) -> tuple[Tally, Samples, list[dict[str, int]]]:
    tally = Tally()
    samples: Samples = []
    connections: list[dict[str, int]] = []
    stop = asyncio.Event()
    sampler = asyncio.create_task(
        sample_memory(server, args.sample_seconds, stop, samples, connections)
    )
    await run_load(server, Load(server, args.seed), args.minutes * 60, args.rate, tally)
    stop.set()
    await sampler
    return tally, samples, connections


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))] if ordered else float("nan")


def report(
    args: argparse.Namespace,
    tally: Tally,
    samples: Samples,
    connections: list[dict[str, int]],
    before: list[int],
    after: list[int],
) -> bool:
    """Print the samples (a worker's RSS with, in brackets, the client connections it holds),
    the counts and the goals; whether every goal was met."""
    names = sorted(
        {name for _, row in samples for name in row}, key=lambda n: (n != "supervisor", n)
    )
    print("\n| seconds | " + " | ".join(f"{n} MiB" for n in names) + " | total MiB |")
    print("| ---: |" + " ---: |" * (len(names) + 1))
    for (at, row), held in zip(samples, connections, strict=True):
        cells = [
            f"{row[n]:.1f}" + (f" ({held[n]})" if n in held else "") if n in row else "-"
            for n in names
        ]
        print(f"| {at:.0f} | " + " | ".join(cells) + f" | {sum(row.values()):.1f} |")

    print("\n| call | status | count |\n| --- | --- | ---: |")
    for (kind, outcome), n in sorted(tally.statuses.items()):
        print(f"| {kind} | {outcome} | {n} |")
    total = sum(tally.statuses.values())
    errors_5xx = tally.count(lambda k, o: o.startswith("5"))
    lost = tally.count(lambda k, o: not o.isdigit())
    wrong = tally.count(lambda k, o: o != str(EXPECTED[k]))
    minutes = args.minutes
    print(
        f"\n{total} calls in {minutes:g} min ({total / (minutes * 60):.1f}/s), p50"
        f" {percentile(tally.latencies, 50):.1f} ms, p99 {percentile(tally.latencies, 99):.1f} ms;"
        f" 5xx: {errors_5xx}; connection errors: {lost}; other unexpected statuses:"
        f" {wrong - errors_5xx - lost}"
    )
    for line in tally.unexpected:
        print(f"  unexpected: {line}")
    met = errors_5xx == 0 and wrong == 0
    replaced = sorted(set(before) ^ set(after))
    if replaced:
        print(f"workers replaced during the run: {replaced}")
        met = False

    reference_at = min(60.0, args.minutes * 30)
    reference = next((row for at, row in samples if at >= reference_at), None)
    final = samples[-1][1] if samples else None
    if reference is None or final is None:
        print("RSS: too few samples")
        return met and not args.rss_goal
    print(f"\nRSS, final against after {reference_at:.0f} s (goal: within {RSS_GOAL:.0%}):")
    memory_met = True
    for name in names:
        if name in reference and name in final:
            change = final[name] / reference[name] - 1
            memory_met &= abs(change) <= RSS_GOAL
            print(f"- {name}: {reference[name]:.1f} -> {final[name]:.1f} MiB ({change:+.1%})")
    total_change = sum(final.values()) / sum(reference.values()) - 1
    print(
        f"- total: {sum(reference.values()):.1f} -> {sum(final.values()):.1f} MiB"
        f" ({total_change:+.1%})"
    )
    goal = "met" if memory_met else "NOT met"
    print(f"memory goal: {goal}" + ("" if args.rss_goal else " (not judged: --no-rss-goal)"))
    print(
        "calls goal (zero 5xx, nothing lost, every status as expected):"
        f" {'met' if met else 'NOT met'}"
    )
    return met and (memory_met or not args.rss_goal)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=20.0, help="calls a second (20)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--sample-seconds", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-rss-goal", dest="rss_goal", action="store_false")
    args = parser.parse_args(argv)
    server = SoakServer(args.workers)
    print(
        f"vigil serve --workers {args.workers}, {args.rate:g} calls/s for {args.minutes:g} min",
        flush=True,
    )
    try:
        server.start()
        before = server.workers_now()
        tally, samples, connections = asyncio.run(soak(server, args))
        after = server.workers_now()
    finally:
        server.stop()
        log = server.log(200)
        server.folder.cleanup()
    if any(word in log for word in ("Traceback", "exited with")):
        print("the server's log:\n" + log)
    return 0 if report(args, tally, samples, connections, before, after) else 1


if __name__ == "__main__":
    sys.exit(main())
