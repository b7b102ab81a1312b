"""`vigil evaluate` as a person runs it: a real subprocess, real files, exit codes, stderr."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).parents[2]
EXAMPLES = ROOT / "examples" / "calf-patients.json"
SAMPLES = ROOT.parent / "shared" / "fhir-samples"


def vigil(*args: str | Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vigil", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        env={**os.environ, **env},
    )


def test_json_output_is_one_object_with_every_patient_in_a_stable_order() -> None:
    run = vigil("evaluate", EXAMPLES, "--as-of", "2026-03-01", "--format", "json")

    assert run.returncode == 0, run.stderr
    output = json.loads(run.stdout)
    assert output["ruleset"] == {"id": "calf-fasciculation", "version": "2.1.0"}
    assert output["as_of"] == "2026-03-01T00:00:00+00:00"
    escalations = {r["patient"]: r["escalation"] for r in output["results"]}
    assert escalations == {
        "Patient/amira": "self-care",
        "Patient/bea": "urgent",
        "Patient/chen": "neurology",
        "Patient/dana": "urgent",
        "Patient/eli": "none",
        "Patient/fay": "primary-care",
        "Patient/gita": "none",
        "Patient/harold": "none",
        "Patient/ivan": "self-care",
        "Patient/jo": "urgent",
        "Patient/kofi": "primary-care",
    }
    assert list(escalations) == sorted(escalations)
    dana = output["results"][3]
    assert dana["suggestions"][0] == {
        "rule": "severe-hypokalemia",
        "level": "urgent",
        "shown": True,
        "summary": "Severe hypokalaemia: potassium 2.30 mmol/L (2026-02-27)",
        "detail": dana["suggestions"][0]["detail"],
        "evidence": ["Observation/dana-o3"],
    }
    assert "2.3 mmol/L" in dana["suggestions"][0]["detail"]
    assert dana["warnings"] == [
        {"source": "Observation/dana-o4", "message": "status 'entered-in-error': ignored"}
    ]
    again = vigil("evaluate", EXAMPLES, "--as-of", "2026-03-01", "--format", "json")
    assert again.stdout == run.stdout


def test_table_output_has_a_row_per_patient_with_its_reasons() -> None:
    run = vigil("evaluate", EXAMPLES, "--as-of", "2026-03-01T09:00:00Z", "--format", "table")

    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0] == "Ruleset calf-fasciculation 2.1.0, as of 2026-03-01T09:00:00+00:00"
    row = next(line for line in lines if line.startswith("Patient/kofi"))
    assert row.split()[1] == "primary-care"
    assert row.endswith("REVIEW IN PRIMARY CARE — Low magnesium: 0.62 mmol/L (2026-02-26)")
    card = lines[lines.index(row) + 1 : lines.index(row) + 3]
    assert [line.strip() for line in card] == [
        "Do now: Repeat magnesium [by 2026-03-15]; Review: examine power (MRC grade) in the "
        "muscles reported as weak; if weakness is found, refer to neurology urgently "
        "[by 2026-03-15]",
        "Found: weakness reported (2026-02-25); twitching in 3 regions; twitching over 44 days; "
        "magnesium 0.62 mmol/L (2026-02-26) low",
    ]
    assert "\033[" not in run.stdout  # no colour codes when not on a terminal


def test_a_patient_known_by_a_full_url_with_a_newline_stays_on_its_row(tmp_path: Path) -> None:
    # a Patient without an id is known by its fullUrl, which can hold any text
    full_url = "urn:uuid:p1\nPatient/forged  urgent"
    twitching = {
        "resourceType": "Observation",
        "id": "f1",
        "status": "final",
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": "82470000"}]},
        "subject": {"reference": full_url},
        "effectiveDateTime": "2026-02-27T09:00:00Z",
        "valueBoolean": True,
    }
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"fullUrl": full_url, "resource": {"resourceType": "Patient"}},
            {"resource": twitching},
        ],
    }
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle))

    run = vigil("evaluate", path, "--as-of", "2026-03-01T09:00:00Z", "--format", "table")

    assert run.returncode == 0, run.stderr
    [row] = [line for line in run.stdout.splitlines() if line.startswith("urn:uuid:p1")]
    assert row.startswith("urn:uuid:p1\\x0aPatient/forged  urgent  self-care")
    assert not any(line.startswith("Patient/forged") for line in run.stdout.splitlines())


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"resourceType": "Bundle", "entry": [', "not valid JSON: it ends early"),
        ('{"name": "not FHIR"}', "JSON but not FHIR"),
        ("", "empty"),
        ('{"resourceType": "Observation", "valueInteger": ' + "1" * 5000 + "}", "4300 digits"),
    ],
)
def test_unreadable_input_exits_2_with_one_line_naming_the_file(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "input.json"
    path.write_text(content)

    run = vigil("evaluate", path)

    assert run.returncode == 2
    assert run.stdout == ""
    assert len(run.stderr.splitlines()) == 1
    assert str(path) in run.stderr and message in run.stderr
    assert "Traceback" not in run.stderr


def test_a_missing_file_and_an_unknown_ruleset_exit_2(tmp_path: Path) -> None:
    missing = vigil("evaluate", tmp_path / "nope.json")
    unknown = vigil("evaluate", EXAMPLES, "--ruleset", "calf-twitching")
    bad_time = vigil("evaluate", EXAMPLES, "--as-of", "2026-03-01T09:00")

    assert (missing.returncode, unknown.returncode, bad_time.returncode) == (2, 2, 2)
    assert "nope.json: no such file" in missing.stderr
    assert "no packaged ruleset or file named 'calf-twitching'" in unknown.stderr
    assert "needs a timezone" in bad_time.stderr
    for run in (missing, unknown, bad_time):
        assert len(run.stderr.splitlines()) == 1 and "Traceback" not in run.stderr


def test_a_ruleset_folder_without_ruleset_yaml_is_named_without_a_position(
    tmp_path: Path,
) -> None:
    # it said "<folder>:0:0: no packaged ruleset or file named '<folder>'"
    run = vigil("evaluate", EXAMPLES, "--ruleset", tmp_path)

    assert run.returncode == 2
    assert run.stderr.splitlines() == [
        f"vigil evaluate: {tmp_path}: the folder has no ruleset.yaml"
    ]


def test_an_as_of_without_a_time_to_add_a_timezone_to_is_not_an_iso_date_time() -> None:
    # 20260301 was told it "needs a timezone, e.g. 20260301Z", which is no more readable
    run = vigil("evaluate", EXAMPLES, "--as-of", "20260301")

    assert run.returncode == 2
    assert run.stderr.splitlines() == [
        "vigil evaluate: --as-of '20260301' is not an ISO 8601 date-time: write e.g. "
        "2026-03-01T00:00:00Z (or a date alone, 2026-03-01)"
    ]


def test_a_ruleset_with_a_negative_lookback_exits_2_at_its_line(tmp_path: Path) -> None:
    # a lookback of -30 days counted no potassium at all: Dana's 2.3 mmol/L gave self-care
    packaged = ROOT / "rulesets" / "calf_fasciculation" / "ruleset.yaml"
    broken = tmp_path / "ruleset.yaml"
    shutil.copytree(packaged.parent / "valuesets", tmp_path / "valuesets")
    potassium = "molar-mass: 39.098 g/mol\n    lookback: lab_lookback"
    text = packaged.read_text().replace(potassium, potassium.replace("lab_lookback", "-30 days"))
    broken.write_text(text)
    line = text.splitlines().index("    lookback: -30 days") + 1

    run = vigil("evaluate", EXAMPLES, "--as-of", "2026-03-01", "--ruleset", broken)

    assert run.returncode == 2
    assert run.stdout == ""
    # first the lookback itself; then the rules that need one, each at its line
    assert run.stderr.splitlines()[0] == (
        f"vigil evaluate: {broken}:{line}:15: potassium lookback '-30 days' must be more than 0 "
        "(leave lookback out to count records of any age)"
    )


def test_a_file_name_that_is_not_utf8_prints_escaped_the_same_in_table_json_and_errors(
    tmp_path: Path,
) -> None:
    # Linux allows any byte in a name: 0xff reached stdout as invalid UTF-8, or (strict UTF-8)
    # as a UnicodeEncodeError traceback after part of the JSON
    unnamed = tmp_path / os.fsdecode(b"unnamed\xff.json")
    unnamed.write_text(json.dumps({"resourceType": "Patient"}))  # no id: named by its file
    broken = tmp_path / os.fsdecode(b"broken\xff.json")
    broken.write_text("{")
    shown = f"Patient at {tmp_path}/unnamed\\xff.json"

    as_json = vigil("evaluate", unnamed, "--format", "json", PYTHONIOENCODING="utf-8")
    as_table = vigil("evaluate", unnamed, "--format", "table", PYTHONIOENCODING="utf-8")
    failed = vigil("evaluate", broken, PYTHONIOENCODING="utf-8")

    assert (as_json.returncode, as_table.returncode) == (0, 0), as_json.stderr + as_table.stderr
    assert [r["patient"] for r in json.loads(as_json.stdout)["results"]] == [shown]
    assert any(line.startswith(f"{shown}  none") for line in as_table.stdout.splitlines())
    assert failed.stderr.startswith(f"vigil evaluate: {tmp_path}/broken\\xff.json: not valid JSON")


def test_a_lone_surrogate_escaped_in_the_json_input_is_escaped_in_the_output(
    tmp_path: Path,
) -> None:
    path = tmp_path / "patient.json"
    path.write_text('{"resourceType": "Patient", "id": "p\\udcff"}')

    as_json = vigil("evaluate", path, "--format", "json", PYTHONIOENCODING="utf-8")
    as_table = vigil("evaluate", path, "--format", "table", PYTHONIOENCODING="utf-8")

    assert (as_json.returncode, as_table.returncode) == (0, 0), as_json.stderr + as_table.stderr
    assert [r["patient"] for r in json.loads(as_json.stdout)["results"]] == ["Patient/p\udcff"]
    assert "Patient/p\\udcff  none" in as_table.stdout


def observation(rid: str, system: str, code: str, when: str, **value: object) -> dict[str, object]:
    return {
        "resourceType": "Observation",
        "id": rid,
        "status": "final",
        "code": {"coding": [{"system": system, "code": code}]},
        "subject": {"reference": "Patient/p"},
        "effectiveDateTime": when,
        **value,
    }


def ucum(value: float, unit: str) -> dict[str, object]:
    return {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit}


SCT, LOINC = "http://snomed.info/sct", "http://loinc.org"


def test_usable_data_beside_bad_data_gives_warnings_not_failure(tmp_path: Path) -> None:
    resources = [
        {"resourceType": "Patient", "id": "p"},
        observation("twitch", SCT, "82470000", "2026-02-27T09:00:00Z"),
        observation(
            "k", LOINC, "2823-3", "2026-02-27T09:00:00Z", valueQuantity=ucum(3.1, "mmol/kg")
        ),
        observation(
            "bad", LOINC, "2601-3", "yesterday", valueQuantity={"value": 0.5, "unit": "mmol/L"}
        ),
    ]
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": r} for r in resources],
    }
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle))

    run = vigil("evaluate", path, "--as-of", "2026-03-01", "--format", "json")

    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)["results"][0]
    assert result["escalation"] == "self-care"
    sources = {w["source"] for w in result["warnings"]}
    assert sources == {"Observation/k", "Observation/bad"}


def test_an_observation_coded_as_two_concepts_is_left_out_with_a_warning(
    tmp_path: Path,
) -> None:
    both = observation(
        "k-or-mg", LOINC, "2823-3", "2026-02-27T09:00:00Z", valueQuantity=ucum(0.6, "mmol/L")
    )
    both["code"] = {
        "coding": [{"system": LOINC, "code": "2823-3"}, {"system": LOINC, "code": "2601-3"}]
    }
    resources = [
        {"resourceType": "Patient", "id": "p"},
        observation("twitch", SCT, "82470000", "2026-02-27T09:00:00Z"),
        both,
    ]
    path = tmp_path / "bundle.json"
    path.write_text(
        json.dumps(
            {
                "resourceType": "Bundle",
                "type": "collection",
                "entry": [{"resource": r} for r in resources],
            }
        )
    )

    run = vigil("evaluate", path, "--as-of", "2026-03-01", "--format", "json")

    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)["results"][0]
    assert result["escalation"] == "self-care"
    assert result["warnings"] == [
        {
            "source": "Observation/k-or-mg",
            "message": "code has codings of different concepts (potassium, magnesium): left out",
        }
    ]


def bundle_file(tmp_path: Path, *resources: dict[str, object]) -> Path:
    path = tmp_path / "bundle.json"
    entries = [{"resource": r} for r in [{"resourceType": "Patient", "id": "p"}, *resources]]
    path.write_text(json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries}))
    return path


def evaluated_with_twitching(tmp_path: Path, potassium: dict[str, object]) -> dict[str, Any]:
    """The result of `vigil evaluate` at 2026-03-01 for a patient with twitching and `potassium`."""
    twitch = observation("twitch", SCT, "82470000", "2026-02-27T09:00:00Z")
    path = bundle_file(tmp_path, twitch, potassium)
    run = vigil("evaluate", path, "--as-of", "2026-03-01", "--format", "json")
    assert run.returncode == 0, run.stderr
    result: dict[str, Any] = json.loads(run.stdout)["results"][0]
    return result


def potassium_over(period: dict[str, str], value: float) -> dict[str, object]:
    potassium = observation(
        "k", LOINC, "2823-3", "", effectivePeriod=period, valueQuantity=ucum(value, "mmol/L")
    )
    del potassium["effectiveDateTime"]
    return potassium


def test_a_coding_code_that_is_a_number_is_reported_not_skipped(tmp_path: Path) -> None:
    potassium = observation(
        "k", LOINC, "2823-3", "2026-02-27T09:00:00Z", valueQuantity=ucum(2.2, "mmol/L")
    )
    potassium["code"] = {"coding": [{"system": LOINC, "code": 2823}]}
    result = evaluated_with_twitching(tmp_path, potassium)
    assert result["escalation"] == "self-care"
    assert result["warnings"] == [
        {
            "source": "Observation/k",
            "message": "coding code 2823 is a number, not a string: not matched",
        }
    ]


def test_a_severe_result_whose_period_ends_before_it_starts_is_reported(
    tmp_path: Path,
) -> None:
    period = {"start": "2026-02-27T09:00:00Z", "end": "2026-02-26T09:00:00Z"}
    result = evaluated_with_twitching(tmp_path, potassium_over(period, 2.2))
    assert result["escalation"] == "self-care"
    assert result["warnings"] == [
        {
            "source": "Observation/k",
            "message": "effectivePeriod ends (2026-02-26T09:00:00+00:00) before it starts "
            "(2026-02-27T09:00:00+00:00): left out",
        }
    ]


@pytest.mark.parametrize(
    "period",
    [
        {"start": "2026-02-27T10:00:00Z", "end": "2026-02-27"},  # the end is that whole day
        {"start": "2026-02-10", "end": "2026-02"},  # the end is that whole month
        {"start": "2026-02-27", "end": "2026-02-27T01:00:00+02:00"},  # the date began in +02:00
    ],
    ids=["date-end", "month-end", "date-start-offset-end"],
)
def test_a_period_whose_end_is_a_date_covers_that_date(
    tmp_path: Path, period: dict[str, str]
) -> None:
    result = evaluated_with_twitching(tmp_path, potassium_over(period, 2.1))
    assert result["escalation"] == "urgent", result["warnings"]
    assert not [w for w in result["warnings"] if "before it starts" in w["message"]]


def test_a_result_dated_after_now_is_reported_unless_as_of_is_in_the_past(
    tmp_path: Path,
) -> None:
    potassium = observation(
        "k", LOINC, "2823-3", "2999-01-01T09:00:00Z", valueQuantity=ucum(2.2, "mmol/L")
    )
    twitch = observation("twitch", SCT, "82470000", "2026-02-27T09:00:00Z")
    path = bundle_file(tmp_path, twitch, potassium)

    now = json.loads(vigil("evaluate", path, "--format", "json").stdout)
    past = json.loads(vigil("evaluate", path, "--as-of", "2026-03-01", "--format", "json").stdout)

    # the twitch of 2026-02-27 is beyond the 90 days a finding counts for: nothing to do today
    assert now["results"][0]["escalation"] == "none"
    assert now["results"][0]["warnings"] == [
        {
            "source": "Observation/k",
            "message": "potassium is dated 2999-01-01T09:00:00+00:00, after now: left out",
        }
    ]
    assert datetime.fromisoformat(now["as_of"]) <= datetime.now(UTC)
    assert past["results"][0]["warnings"] == []


def test_today_s_date_east_of_utc_counts_at_a_time_that_is_still_yesterday_in_utc(
    tmp_path: Path,
) -> None:
    # 09:00 on 1 March in Sydney is 22:00 on 28 February in UTC: a result dated 2026-03-01
    # (a date states no timezone) was drawn that morning, not in the future
    potassium = observation("k", LOINC, "2823-3", "2026-03-01", valueQuantity=ucum(2.1, "mmol/L"))
    twitch = observation("twitch", SCT, "82470000", "2026-02-27T09:00:00Z")
    path = bundle_file(tmp_path, twitch, potassium)
    run = vigil("evaluate", path, "--as-of", "2026-03-01T09:00:00+11:00", "--format", "json")
    result = json.loads(run.stdout)["results"][0]
    assert result["escalation"] == "urgent", result
    assert result["warnings"] == []


def test_an_as_of_in_year_one_is_evaluated_not_a_traceback(tmp_path: Path) -> None:
    # the lookback (30 days) reaches before the calendar's first day
    potassium = observation("k", LOINC, "2823-3", "0001-01-02", valueQuantity=ucum(2.1, "mmol/L"))
    twitch = observation("twitch", SCT, "82470000", "0001-01-03T09:00:00Z")
    path = bundle_file(tmp_path, twitch, potassium)
    run = vigil("evaluate", path, "--as-of", "0001-01-05", "--format", "json")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["results"][0]["escalation"] == "urgent"


def test_a_result_dated_only_to_a_month_counts_with_a_warning(tmp_path: Path) -> None:
    potassium = observation("k", LOINC, "2823-3", "2026-03", valueQuantity=ucum(2.2, "mmol/L"))
    result = evaluated_with_twitching(tmp_path, potassium)
    assert result["escalation"] == "urgent"
    assert result["warnings"] == [
        {
            "source": "Observation/k",
            "message": "effectiveDateTime '2026-03' gives only a month: read as its start, "
            "2026-03-01, so whether it is current is uncertain",
        }
    ]


def test_ndjson_and_a_folder_of_files_are_read_as_one_dataset(tmp_path: Path) -> None:
    twitch = observation("t", SCT, "82470000", "2026-02-27")
    potassium = observation("k", LOINC, "2823-3", "2026-02-27", valueQuantity=ucum(2.2, "mmol/L"))
    (tmp_path / "Observation.ndjson").write_text(json.dumps(twitch) + "\n")
    (tmp_path / "more.json").write_text(json.dumps(potassium))

    run = vigil("evaluate", tmp_path, "--as-of", "2026-03-01", "--format", "json")

    assert run.returncode == 0, run.stderr
    assert [r["escalation"] for r in json.loads(run.stdout)["results"]] == ["urgent"]


def test_a_folder_reads_json_in_any_case_and_searches_subfolders_named_like_files(
    tmp_path: Path,
) -> None:
    twitch = observation("t", SCT, "82470000", "2026-02-27")
    potassium = observation("k", LOINC, "2823-3", "2026-02-27", valueQuantity=ucum(2.2, "mmol/L"))
    inner = tmp_path / "inner.json"
    inner.mkdir()
    (inner / "Observation.NDJSON").write_text(json.dumps(twitch) + "\n")
    (tmp_path / "a.JSON").write_text(json.dumps(potassium))
    (tmp_path / "notes.txt").write_text("not read")

    run = vigil("evaluate", tmp_path, "--as-of", "2026-03-01", "--format", "json")

    assert run.returncode == 0, run.stderr
    [result] = json.loads(run.stdout)["results"]
    assert result["escalation"] == "urgent"
    assert result["suggestions"][0]["evidence"] == ["Observation/k"]


def transaction(patient: str, *resources: dict[str, object]) -> dict[str, object]:
    """A Bundle whose Patient has the fullUrl urn:uuid:p and whose resources refer to it so."""
    entries = [{"fullUrl": "urn:uuid:p", "resource": {"resourceType": "Patient", "id": patient}}]
    for resource in resources:
        entries.append({"resource": {**resource, "subject": {"reference": "urn:uuid:p"}}})
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


def test_files_reusing_a_full_url_keep_each_patient_s_data_apart(tmp_path: Path) -> None:
    twitch_a = observation("ta", SCT, "82470000", "2026-02-27")
    twitch_b = observation("tb", SCT, "82470000", "2026-02-27")
    potassium = observation("k", LOINC, "2823-3", "2026-02-27", valueQuantity=ucum(2.2, "mmol/L"))
    (tmp_path / "a.json").write_text(json.dumps(transaction("a", twitch_a)))
    (tmp_path / "b.json").write_text(json.dumps(transaction("b", twitch_b, potassium)))

    run = vigil("evaluate", tmp_path / "a.json", tmp_path / "b.json", "--as-of", "2026-03-01")

    assert run.returncode == 0, run.stderr
    output = json.loads(run.stdout)
    results = {r["patient"]: r for r in output["results"]}
    assert results["Patient/a"]["escalation"] == "self-care"
    assert results["Patient/b"]["escalation"] == "urgent"
    assert "Observation/ta" not in json.dumps(results["Patient/b"])
    assert output["warnings"] == []


@pytest.mark.skipif(
    not SAMPLES.is_dir(), reason="../shared/fhir-samples is absent (a user's clone)"
)
def test_every_shared_sample_file_evaluates_with_exit_0() -> None:
    files = sorted(SAMPLES.rglob("*.json"))
    run = vigil("evaluate", *files, "--format", "json")

    assert run.returncode == 0, run.stderr
    assert all(r["escalation"] == "none" for r in json.loads(run.stdout)["results"])


def test_on_a_terminal_each_escalation_is_coloured_by_level() -> None:
    import io
    from datetime import UTC, datetime

    from fhir_adapters import evaluate_bundle
    from vigil.commands.evaluate import print_table

    results = evaluate_bundle(
        EXAMPLES, "calf-fasciculation", as_of=datetime(2026, 3, 1, tzinfo=UTC)
    )
    output = {"ruleset": {"id": "calf-fasciculation", "version": "2.1.0"}, "as_of": "2026-03-01"}
    out = io.StringIO()
    print_table(results, output, out, colour=True)

    rows = {line.split()[0]: line for line in out.getvalue().splitlines() if "Patient/" in line}
    assert "\033[1;31murgent" in rows["Patient/dana"]
    assert "\033[33mprimary-care" in rows["Patient/kofi"]
    assert "\033[32mself-care" in rows["Patient/amira"]
