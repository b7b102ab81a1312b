"""`vigil new` as an author runs it: the folder it writes loads and passes `vigil test`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import engine

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "calf-patients.json"


def vigil(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vigil", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


def test_a_new_ruleset_loads_and_passes_its_tests_with_full_coverage(tmp_path: Path) -> None:
    created = vigil("new", "calf-cramp", "--dir", tmp_path)
    folder = tmp_path / "calf-cramp"

    tested = vigil("test", folder)
    evaluated = vigil("evaluate", EXAMPLES, "--ruleset", folder, "--format", "json")

    assert created.returncode == 0, created.stderr
    assert created.stdout.startswith(f"created {folder}/")
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert tested.stdout == "calf-cramp: 2 of 2 scenarios passed\n"
    assert evaluated.returncode == 0, evaluated.stderr
    assert evaluated.stderr == (
        "vigil evaluate: warning: calf-cramp 0.1.0 is a draft: used because it was named\n"
    )
    ruleset = engine.load_ruleset(folder)
    assert (ruleset.id, ruleset.version, ruleset.status) == ("calf-cramp", "0.1.0", "draft")
    assert ruleset.reviewers == () and ruleset.parameters and ruleset.rules[0].then.cite


def test_an_existing_folder_or_a_bad_name_is_refused_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "notes.txt").write_text("mine")

    taken = vigil("new", "taken", "--dir", tmp_path)
    bad = vigil("new", "Calf_Cramp", "--dir", tmp_path)

    assert (taken.returncode, bad.returncode) == (2, 2)
    assert (
        taken.stderr
        == f"vigil new: {tmp_path / 'taken'}: already exists and is not an empty folder\n"
    )
    assert bad.stderr.startswith("vigil new: 'Calf_Cramp' is not a ruleset id")
    assert (tmp_path / "taken" / "notes.txt").read_text() == "mine"
    assert not (tmp_path / "Calf_Cramp").exists()
