"""`vigil diff` as an author runs it: a packaged ruleset against an edited copy, with and
without a generated population."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import engine
from bench.scenario_population import AS_OF, population
from tests.authoring.diff.small_ruleset import RULESET
from tests.vigil.test_evaluate_command import vigil

HYPERKALAEMIA = engine.packaged_rulesets()["hyperkalaemia"].parent
SEVERE = "  severe_potassium: 6.5 mmol/L"


def _lowered_copy(tmp_path: Path) -> Path:
    """The packaged hyperkalaemia ruleset with its severe threshold lowered to 6.3 mmol/L."""
    folder = tmp_path / "hyperkalaemia"
    shutil.copytree(HYPERKALAEMIA, folder, ignore=shutil.ignore_patterns("scenarios"))
    text = (folder / "ruleset.yaml").read_text()
    assert SEVERE in text
    text = text.replace(SEVERE, "  severe_potassium: 6.3 mmol/L")
    (folder / "ruleset.yaml").write_text(text.replace("version: 1.0.0", "version: 1.1.0"))
    return folder


def test_a_threshold_change_and_its_impact_on_a_generated_population(tmp_path: Path) -> None:
    new = _lowered_copy(tmp_path)
    people = tmp_path / "population.json"
    people.write_text(json.dumps(population(HYPERKALAEMIA, 200)))
    as_of = AS_OF.isoformat()
    run = vigil("diff", "hyperkalaemia", new, "--population", people, "--as-of", as_of,
                "--format", "json")  # fmt: skip
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert [(c["section"], c["subject"]) for c in report["changes"]] == [
        ("metadata", "version"),
        ("parameters", "severe_potassium"),
    ]
    assert report["changes"][1]["text"].startswith("severe_potassium: 6.5 mmol/L -> 6.3 mmol/L (")
    impact = report["impact"]
    assert impact["patients"] == 200
    moves = impact["moves"]
    assert impact["changed"] == sum(m["count"] for m in moves) > 0
    # a lower severe threshold only ever raises a patient, and always to the severe level
    assert {m["to"] for m in moves} == {"emergency"}
    assert ("same-day-review", "emergency") in {(m["from"], m["to"]) for m in moves}
    assert all(0 < len(m["examples"]) <= min(5, m["count"]) for m in moves)
    rules = {r["rule"]: (r["started"], r["stopped"]) for r in impact["rules"]}
    assert rules["severe-hyperkalaemia"][0] > 0 and rules["severe-hyperkalaemia"][1] == 0
    assert rules["moderate-hyperkalaemia"][0] == 0 and rules["moderate-hyperkalaemia"][1] > 0
    levels = {lv["level"]: (lv["old"], lv["new"]) for lv in impact["levels"]}
    assert sum(old for old, _ in levels.values()) == sum(new for _, new in levels.values()) == 200
    assert levels["emergency"][1] - levels["emergency"][0] == impact["changed"]


def test_the_text_report_reads_without_a_terminal(tmp_path: Path) -> None:
    old, new = tmp_path / "old.yaml", tmp_path / "new.yaml"
    old.write_text(RULESET)
    new.write_text(RULESET.replace("status: active", "status: retired"))
    run = vigil("diff", old, new)
    assert run.returncode == 0, run.stderr
    assert run.stdout == (
        f"small-potassium 1.0.0 [active] ({old})\n"
        f"  -> small-potassium 1.0.0 [retired] ({new})\n"
        "\n"
        "Metadata\n"
        "  ~ status: active -> retired\n"
        "\n"
        "1 change.\n"
    )


def test_a_ruleset_that_cannot_be_read_is_one_located_line_and_exit_2(tmp_path: Path) -> None:
    good, broken = tmp_path / "good.yaml", tmp_path / "broken.yaml"
    good.write_text(RULESET)
    broken.write_text(RULESET.replace("status: active", "status: [active"))
    run = vigil("diff", good, broken)
    assert run.returncode == 2
    assert run.stdout == ""
    assert run.stderr.startswith(f"{broken}:")
    assert ": error: " in run.stderr
    assert "Traceback" not in run.stderr
    missing = vigil("diff", good, tmp_path / "nowhere")
    assert missing.returncode == 2
    assert "Traceback" not in missing.stderr and "nowhere" in missing.stderr
    truncated = tmp_path / "population.json"
    truncated.write_text('{"resourceType": "Bundle", "entry": [')
    unread = vigil("diff", good, good, "--population", truncated)
    assert unread.returncode == 2
    assert (
        unread.stderr
        == f"vigil diff: error: {truncated}: not valid JSON: it ends early at line 1 (truncated?)\n"
    )
