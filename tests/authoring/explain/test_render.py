"""The explanation rendered: Markdown and text (what a clinician reads, pinned) and JSON."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from authoring.explain import explain, to_dict, to_markdown, to_text
from tests.authoring.explain.small import NOW, bundle, potassium, small


def test_markdown_and_text_say_the_same_things(tmp_path: Path) -> None:
    data = bundle(tmp_path, potassium("3.0 mmol/L"))
    explanation = explain(small(), data, datetime.fromisoformat(NOW))

    markdown = to_markdown(explanation)
    assert markdown.startswith(
        "# small-k 1.0.0, as of 2026-03-02T10:00:00+00:00\n\n## Patient/scenario-patient: none\n"
    )
    assert (
        "| potassium (mmol/L) | latest 3 mmol/L on 2026-03-02 (Observation/o1); 1 current result |"
        in markdown
    )
    assert (
        "- **low-k-aki (Low potassium with AKI) [suggests urgent]**\n"
        "  - held `potassium < 3.5 mmol/L`: potassium 3 mmol/L on 2026-03-02 (Observation/o1)\n"
        "  - failed `aki`: finding `aki` was not derived\n"
    ) in markdown
    text = to_text(explanation)
    assert "\x1b[" not in text
    assert (
        "Near misses (one condition short)\n"
        "- low-k-aki (Low potassium with AKI) [suggests urgent]\n" in text
    )
    assert (
        "- low-k (Severe low potassium) [suggests urgent]: 1 of 1 conditions failed\n"
        "    failed `potassium < severe_potassium`: potassium 3 mmol/L on 2026-03-02 "
        "(Observation/o1) is not below 2.5 mmol/L (0.5 mmol/L above)\n"
    ) in text


def test_the_json_form_has_every_part(tmp_path: Path) -> None:
    data = bundle(tmp_path, potassium("2.3 mmol/L"))
    out = to_dict(explain(small(), data, datetime.fromisoformat(NOW)))

    assert out["ruleset"] == {"id": "small-k", "version": "1.0.0"}
    [patient] = out["patients"]
    assert list(patient) == ["patient", "escalation", "concepts", "fired", "not_fired", "warnings"]
    assert patient["fired"][0]["rule"] == "low-k"
    aki = next(n for n in patient["not_fired"] if n["rule"] == "aki")
    assert aki["failed"] == {
        "condition": "creatinine rise over 48 hours within aki_window >= 26 umol/L",
        "holds": False,
        "words": "no creatinine recorded",
        "sources": [],
        "values": [],
    }


def test_text_for_a_terminal_is_coloured(tmp_path: Path) -> None:
    data = bundle(tmp_path, potassium("2.3 mmol/L"))
    explanation = explain(small(), data, datetime.fromisoformat(NOW))

    coloured = to_text(explanation, colour=True)
    assert "\x1b[" in coloured
    assert "severe-hypokalemia" not in coloured and "low-k (Severe low potassium)" in coloured
