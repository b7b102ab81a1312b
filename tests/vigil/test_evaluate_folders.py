"""`vigil evaluate FOLDER`: every file found is read, or named in an error or a warning."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from tests.vigil.test_evaluate_command import vigil

SCT, LOINC = "http://snomed.info/sct", "http://loinc.org"


def observation(rid: str, system: str, code: str, **value: object) -> dict[str, object]:
    return {
        "resourceType": "Observation",
        "id": rid,
        "status": "final",
        "code": {"coding": [{"system": system, "code": code}]},
        "subject": {"reference": "Patient/p"},
        "effectiveDateTime": "2026-02-27",
        **value,
    }


TWITCH = observation("t", SCT, "82470000")
POTASSIUM = observation(
    "k",
    LOINC,
    "2823-3",
    valueQuantity={"value": 2.2, "unit": "mmol/L", "system": "http://unitsofmeasure.org"},
)


def evaluated(folder: Path) -> dict[str, Any]:
    run = vigil("evaluate", folder, "--as-of", "2026-03-01", "--format", "json")
    assert run.returncode == 0, run.stderr
    output: dict[str, Any] = json.loads(run.stdout)
    return output


def twitching_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "chart"
    folder.mkdir()
    (folder / "twitch.json").write_text(json.dumps(TWITCH))
    return folder


def test_labs_in_a_linked_subfolder_are_read(tmp_path: Path) -> None:
    # the link was not followed: the potassium vanished and urgent became self-care
    labs = tmp_path / "labs"
    labs.mkdir()
    (labs / "potassium.json").write_text(json.dumps(POTASSIUM))
    folder = twitching_folder(tmp_path)
    (folder / "labs").symlink_to(labs)

    output = evaluated(folder)

    assert [r["escalation"] for r in output["results"]] == ["urgent"]
    assert output["warnings"] == []


def test_a_link_loop_is_named_in_a_warning_and_followed_once(tmp_path: Path) -> None:
    folder = twitching_folder(tmp_path)
    (folder / "labs").mkdir()
    (folder / "labs" / "potassium.json").write_text(json.dumps(POTASSIUM))
    (folder / "labs" / "up").symlink_to(folder)

    output = evaluated(folder)

    assert [r["escalation"] for r in output["results"]] == ["urgent"]
    assert output["warnings"] == [
        {
            "source": f"{folder}/labs/up",
            "message": f"a link back to {folder}, which holds it: not followed",
        }
    ]


def test_a_link_to_nothing_exits_2_naming_it(tmp_path: Path) -> None:
    # it was skipped with exit 0: whatever it pointed to was left out in silence
    folder = twitching_folder(tmp_path)
    (folder / "labs").symlink_to(tmp_path / "unmounted")

    run = vigil("evaluate", folder, "--as-of", "2026-03-01")

    assert run.returncode == 2
    assert run.stdout == ""
    assert run.stderr.splitlines() == [
        f"vigil evaluate: {folder}/labs: a symbolic link to {tmp_path}/unmounted, which does"
        " not exist: the data in it would be left out"
    ]


def test_a_fifo_named_like_fhir_is_named_not_waited_on(tmp_path: Path) -> None:
    # opening it for reading waited forever for a writer
    folder = twitching_folder(tmp_path)
    (folder / "potassium.json").write_text(json.dumps(POTASSIUM))
    os.mkfifo(folder / "incoming.json")

    output = evaluated(folder)

    assert [r["escalation"] for r in output["results"]] == ["urgent"]
    assert output["warnings"] == [
        {
            "source": f"{folder}/incoming.json",
            "message": "a FIFO (named pipe) named like a FHIR file: not read",
        }
    ]


def test_files_not_read_are_counted_in_a_warning(tmp_path: Path) -> None:
    folder = twitching_folder(tmp_path)
    (folder / "potassium.json.gz").write_bytes(b"\x1f\x8b")

    output = evaluated(folder)

    assert [r["escalation"] for r in output["results"]] == ["self-care"]
    assert output["warnings"] == [
        {
            "source": str(folder),
            "message": "1 file not read, as only names ending .json or .ndjson are:"
            " potassium.json.gz",
        }
    ]
