"""Peak memory of `vigil evaluate` on a large input: one Bundle, and the same data as NDJSON.

Generates the input from examples/calf-patients.json (each patient copied under new ids until
the file reaches --megabytes), runs `python -m vigil evaluate` on each in a subprocess and
prints its peak RSS, and how far it grew over an empty input's, beside the input's size.

    .venv/bin/python bench/input_memory.py --megabytes 50
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "calf-patients.json"


def copies(megabytes: float) -> list[dict[str, Any]]:
    """The example's resources copied under new ids until their JSON reaches `megabytes`."""
    template = json.loads(EXAMPLE.read_text())["entry"]
    text = json.dumps(template)
    resources: list[dict[str, Any]] = []
    size = 0
    copy = 0
    while size < megabytes * 1_000_000:
        renamed = json.loads(text.replace("Patient/", f"Patient/c{copy}-"))
        for entry in renamed:
            resource_ = entry["resource"]
            resource_["id"] = f"c{copy}-{resource_['id']}"
            resources.append(resource_)
        size += len(text)
        copy += 1
    return resources


def peak_rss_mib(path: Path) -> tuple[float, float]:
    """Peak RSS (MiB) and seconds of one `vigil evaluate` run, in its own process."""
    script = (
        "import resource, subprocess, sys\n"
        "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    command = [sys.executable, "-m", "vigil", "evaluate", str(path), "--as-of", "2026-03-01"]
    start = time.perf_counter()
    run = subprocess.run(
        [sys.executable, "-c", script, *command],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return int(run.stdout) / 1024, time.perf_counter() - start


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--megabytes", type=float, default=50.0, help="input size (default 50)")
    megabytes = options.parse_args().megabytes
    resources = copies(megabytes)
    with tempfile.TemporaryDirectory() as folder:
        bundle = Path(folder) / "bundle.json"
        entries = [{"fullUrl": f"urn:uuid:{i}", "resource": r} for i, r in enumerate(resources)]
        bundle.write_text(
            json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries})
        )
        ndjson = Path(folder) / "export.ndjson"
        ndjson.write_text("".join(json.dumps(r) + "\n" for r in resources))
        empty = Path(folder) / "empty.ndjson"
        empty.write_text("")
        baseline, _ = peak_rss_mib(empty)
        print(f"{len(resources):,} resources; baseline (an empty input) {baseline:.1f} MiB")
        for name, path in (("Bundle", bundle), ("NDJSON", ndjson)):
            size = path.stat().st_size / 2**20
            rss, seconds = peak_rss_mib(path)
            grown = rss - baseline
            print(
                f"{name:<7} {size:6.1f} MiB in: peak RSS {rss:7.1f} MiB, {grown:7.1f} over the"
                f" baseline, {grown / size:4.1f}x the input ({seconds:.0f} s)"
            )


if __name__ == "__main__":
    main()
