"""Coverage-guided fuzzing of Vigil's three readers of outside input, with atheris (libFuzzer):
the FHIR reader (`reader`), the ruleset loader (`ruleset`) and the CDS Hooks request parser
(`request`), each checked as bench/fuzz_targets.py says: a result or Vigil's own one-line error,
never another exception, a 5xx, a native crash or a hang. Seeded from real inputs; an input that
breaks a promise is written to `crash-<sha1>` in `--artifacts` and the script exits 1. Without
atheris (`--no-atheris`), the same checks run over random mutations, with no coverage guidance.

    pip install -e '.[fuzz]'                                   # atheris (Linux x86-64 wheels)
    .venv/bin/python bench/fuzz_atheris.py --target all --runs 100000
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.fuzz_targets import SAMPLES, Skip, checker, seeds  # noqa: E402

TARGETS = ("reader", "ruleset", "request")
INSTRUMENTED = ["engine", "fhir_adapters"]
MAX_LEN = 16 * 1024
# the longest input tried, per target: a YAML ruleset is parsed in pure Python (4 ms for 2 KB)
MAX_LENS = {"reader": MAX_LEN, "ruleset": 4096, "request": 8192}
TIMEOUT_SECONDS = 20
RSS_LIMIT_MB = 2048
_SKIP_NOTE = "vigil-fuzz-skipped "


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", choices=[*TARGETS, "all"], default="all")
    parser.add_argument("--runs", type=int, default=100_000, help="inputs per target")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--artifacts", type=Path, default=Path.cwd())
    parser.add_argument(
        "--samples", type=Path, default=SAMPLES, help="FHIR files to seed the reader with"
    )
    parser.add_argument("--no-atheris", action="store_true", help="random mutation, no coverage")
    parser.add_argument("--child", choices=TARGETS, help=argparse.SUPPRESS)
    args, libfuzzer_args = parser.parse_known_args(argv)
    if args.child:
        return _child(args.child, libfuzzer_args)
    use_atheris = not args.no_atheris and _has_atheris()
    if not use_atheris:
        print("atheris is not available: random mutation without coverage guidance")
    rows = []
    for target in TARGETS if args.target == "all" else (args.target,):
        run = _run_atheris if use_atheris else _run_mutation
        rows.append(run(target, args.runs, args.seed, args.artifacts, args.samples))
    print()
    print(
        "| target | engine | inputs | passed over (known defects) | failures | seconds | coverage |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: | --- |")
    for row in rows:
        print("| " + " | ".join(str(cell) for cell in row[:-1]) + " |")
    failed = [row for row in rows if row[4]]
    for row in failed:
        print(f"\n{row[0]}: {row[-1]}")
    return 1 if failed else 0


def _has_atheris() -> bool:
    try:
        import atheris  # noqa: F401
    except ImportError:
        return False
    return True


def _run_atheris(
    target: str, runs: int, seed: int, artifacts: Path, samples: Path
) -> tuple[str, str, int, int, int, float, str, str]:
    """One target under libFuzzer in a child process; its row of the table."""
    artifacts.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f"vigil-fuzz-{target}-") as corpus:
        for number, data in enumerate(seeds(target, samples)):
            (Path(corpus) / f"seed-{number}").write_bytes(data)
        command = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--child",
            target,
            f"-runs={runs}",
            f"-seed={seed}",
            f"-max_len={MAX_LENS[target]}",
            f"-timeout={TIMEOUT_SECONDS}",
            f"-rss_limit_mb={RSS_LIMIT_MB}",
            f"-artifact_prefix={artifacts}/",
            "-print_final_stats=1",
            corpus,
        ]
        log = artifacts / f"fuzz-{target}.log"
        print(f"{target}: {runs} inputs under libFuzzer (its log: {log}) ...", flush=True)
        started = time.monotonic()
        with log.open("w") as sink:
            child = subprocess.run(
                command, cwd=ROOT, stdout=sink, stderr=subprocess.STDOUT, check=False
            )
        seconds = round(time.monotonic() - started, 1)
    output = log.read_text(errors="replace")
    done = re.search(r"Done (\d+) runs", output)
    executed = re.search(r"stat::number_of_executed_units:\s*(\d+)", output)
    inputs = int(done.group(1)) if done else int(executed.group(1)) if executed else 0
    coverage = re.findall(r"cov: (\d+) ft: (\d+)", output)
    reached = f"{coverage[-1][0]} edges, {coverage[-1][1]} features" if coverage else "?"
    skipped = sum(int(n) for n in re.findall(_SKIP_NOTE + r"(\d+)", output))
    failure = "" if child.returncode == 0 else _failure(output)
    return (target, "atheris", inputs, skipped, int(bool(failure)), seconds, reached, failure)


def _failure(output: str) -> str:
    """The lines of libFuzzer's output that say what failed and where the input is."""
    keep = [
        line
        for line in output.splitlines()
        if line.startswith(("=== Uncaught", "==", "Traceback", "  File", "AssertionError"))
        or "Test unit written" in line
        or "Error" in line
    ]
    return "\n".join(keep[-40:]) or output[-3000:]


