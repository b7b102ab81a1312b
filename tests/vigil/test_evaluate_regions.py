"""`vigil evaluate` reads body sites and their laterality: a one-sided leg swelling fires its
rule, and the card names the side."""

from __future__ import annotations

import json
from pathlib import Path

from tests.engine.regioned import NOW, REGIONS
from tests.fhir_adapters.test_body_regions import LEG_SWELLING, observation, site
from tests.vigil.test_evaluate_command import vigil


def test_a_one_sided_leg_swelling_names_its_side(tmp_path: Path) -> None:
    ruleset = tmp_path / "ruleset.yaml"
    ruleset.write_text(REGIONS)
    swelling = {**observation(LEG_SWELLING, site("53840002", "left")), "id": "o1"}
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": {"resourceType": "Patient", "id": "p"}}, {"resource": swelling}],
    }
    data = tmp_path / "bundle.json"
    data.write_text(json.dumps(bundle))

    run = vigil(
        "evaluate", data, "--ruleset", ruleset, "--as-of", NOW.isoformat(), "--format", "json"
    )

    assert run.returncode == 0, run.stderr
    [patient] = json.loads(run.stdout)["results"]
    [suggestion] = patient["suggestions"]
    assert suggestion["rule"] == "one-sided"
    assert suggestion["summary"] == "Swelling of the left leg: possible deep vein thrombosis"


def test_a_regions_table_mistake_exits_2_naming_the_line(tmp_path: Path) -> None:
    ruleset = tmp_path / "ruleset.yaml"
    ruleset.write_text(REGIONS.replace("region: lower_limb, side: left", "region: leg"))
    data = tmp_path / "bundle.json"
    data.write_text(json.dumps({"resourceType": "Patient", "id": "p"}))

    run = vigil("evaluate", data, "--ruleset", ruleset, "--format", "json")

    assert run.returncode == 2
    assert f"{ruleset}:17:" in run.stderr and "unknown region 'leg'" in run.stderr
    assert "Traceback" not in run.stderr
