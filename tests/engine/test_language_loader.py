"""The general language's YAML: what loads, and each misuse as a located error in clinical words."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

import engine
from engine.clock import Duration
from engine.codes import Code
from engine.loader import check_text
from engine.model import HitPolicy, Proposal
from tests.vigil.test_evaluate_command import EXAMPLES, vigil

LOINC = "http://loinc.org"
SCT = "http://snomed.info/sct"
ATC = "http://www.whocc.no/atc"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"

BASE = """\
id: language
version: 1.0.0
status: draft
title: The general language
time-zone: Europe/London
levels:
  - {id: none, title: No action, indicator: info}
  - id: routine-recheck
    title: Routine recheck
    indicator: info
    propose:
      - {code: loinc#24362-6, label: Repeat U&E, kind: lab-order, priority: routine, due: 14 days}
  - id: emergency
    title: Emergency
    indicator: critical
    propose: [{code: sct#183452005, label: Emergency admission, kind: admission, priority: stat}]
concepts:
  potassium:
    kind: quantity
    codes: [loinc#2823-3]
    unit: mmol/L
    lookback: potassium_lookback
    ties: highest
    decimals: 2
    molar-mass: 39.098 g/mol
    markers:
      haemolysed:
        specimen-condition: [v2-0493#HEM]
        interpretation: [vigil#haemolysed-sample]
        note: '\\bhae?moly[sz]'
        negation: '\\b(no|not|without)\\b'
  creatinine: {kind: quantity, codes: [loinc#2160-0], unit: umol/L}
  egfr: {kind: quantity, codes: [loinc#62238-1], unit: 'mL/min/{1.73_m2}'}
  palpitations: {kind: finding, codes: [sct#80313002]}
  gad7: {kind: score, codes: [loinc#70274-6]}
  ecg_rhythm: {kind: coded, codes: [loinc#8601-7]}
  raasi: {kind: medication, codes: ['atc#C09A*', rxnorm#35296]}
  age: {kind: demographic, field: age}
  sex: {kind: demographic, field: sex}
  dialysis: {kind: event, resource: Procedure, codes: [sct#302497006]}
parameters:
  potassium_lookback: 15 months
  feature_window: 24 hours
  high_potassium: 6.0 mmol/L
  old_age: 80 years
  aki_ratio: 1.5
rules:
"""
WHEN_LINE = len(BASE.splitlines()) + 2  # `when:` of the first rule written after BASE


def rule(when: str, then: str = "{derive: x}") -> str:
    return f"  - id: a\n    when: {when}\n    then: {then}\n"


def problems(text: str, tmp_path: Path) -> list[str]:
    path = tmp_path / "ruleset.yaml"
    path.write_text(text)
    with pytest.raises(engine.RulesetError) as caught:
        engine.load_ruleset(path)
    return [f"{p.line}:{p.column}: {p.message}" for p in caught.value.problems]


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


# -- conditions used against their concept's kind ---------------------------------------------


@pytest.mark.parametrize(
    ("when", "message"),
    [
        (
            "palpitations > 2",
            "palpitations is a finding without a unit: it is present or absent, not a number; "
            "write 'palpitations present' (or give palpitations a unit)",
        ),
        (
            "potassium present",
            "potassium is a quantity, which has a value rather than being present; "
            "write 'potassium recorded' or compare it",
        ),
        (
            "gad7 absent",
            "gad7 is a score, which has a value rather than being absent; "
            "write 'gad7 recorded' or compare it",
        ),
        (
            "age active",
            "age is a demographic (age), not a medication; 'age active' reads medicines "
            "(active, on hold, confirmed, started within ..., ended within ...)",
        ),
        (
            "raasi > 2",
            "raasi is a medication; ask whether it is active, on hold, confirmed, started within "
            "..., ended within ... (e.g. 'raasi active'), not 'raasi > 2'",
        ),
        ("sex >= 2", "sex is the patient's sex; write 'sex is female'"),
        ("age present", "age is the patient's age in years; compare it: 'age >= 80'"),
        ("sex is woman", "sex is one of male, female, other, unknown; 'woman' is not"),
        (
            "palpitations is sct#1",
            "palpitations is a finding; 'is' reads a coded answer or the patient's sex",
        ),
        ("potassium marked clotted", "potassium has no marker 'clotted' (its markers: haemolysed)"),
        ("palpitations above reference range", "palpitations has no unit, so no reference range"),
    ],
)
def test_a_condition_that_does_not_fit_its_concepts_kind(
    tmp_path: Path, when: str, message: str
) -> None:
    assert problems(BASE + rule(when), tmp_path) == [f"{WHEN_LINE}:11: {message}"]


@pytest.mark.parametrize(
    ("when", "message"),
    [
        (
            "potassium rise over 12 hours > 2 days",
            "threshold 2 days is in d (duration), which cannot be compared with potassium in "
            "mmol/L (substance concentration)",
        ),
        (
            "creatinine ratio to lowest over 7 days >= 1.5 umol/L",
            "creatinine a ratio is a plain number; 1.5 umol/L has a unit (umol/L)",
        ),
        (
            "age >= 80 mmol/L",
            "age is an age in completed years; 80 mmol/L is not (write e.g. 80 or 80 years)",
        ),
    ],
)
def test_a_threshold_of_the_wrong_dimension(tmp_path: Path, when: str, message: str) -> None:
    assert problems(BASE + rule(when), tmp_path) == [f"{WHEN_LINE}:11: {message}"]


# -- windows -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("when", "message"),
    [
        (
            "palpitations present within 12",
            "in 'palpitations present within 12': '12' has no unit; write e.g. 12 hours or "
            "12 days (hours, days, weeks, months, years)",
        ),
        (
            "potassium >= high_potassium within 2 days of kalium",
            "'kalium' in 'within 2 days of kalium' is not a concept; a window is anchored on the "
            "latest reading of a concept",
        ),
        (
            "palpitations present after potassium started",
            "'after potassium started': potassium is a quantity, not a medication; only a "
            "medicine is started",
        ),
        (
            "egfr percent change after age started <= -25",
            "'after age started': age is a demographic (age), not a medication; only a medicine "
            "is started",
        ),
        (
            "palpitations present within high_potassium",
            "high_potassium (6.0 mmol/L) is not a duration such as 24 hours, 90 days or "
            "15 months, so it cannot be a window",
        ),
        (
            "palpitations present within recent",
            "'recent' in 'palpitations present within recent' is neither a duration nor a "
            "parameter",
        ),
    ],
)
def test_a_window_that_cannot_be_read(tmp_path: Path, when: str, message: str) -> None:
    assert problems(BASE + rule(when), tmp_path) == [f"{WHEN_LINE}:11: {message}"]


# -- concepts -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "needle", "column", "message"),
    [
        (
            "  creatinine: {kind: quantity, codes: [loinc#2160-0], unit: umol/L}",
            "  creatinine: {kind: quantity, codes: [loinc#2160-0]}",
            "creatinine:",
            22,
            "creatinine is a quantity: give its unit (unit: mmol/L)",
        ),
        (
            "  gad7: {kind: score, codes: [loinc#70274-6]}",
            "  gad7: {kind: scroe, codes: [loinc#70274-6]}",
            "gad7:",
            16,
            "`kind` of concept `gad7` must be one of finding, quantity, score, coded, "
            "medication, demographic, event, not `scroe`",
        ),
        (
            "  age: {kind: demographic, field: age}",
            "  age: {kind: demographic}",
            "age:",
            15,
            "age is a demographic: say which (field: age or field: sex)",
        ),
        (
            "  dialysis: {kind: event, resource: Procedure, codes: [sct#302497006]}",
            "  dialysis: {kind: event, codes: [sct#302497006]}",
            "dialysis:",
            20,
            "dialysis is an event: name its resource (Procedure, Encounter or ServiceRequest)",
        ),
        (
            "        note: '\\bhae?moly[sz]'",
            "        note: 'hae?moly[sz'",
            "note:",
            15,
            "potassium marker haemolysed: note 'hae?moly[sz' is not a regular expression "
            "(unterminated character set at position 8)",
        ),
        (
            "  creatinine: {kind: quantity, codes: [loinc#2160-0], unit: umol/L}",
            "  creatinine: {kind: quantity, codes: [loinc#2823-3], unit: umol/L}",
            "creatinine:",
            40,
            "loinc#2823-3 already means potassium; a code may belong to one concept only (unless "
            "it comes from a value set)",
        ),
    ],
)
def test_a_concept_that_cannot_be_read(
    tmp_path: Path, old: str, new: str, needle: str, column: int, message: str
) -> None:
    assert old in BASE
    text = BASE.replace(old, new) + rule("palpitations present")
    assert problems(text, tmp_path) == [f"{line_of(text, needle)}:{column}: {message}"]


def test_a_concept_key_of_another_kind_says_which_kind(tmp_path: Path) -> None:
    text = BASE.replace("  age: {kind: demographic, field: age}", "  age: {field: age}")
    assert problems(text + rule("palpitations present"), tmp_path) == [
        f"{line_of(text, 'age:')}:16: field: is for a demographic concept; age is a finding "
        "(add kind: demographic)"
    ]


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "    lookback: potassium_lookback",
            "    lookback: high_potassium",
            "potassium lookback 'high_potassium (6.0 mmol/L)' is not a duration such as '30 days'",
        ),
        (
            "    lookback: potassium_lookback",
            "    lookback: potassium_lookbak",
            "potassium lookback 'potassium_lookbak' names no parameter; did you mean "
            "'potassium_lookback'?",
        ),
    ],
)
def test_a_lookback_names_a_duration_parameter(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    text = BASE.replace(old, new) + rule("palpitations present")
    assert problems(text, tmp_path) == [f"{line_of(text, new)}:15: {message}"]


def test_keys_of_a_quantity_on_a_finding(tmp_path: Path) -> None:
    text = BASE.replace(
        "  palpitations: {kind: finding, codes: [sct#80313002]}",
        "  palpitations: {kind: finding, codes: [sct#80313002], ties: highest}",
    )
    assert problems(text + rule("palpitations present"), tmp_path) == [
        f"{line_of(text, 'palpitations:')}:62: ties: is for a quantity or a score; palpitations "
        "is a finding"
    ]


def test_a_code_shared_by_concepts_of_different_kinds_is_allowed(tmp_path: Path) -> None:
    text = BASE.replace(
        "  palpitations: {kind: finding, codes: [sct#80313002]}",
        "  palpitations: {kind: finding, codes: [sct#80313002, loinc#8601-7]}",
    )
    ruleset = check_text(text + rule("palpitations present"), "r.yaml")
    assert Code(LOINC, "8601-7") in ruleset.concepts["palpitations"].codes


def test_a_bad_time_zone_is_located(tmp_path: Path) -> None:
    text = BASE.replace("time-zone: Europe/London", "time-zone: Europe/Londres")
    assert problems(text + rule("palpitations present"), tmp_path) == [
        "5:12: time-zone 'Europe/Londres' is not an IANA time zone name such as Europe/London "
        "or UTC"
    ]


# -- levels, proposals, hit policy ----------------------------------------------------------------


def test_suggest_names_a_declared_level(tmp_path: Path) -> None:
    then = "{suggest: urgent, summary: x}"
    assert problems(BASE + rule("palpitations present", then), tmp_path) == [
        f"{WHEN_LINE + 1}:21: there is no level 'urgent' (levels: routine-recheck, emergency)"
    ]


def test_no_suggestion_names_a_declared_level(tmp_path: Path) -> None:
    assert problems(BASE + rule("no suggestion at or above emergncy"), tmp_path) == [
        f"{WHEN_LINE}:11: there is no level 'emergncy'; did you mean 'emergency'? "
        "(levels: routine-recheck, emergency)"
    ]


def test_a_ruleset_without_levels_cannot_suggest(tmp_path: Path) -> None:
    start, end = BASE.index("levels:"), BASE.index("concepts:")
    text = BASE[:start] + BASE[end:] + rule("palpitations present", "{suggest: urgent, summary: x}")
    line = line_of(text, "then: {suggest")
    assert problems(text, tmp_path) == [
        f"{line}:21: the ruleset declares no levels, so nothing can be 'urgent'; list them under "
        "levels:, lowest first, each with an id, a title and an indicator"
    ]


def test_a_ruleset_without_levels_that_only_derives_has_one_level() -> None:
    start, end = BASE.index("levels:"), BASE.index("concepts:")
    ruleset = check_text(BASE[:start] + BASE[end:] + rule("palpitations present"))
    assert [level.id for level in ruleset.levels] == ["none"]


def test_level_ids_are_unique_and_the_first_proposes_nothing(tmp_path: Path) -> None:
    text = BASE.replace(
        "  - {id: none, title: No action, indicator: info}",
        "  - {id: none, title: No action, indicator: info,"
        " propose: [{code: sct#1, label: Something}]}\n"
        "  - {id: emergency, title: Twice, indicator: warning}",
    )
    found = problems(text + rule("palpitations present"), tmp_path)
    assert found == [
        "7:60: none is the first level, which means nothing to do: it proposes nothing",
        "14:9: duplicate level id `emergency`: first at line 8",
    ]


def test_a_proposal_with_a_bad_due_and_reason(tmp_path: Path) -> None:
    then = (
        "\n      suggest: emergency\n      summary: x\n      propose:\n"
        "        - {code: sct#1, label: Review, due: 2 fortnights, reason: potassium}"
    )
    text = BASE + rule("palpitations present", then)
    line = line_of(text, "- {code: sct#1")
    assert problems(text, tmp_path) == [
        f"{line}:45: due: 'fortnights' in '2 fortnights' is not a unit of time; use hours, days, "
        "weeks, months or years",
        f"{line}:67: reason: potassium is a quantity; a proposal's reason is a medication concept",
    ]


def test_hit_policy_always_names_a_rule(tmp_path: Path) -> None:
    text = BASE + rule("palpitations present") + "hit-policy: {show: escalation, always: [b]}\n"
    assert problems(text, tmp_path) == [
        f"{line_of(text, 'hit-policy')}:41: hit-policy always: no rule 'b'"
    ]


# -- what loads -------------------------------------------------------------------------------


GOOD_RULES = """\
  - id: emergency-potassium
    when:
      - potassium >= high_potassium
      - not potassium marked haemolysed
      - any: [age >= old_age, sex is female, ecg_rhythm is sct#426177001]
      - palpitations present since feature_window before potassium
      - raasi active
    then:
      suggest: emergency
      summary: "Potassium {potassium}"
      propose:
        - {code: sct#182836005, label: Review RAAS inhibitor, kind: medication-review,
           priority: urgent, due: today, reason: raasi}
  - id: recheck
    when:
      - potassium last 2 results >= 5.5 mmol/L
      - potassium rise over 1 to 12 hours > 0.5 mmol/L
      - creatinine ratio to lowest over 7 days within 7 days >= aki_ratio
      - egfr percent change after raasi started <= -25
      - dialysis present within 90 days
      - raasi started within 3 months
    then: {suggest: routine-recheck, summary: Recheck}
hit-policy:
  show: escalation
  merge: true
  always: [recheck]
"""


def test_the_new_constructs_build_the_ruleset() -> None:
    ruleset = check_text(BASE + GOOD_RULES, "language.yaml")
    assert ruleset.time_zone == "Europe/London"
    assert [(lv.id, lv.indicator) for lv in ruleset.levels] == [
        ("none", "info"),
        ("routine-recheck", "info"),
        ("emergency", "critical"),
    ]
    assert ruleset.levels[1].proposals == (
        Proposal(
            Code(LOINC, "24362-6"), "Repeat U&E", "routine", "lab-order", Duration(14, "days")
        ),
    )
    assert ruleset.hit_policy == HitPolicy("escalation", True, frozenset({"recheck"}))
    potassium = ruleset.concepts["potassium"]
    assert (potassium.kind, potassium.ties, potassium.decimals) == ("quantity", "highest", 2)
    assert potassium.lookback is not None and potassium.lookback > timedelta(days=450)
    (marker,) = potassium.markers
    assert marker.name == "haemolysed"
    assert marker.specimen_conditions == (
        Code("http://terminology.hl7.org/CodeSystem/v2-0493", "HEM"),
    )
    raasi = ruleset.concepts["raasi"]
    assert (raasi.kind, raasi.prefixes, raasi.codes) == (
        "medication",
        (Code(ATC, "C09A"),),
        (Code(RXNORM, "35296"),),
    )
    assert ruleset.concepts["dialysis"].statuses == ("completed", "in-progress")
    assert ruleset.concepts["sex"].field == "sex"
    (emergency, recheck) = ruleset.rules
    assert emergency.then.proposals == (
        Proposal(
            Code(SCT, "182836005"),
            "Review RAAS inhibitor",
            "urgent",
            "medication-review",
            "today",
            None,
            "raasi",
        ),
    )
    assert recheck.then.proposals == ()  # the level's default proposals apply


def test_products_map_product_codes_to_ingredients(tmp_path: Path) -> None:
    (tmp_path / "products.yaml").write_text(
        "rxnorm#198188: [rxnorm#35296]\ndmd#318906001: [atc#C09AA05]\n"
    )
    path = tmp_path / "ruleset.yaml"
    path.write_text(BASE + rule("raasi active") + "products: products.yaml\n")
    ruleset = check_text(path.read_text(), str(path), source=path)
    assert ruleset.products == {
        (RXNORM, "198188"): (Code(RXNORM, "35296"),),
        ("https://dmd.nhs.uk", "318906001"): (Code(ATC, "C09AA05"),),
    }


def test_a_bad_products_file_is_located_in_that_file(tmp_path: Path) -> None:
    products = tmp_path / "products.yaml"
    products.write_text("rxnorm#198188: [rxnorm#35296]\nfoo#1: [atc#C09AA05]\n")
    path = tmp_path / "ruleset.yaml"
    path.write_text(BASE + rule("raasi active") + "products: products.yaml\n")
    with pytest.raises(engine.RulesetError) as caught:
        engine.load_ruleset(path)
    assert [str(p) for p in caught.value.problems] == [
        f"{products}:2:1: unknown code system 'foo' in 'foo#1'; known: loinc, sct, ucum, vigil, "
        "rxnorm, atc, dmd, v2-0493"
    ]


def test_a_misuse_fails_the_command_with_exit_2_and_its_place(tmp_path: Path) -> None:
    path = tmp_path / "ruleset.yaml"
    path.write_text(BASE + rule("potassium present"))
    run = vigil("evaluate", EXAMPLES, "--ruleset", path, "--as-of", "2026-03-01")
    assert run.returncode == 2
    assert f"{path}:{WHEN_LINE}:11: potassium is a quantity" in run.stderr
    assert "Traceback" not in run.stderr


def test_value_set_codes_are_checked_when_the_file_loads(tmp_path: Path) -> None:
    (tmp_path / "acei.json").write_text(
        json.dumps(
            {
                "resourceType": "ValueSet",
                "url": "https://example.org/ValueSet/acei",
                "compose": {"include": [{"system": RXNORM, "concept": [{"code": "29046"}]}]},
            }
        )
    )
    path = tmp_path / "ruleset.yaml"
    text = BASE.replace(
        "codes: ['atc#C09A*', rxnorm#35296]",
        "codes: ['atc#C09A*', 'valueset:https://example.org/ValueSet/acei']",
    )
    path.write_text(text + rule("raasi active") + "value-sets: [acei.json]\n")
    ruleset = check_text(path.read_text(), str(path), source=path)
    assert ruleset.concepts["raasi"].codes == (Code(RXNORM, "29046"),)