def _child(target: str, libfuzzer_args: list[str]) -> int:
    import atheris

    with atheris.instrument_imports(include=INSTRUMENTED):
        import yaml  # noqa: F401

        import engine  # noqa: F401
        import fhir_adapters.cds_hooks.app  # noqa: F401
    skipped = 0
    checks = checker(target)
    check = next(checks)

    def one_input(data: bytes) -> None:
        nonlocal skipped
        try:
            check(data)
        except Skip:
            skipped += 1

    def report() -> None:
        print(f"{_SKIP_NOTE}{skipped}", file=sys.stderr, flush=True)

    import atexit

    atexit.register(report)
    atheris.Setup([sys.argv[0], *libfuzzer_args], one_input)
    atheris.Fuzz()
    return 0


def _run_mutation(
    target: str, runs: int, seed: int, artifacts: Path, samples: Path
) -> tuple[str, str, int, int, int, float, str, str]:
    """The same checks over random byte-level mutations of the seeds: no coverage guidance."""
    rng = random.Random(seed)
    pool = seeds(target, samples)
    skipped = 0
    print(f"{target}: {runs} mutated inputs ...", flush=True)
    started = time.monotonic()
    checks = checker(target)
    check = next(checks)
    try:
        for number in range(runs):
            data = _mutate(rng, rng.choice(pool), pool)
            try:
                check(data)
            except Skip:
                skipped += 1
            except Exception as exc:
                artifacts.mkdir(parents=True, exist_ok=True)
                path = artifacts / f"crash-{target}-{number}"
                path.write_bytes(data)
                problem = f"{type(exc).__name__}: {exc}"[:2000] + f"\ninput written to {path}"
                seconds = round(time.monotonic() - started, 1)
                return (target, "mutation", number + 1, skipped, 1, seconds, "-", problem)
    finally:
        with contextlib.suppress(StopIteration):
            next(checks)
    seconds = round(time.monotonic() - started, 1)
    return (target, "mutation", runs, skipped, 0, seconds, "-", "")


_TOKENS = [
    b"{",
    b"}",
    b"[",
    b"]",
    b'"',
    b":",
    b",",
    b"null",
    b"-0",
    b"1e309",
    b"NaN",
    b'"\\ud800"',
    b"\xff",
    b"\n",
    b"- ",
    b": ",
    b"&a ",
    b"*a",
    b"!!python/object ",
    b"9" * 40,
    "\u202e".encode(),
]


def _mutate(rng: random.Random, data: bytes, pool: list[bytes]) -> bytes:
    """A few random edits: flip, delete, duplicate or insert a token or a span of another seed."""
    out = bytearray(data[:MAX_LEN])
    for _ in range(rng.randint(1, 6)):
        at = rng.randrange(len(out) + 1)
        kind = rng.randrange(5)
        if kind == 0 and out:
            out[min(at, len(out) - 1)] ^= 1 << rng.randrange(8)
        elif kind == 1:
            del out[at : at + rng.randint(1, 64)]
        elif kind == 2:
            out[at:at] = out[at : at + rng.randint(1, 256)]
        elif kind == 3:
            out[at:at] = rng.choice(_TOKENS)
        else:
            other = rng.choice(pool)
            start = rng.randrange(len(other) + 1)
            out[at:at] = other[start : start + rng.randint(1, 512)]
    return bytes(out[:MAX_LEN])


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    sys.exit(main())
