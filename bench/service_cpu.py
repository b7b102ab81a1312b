"""CPU time of one CDS Hooks call through the whole service path, in this process.

The app `vigil serve` runs (authentication off), driven through httpx's ASGI transport: the
body parsed, the prefetch gathered, resources read and cached, the rules run, the cards built,
the audit written. No HTTP server and no other process, so the figure is the service's own
cost a call, steadier than a load test's latency on a shared VM. To compare two commits, run
it by turns from each checkout (copied into one that lacks it).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

ROOT = Path(__file__).parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.cds_hooks_payloads import prefetch_bundle, request_template  # noqa: E402
from fhir_adapters.cds_hooks.app import create_app  # noqa: E402
from fhir_adapters.cds_hooks.config import ServiceConfig  # noqa: E402

SERVICE = "/cds-services/calf-fasciculation"


async def cpu_per_call(patients: int, calls: int, warmup: int) -> float:
    """Milliseconds of this process's CPU a call, over `calls` after `warmup`."""
    folder = Path(tempfile.mkdtemp())
    app = create_app(ServiceConfig(database=folder / "vigil.sqlite3", insecure_dev=True))
    bodies = [request_template(prefetch_bundle(50, patient=p + 1)) for p in range(patients)]
    headers = {"content-type": "application/json"}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:

            async def one(n: int) -> None:
                head, tail = bodies[n % len(bodies)]
                body = head + str(uuid.uuid4()).encode() + tail
                response = await client.post(SERVICE, content=body, headers=headers)
                if response.status_code != 200 or not response.json()["cards"]:
                    raise SystemExit(f"unexpected answer {response.status_code}: {response.text}")

            for n in range(warmup):
                await one(n)
            started = time.process_time()
            for n in range(calls):
                await one(warmup + n)
            return (time.process_time() - started) / calls * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=600)
    parser.add_argument("--quick", action="store_true", help="a smoke run (60 calls)")
    args = parser.parse_args()
    calls = 60 if args.quick else args.calls
    resent = asyncio.run(cpu_per_call(1, calls, warmup=100))
    fresh = asyncio.run(cpu_per_call(1000, calls, warmup=100))
    print("| chart | CPU ms a call |\n| --- | ---: |")
    print(f"| re-sent | {resent:.2f} |\n| fresh (1,000 in rotation) | {fresh:.2f} |")


if __name__ == "__main__":
    main()
