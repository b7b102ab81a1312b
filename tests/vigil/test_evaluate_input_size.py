"""`vigil evaluate` on input too large to read whole: a limit, and NDJSON read a line at a time."""

from __future__ import annotations

import json
from pathlib import Path

from tests.vigil.test_evaluate_command import ROOT, vigil

EXAMPLES = ROOT / "examples" / "calf-patients.json"  # 10 KB


def test_a_json_document_over_max_json_size_exits_2_saying_what_to_do() -> None:
    run = vigil("evaluate", EXAMPLES, "--max-json-size", "0.005", "--as-of", "2026-03-01")

    assert run.returncode == 2
    assert run.stdout == ""
    assert run.stderr.splitlines() == [
        f"vigil evaluate: {EXAMPLES}: a JSON document larger than 5,242 bytes (the limit,"
        " --max-json-size) is not read, as it is parsed whole: split it, or write it as NDJSON"
        " (one resource a line, in a file named .ndjson), which is read a line at a time"
    ]


def test_an_endless_stream_as_input_is_refused_at_the_limit() -> None:
    # /dev/zero was read until a MemoryError traceback
    run = vigil("evaluate", "/dev/zero", "--max-json-size", "1")

    assert run.returncode == 2
    assert run.stderr.splitlines()[0].startswith(
        "vigil evaluate: /dev/zero: a JSON document larger than 1 MiB"
    )
    assert len(run.stderr.splitlines()) == 1


def test_ndjson_larger_than_max_json_size_is_read_a_line_at_a_time(tmp_path: Path) -> None:
    entries = json.loads(EXAMPLES.read_text())["entry"]
    ndjson = tmp_path / "export.ndjson"
    ndjson.write_text("".join(json.dumps(e["resource"]) + "\n" for e in entries))

    run = vigil("evaluate", ndjson, "--max-json-size", "0.005", "--as-of", "2026-03-01")
    whole = vigil("evaluate", EXAMPLES, "--as-of", "2026-03-01")

    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["results"] == json.loads(whole.stdout)["results"]


def test_max_json_size_must_be_a_positive_number() -> None:
    run = vigil("evaluate", EXAMPLES, "--max-json-size", "0")

    assert run.returncode == 2
    assert "argument --max-json-size: '0' is not a positive number of MiB" in run.stderr
