"""authoring.diff.report: the changes and the population's tables as a terminal shows them."""

from __future__ import annotations

import io
import json

from rich.console import Console

from authoring.diff import diff_rulesets, population_impact
from authoring.diff.report import report_dict, write_report
from engine import load_text

from .small_ruleset import AS_OF, RULESET, patient


def test_the_report_lists_each_change_then_the_moves_levels_and_rules() -> None:
    old = load_text(RULESET)
    new = load_text(RULESET.replace("severe_potassium: 6.5 mmol/L", "severe_potassium: 6.0 mmol/L"))
    data = [r for i, k in enumerate([5.0, 6.2, 6.7]) for r in patient(i, k)]
    diff, impact = diff_rulesets(old, new), population_impact(old, new, data, AS_OF)
    out = io.StringIO()
    write_report(diff, impact, Console(file=out, width=100, no_color=True))
    lines = [line.rstrip() for line in out.getvalue().splitlines()]
    assert "  ~ severe_potassium: 6.5 mmol/L -> 6.0 mmol/L (rules severe, raised)" in lines
    assert (
        "Population: 3 patients as of 2026-03-01T12:00:00+00:00; escalation changes for 1 (33.3%)"
        in lines
    )
    assert any(line.split() == ["recheck", "urgent", "1", "Patient/p1"] for line in lines)
    assert any(line.split() == ["urgent", "1", "2"] for line in lines)  # level, old, new
    assert any(line.split() == ["severe", "1", "0", "Patient/p1"] for line in lines)
    report = json.loads(json.dumps(report_dict(diff, impact)))
    assert report["impact"]["changed"] == 1
    assert report["new"]["version"] == "1.0.0"
