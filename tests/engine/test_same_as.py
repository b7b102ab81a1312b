"""A quantity concept's `same-as`: units UCUM keeps apart that the clinician reads as equal for
this analyte (a CK in `[IU]/L` as `U/L`), converted by `engine.units` and checked at load."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from engine import Evaluator, Quantity, Record, units
from engine.loader import check_text
from tests.engine.test_language_loader import BASE, line_of, problems, rule
from tests.vigil.test_evaluate_command import EXAMPLES, vigil

CK = (("[IU]/L", "U/L"),)
CK_LINE = "  creatinine: {kind: quantity, codes: [loinc#2160-0], unit: umol/L}"


def with_ck(same_as: str, unit: str = "U/L") -> str:
    assert CK_LINE in BASE
    concept = f"  ck:\n    kind: quantity\n    codes: [loinc#2157-6]\n    unit: {unit}\n{same_as}"
    return BASE.replace(CK_LINE, f"{CK_LINE}\n{concept}") + rule("ck > 1000 U/L")


@pytest.mark.parametrize(
    ("value", "source", "target", "expected"),
    [
        (900.0, "[IU]/L", "U/L", 900.0),
        (900.0, "IU/L", "U/L", 900.0),  # the spelling seen in data is [IU]/L
        (250.0, "U/L", "[IU]/L", 250.0),  # read both ways: a range in U/L for a value in IU/L
        (0.9, "[IU]/mL", "U/L", 900.0),  # every unit of the declared unit's dimension
        (900.0, "m[IU]/mL", "U/L", 900.0),
        (1.5, "ukat/L", "[IU]/L", 90.0),  # UCUM's own conversion, then the declared one
    ],
)
def test_units_declared_the_same_convert_both_ways(
    value: float, source: str, target: str, expected: float
) -> None:
    assert units.convert(value, source, target, same_as=CK) == pytest.approx(expected)


def test_without_the_declaration_international_units_never_convert() -> None:
    with pytest.raises(units.UnitError, match=r"\[IU\]/L .* cannot be converted to U/L"):
        units.convert(900.0, "[IU]/L", "U/L")
    with pytest.raises(units.UnitError):  # declared for catalytic activity, not for moles
        units.convert(900.0, "[IU]/L", "mmol/L", same_as=CK)


def test_a_concept_reads_its_declared_units() -> None:
    text = with_ck('    same-as: {"[IU]/L": U/L}\n')
    ruleset = check_text(text, "r.yaml")
    assert ruleset.concepts["ck"].same_as == CK
    assert ruleset.concepts["creatinine"].same_as == ()


def test_a_written_spelling_is_kept_as_its_ucum_code() -> None:
    ruleset = check_text(with_ck("    same-as: {IU/L: u/l}\n"), "r.yaml")
    assert ruleset.concepts["ck"].same_as == CK


def test_a_record_in_international_units_reads_as_the_concepts_unit() -> None:
    ruleset = check_text(with_ck('    same-as: {"[IU]/L": U/L}\n'), "r.yaml")
    now = datetime(2026, 3, 2, 10, tzinfo=UTC)
    record = Record("ck", "Observation/ck", now - timedelta(hours=3), value=Quantity(1300, "IU/L"))
    evaluation = Evaluator(ruleset).evaluate([record], as_of=now)
    assert [f.name for f in evaluation.findings] == ["x"]
    assert not evaluation.warnings


@pytest.mark.parametrize(
    ("same_as", "column", "message"),
    [
        (
            '    same-as: {"[IUU]/L": U/L}\n',
            15,
            "ck: same-as: unknown unit '[IUU]/L': '[IUU]' is not a UCUM unit Vigil knows",
        ),
        (
            '    same-as: {"[IU]/L": furlong}\n',
            15,
            "ck: same-as: unknown unit 'furlong': 'furlong' is not a UCUM unit Vigil knows",
        ),
        (
            '    same-as: {"[IU]/L": mmol/L}\n',
            15,
            "ck: same-as: [IU]/L is the same as mmol/L, but mmol/L (substance concentration) "
            "cannot be converted to U/L (catalytic concentration)",
        ),
        (
            "    same-as: {ukat/L: U/L}\n",
            15,
            "ck: same-as: ukat/L is converted to U/L already (1 ukat/L = 60 U/L): same-as is "
            "for units that cannot be converted",
        ),
        (
            "    same-as: {Cel: U/L}\n",
            15,
            "ck: same-as: Cel is the same as U/L: a scale with its own zero is never read as "
            "another",
        ),
    ],
)
def test_a_same_as_that_cannot_be_right_is_located(
    tmp_path: Path, same_as: str, column: int, message: str
) -> None:
    text = with_ck(same_as)
    assert problems(text, tmp_path) == [f"{line_of(text, 'same-as:')}:{column}: {message}"]


def test_two_units_of_one_dimension_are_declared_once(tmp_path: Path) -> None:
    text = with_ck('    same-as:\n      "[IU]/L": U/L\n      "[IU]/mL": kU/L\n')
    assert problems(text, tmp_path) == [
        f"{line_of(text, '[IU]/mL')}:7: ck: same-as: [IU]/mL and [IU]/L are of one dimension "
        "([IU] units per volume), so saying how [IU]/L reads says how [IU]/mL reads: give only "
        "one of them"
    ]


def test_same_as_is_for_a_quantity(tmp_path: Path) -> None:
    text = BASE.replace(
        "  gad7: {kind: score, codes: [loinc#70274-6]}",
        '  gad7: {kind: score, codes: [loinc#70274-6], same-as: {"[IU]/L": U/L}}',
    ) + rule("gad7 >= 10")
    assert problems(text, tmp_path) == [
        f"{line_of(text, 'gad7:')}:47: same-as: is for a quantity; gad7 is a score"
    ]


def test_a_misused_same_as_stops_vigil_evaluate_with_its_place(tmp_path: Path) -> None:
    text = with_ck('    same-as: {"[IU]/L": mmol/L}\n')
    ruleset = tmp_path / "ruleset.yaml"
    ruleset.write_text(text)
    run = vigil("evaluate", EXAMPLES, "--ruleset", ruleset, "--format", "json")
    assert run.returncode == 2
    assert f"ruleset.yaml:{line_of(text, 'same-as:')}:15: ck: same-as:" in run.stderr
    assert "Traceback" not in run.stderr
