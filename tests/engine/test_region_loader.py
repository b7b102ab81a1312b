"""A regions table, its sites and the conditions that read them are checked when the ruleset
loads: each mistake is one problem at its line, in words that say what to write."""

from __future__ import annotations

from pathlib import Path

import pytest

import engine
from engine.conditions import Compare, RegionState, parse_condition
from engine.loader import load_text
from tests.engine.regioned import REGIONS

HEADER = """\
id: regions-broken
version: 1.0.0
status: draft
title: Broken on purpose
"""
TABLE = """\
regions:
  head: {}
  lower_limb: {sided: true, focal: true}
sites:
  calf: {codes: [sct#53840002], region: lower_limb}
"""
CONCEPTS = """\
concepts:
  weakness: {codes: [sct#26544005]}
  potassium: {codes: [loinc#2823-3], unit: mmol/L}
"""


def problems(text: str, tmp_path: Path) -> list[str]:
    path = tmp_path / "broken.yaml"
    path.write_text(HEADER + text)
    with pytest.raises(engine.RulesetError) as caught:
        engine.load_ruleset(path)
    return [f"{p.line}:{p.column}: {p.message}" for p in caught.value.problems]


def rule(when: str) -> str:
    return f"rules:\n  - id: a\n    when: {when}\n    then: {{derive: x}}\n"


def test_the_region_conditions_parse() -> None:
    assert parse_condition("fasciculation regions >= 2", ()) == Compare(
        "fasciculation", "regions", ">=", "2", "fasciculation regions >= 2", ()
    )
    for text, state in [
        ("weakness focal", "focal"),
        ("leg_swelling one-sided", "one-sided"),
        ("leg_swelling on both sides", "both-sides"),
        ("leg_swelling side not recorded", "side-not-recorded"),
    ]:
        parsed = parse_condition(text, ())
        assert isinstance(parsed, RegionState) and parsed.state == state
    within = parse_condition("leg_swelling one-sided within 14 days", ())
    assert isinstance(within, RegionState) and within.window is not None


def test_the_test_ruleset_loads_its_table() -> None:
    ruleset = load_text(REGIONS)
    assert ruleset.regions["lower_limb"].sided and ruleset.regions["lower_limb"].focal
    assert not ruleset.regions["head"].sided
    assert ruleset.site_regions["left_lower_limb"].side == "left"
    assert "ear" in ruleset.sites and "ear" not in ruleset.site_regions
    [(code, place)] = ruleset.concepts["leg_swelling"].sited_codes
    assert (code.code, place) == ("65124004", "lower_limb")


def test_a_site_in_an_unknown_region(tmp_path: Path) -> None:
    text = TABLE.replace("region: lower_limb}", "region: leg}") + CONCEPTS + rule("weakness focal")
    assert problems(text, tmp_path) == [
        "9:41: unknown region 'leg' (regions: head, lower_limb)",
    ]


def test_a_side_on_a_site_of_an_unsided_region(tmp_path: Path) -> None:
    table = TABLE + "  eyelid: {codes: [sct#80243003], region: head, side: left}\n"
    assert problems(table + CONCEPTS + rule("weakness focal"), tmp_path) == [
        "10:55: site eyelid has a side, but region head is not sided (give it sided: true)",
    ]


def test_a_side_that_is_not_left_or_right(tmp_path: Path) -> None:
    table = TABLE + "  leg: {codes: [sct#61685007], region: lower_limb, side: both}\n"
    assert problems(table + CONCEPTS + rule("weakness focal"), tmp_path) == [
        "10:58: `side` of site `leg` must be one of left, right, not `both`",
    ]


def test_a_code_at_two_sites(tmp_path: Path) -> None:
    table = TABLE + "  leg: {codes: [sct#53840002], region: lower_limb}\n"
    assert problems(table + CONCEPTS + rule("weakness focal"), tmp_path) == [
        "10:17: sct#53840002 is already the site calf",
    ]


def test_region_conditions_need_a_regions_table(tmp_path: Path) -> None:
    text = "sites:\n  calf: [sct#53840002]\n" + CONCEPTS + rule("weakness regions >= 2")
    [problem] = problems(text, tmp_path)
    assert problem.startswith("12:11: 'weakness regions >= 2' reads body regions, but the")


def test_focal_needs_a_focal_class(tmp_path: Path) -> None:
    text = TABLE.replace(", focal: true", "") + CONCEPTS + rule("weakness focal")
    assert problems(text, tmp_path) == [
        "15:11: 'weakness focal': no region class is focal; mark those where one region "
        "alone is focal (the limbs) with focal: true",
    ]


def test_sides_need_a_sided_class(tmp_path: Path) -> None:
    text = TABLE.replace("sided: true, ", "") + CONCEPTS + rule("weakness one-sided")
    assert problems(text, tmp_path) == [
        "15:11: 'weakness one-sided': no region class is sided; mark those with a left and "
        "a right (the limbs) with sided: true",
    ]


def test_only_findings_have_regions(tmp_path: Path) -> None:
    assert problems(TABLE + CONCEPTS + rule("potassium regions >= 2"), tmp_path) == [
        "15:11: potassium is a quantity; only findings have body regions",
    ]


def test_a_region_count_is_a_whole_number(tmp_path: Path) -> None:
    assert problems(TABLE + CONCEPTS + rule("weakness regions >= 1.5"), tmp_path) == [
        "15:11: weakness regions is a whole number, 0 or more; 1.5 is not",
    ]


def test_a_code_at_an_unknown_region(tmp_path: Path) -> None:
    concepts = CONCEPTS + "  swelling: {codes: [sct#449754000, sct#65124004 at lower_leg]}\n"
    assert problems(TABLE + concepts + rule("swelling present"), tmp_path) == [
        "13:37: sct#65124004 at 'lower_leg': 'lower_leg' is no region or site; did you mean "
        "'lower_limb'?; write e.g. 'sct#65124004 at lower_limb'",
    ]


def test_a_side_placeholder_names_a_finding(tmp_path: Path) -> None:
    then = "{suggest: u, summary: 'Swelling of the {potassium side} leg'}"
    levels = (
        "levels: [{id: none, title: Nothing, indicator: info}, "
        "{id: u, title: Urgent, indicator: critical}]\n"
    )
    text = TABLE + CONCEPTS + levels + rule("weakness focal").replace("{derive: x}", then)
    [problem] = problems(text, tmp_path)
    assert "{potassium side} names no concept or parameter" in problem


def test_a_list_of_codes_is_still_a_site_without_a_region() -> None:
    # the 1.0.0 form: `sites: {calf: [sct#53840002]}`, read by `present at calf`
    text = HEADER + "sites:\n  calf: [sct#53840002]\n" + CONCEPTS + rule("weakness present at calf")
    ruleset = load_text(text)
    assert ruleset.sites["calf"][0].code == "53840002" and ruleset.site_regions == {}


def test_a_site_that_is_neither_a_list_nor_a_mapping(tmp_path: Path) -> None:
    text = "sites:\n  calf: sct#53840002\n" + CONCEPTS + rule("weakness present at calf")
    assert problems(text, tmp_path) == [
        "6:9: `codes` of site `calf` must be a list (`[a, b]` or one `- item` a line), "
        "not `sct#53840002`"
    ]
