"""FHIR ValueSet files: their codes, and every way one cannot be used, located in the ruleset."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import engine
from engine.codes import Code
from engine.loader import check_text
from engine.valuesets import ValueSetError, read_value_set
from tests.engine.test_language_loader import BASE, RXNORM, line_of, rule

URL = "https://example.org/ValueSet/acei"
ATC = "http://www.whocc.no/atc"


def write(tmp_path: Path, resource: Any, name: str = "acei.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(resource))
    return path


def composed(*codes: str) -> dict[str, Any]:
    include = {"system": RXNORM, "concept": [{"code": c} for c in codes]}
    return {"resourceType": "ValueSet", "url": URL, "compose": {"include": [include]}}


def test_compose_and_expansion_codes_are_read_nested_ones_too(tmp_path: Path) -> None:
    resource = composed("29046", "35296")
    resource["expansion"] = {
        "contains": [
            {"system": ATC, "code": "C09AA05"},
            {"abstract": True, "contains": [{"system": ATC, "code": "C09AA02"}]},
            {"system": RXNORM, "code": "29046"},
        ]
    }
    value_set = read_value_set(write(tmp_path, resource))
    assert value_set.url == URL
    assert value_set.codes == (
        Code(RXNORM, "29046"),
        Code(RXNORM, "35296"),
        Code(ATC, "C09AA05"),
        Code(ATC, "C09AA02"),
    )


@pytest.mark.parametrize(
    ("resource", "message"),
    [
        ({"resourceType": "CodeSystem"}, "acei.json is not a FHIR ValueSet"),
        ({"resourceType": "ValueSet"}, "the value set acei.json has no canonical url"),
        (
            {"resourceType": "ValueSet", "url": URL},
            f"the value set acei.json ({URL}) lists no codes",
        ),
        (
            {
                "resourceType": "ValueSet",
                "url": URL,
                "compose": {"include": [{"system": ATC, "filter": [{"property": "concept"}]}]},
            },
            "compose.include[0] selects codes by filter or by another value set",
        ),
        (
            {"resourceType": "ValueSet", "url": URL, "compose": {"include": [{"system": ATC}]}},
            f"compose.include[0] includes all of {ATC}, which Vigil cannot list",
        ),
    ],
)
def test_a_value_set_that_cannot_be_listed(
    tmp_path: Path, resource: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueSetError) as caught:
        read_value_set(write(tmp_path, resource))
    assert message in str(caught.value)


def test_a_file_that_is_not_json(tmp_path: Path) -> None:
    path = tmp_path / "acei.json"
    path.write_text("{not json")
    with pytest.raises(ValueSetError, match=r"the value set acei\.json is not JSON"):
        read_value_set(path)


def ruleset_with(tmp_path: Path, codes: str, value_sets: str) -> Path:
    path = tmp_path / "ruleset.yaml"
    text = BASE.replace("codes: ['atc#C09A*', rxnorm#35296]", f"codes: {codes}")
    path.write_text(text + rule("raasi active") + f"value-sets: {value_sets}\n")
    return path


def load_problems(path: Path) -> list[str]:
    with pytest.raises(engine.RulesetError) as caught:
        engine.load_ruleset(path)
    return [f"{p.line}:{p.column}: {p.message}" for p in caught.value.problems]


def test_an_unknown_value_set_url_is_located_at_the_code(tmp_path: Path) -> None:
    write(tmp_path, composed("29046"))
    path = ruleset_with(tmp_path, "['valueset:https://example.org/ValueSet/arb']", "[acei.json]")
    line = line_of(path.read_text(), "raasi:")
    assert load_problems(path) == [
        f"{line}:37: raasi: unknown value set 'https://example.org/ValueSet/arb' "
        f"(value sets: {URL})"
    ]


def test_a_missing_value_set_file_is_located_at_its_entry(tmp_path: Path) -> None:
    path = ruleset_with(tmp_path, f"['valueset:{URL}']", "[missing.json]")
    text = path.read_text()
    assert load_problems(path) == [
        f"{line_of(text, 'raasi:')}:37: raasi: unknown value set '{URL}' "
        "(value sets: none listed under value-sets)",
        f"{line_of(text, 'value-sets')}:14: cannot read the value set missing.json: "
        "No such file or directory",
    ]


def test_a_code_from_a_value_set_may_belong_to_two_concepts(tmp_path: Path) -> None:
    write(tmp_path, composed("29046"))
    path = ruleset_with(tmp_path, f"['valueset:{URL}']", "[acei.json]")
    text = path.read_text().replace(
        "  age: {kind: demographic, field: age}",
        f"  acei: {{kind: medication, codes: ['valueset:{URL}']}}\n"
        "  age: {kind: demographic, field: age}",
    )
    path.write_text(text)
    ruleset = check_text(text, str(path), source=path)
    assert (
        ruleset.concepts["raasi"].codes
        == ruleset.concepts["acei"].codes
        == (Code(RXNORM, "29046"),)
    )


def test_value_sets_need_the_ruleset_file() -> None:
    text = BASE + rule("raasi active") + "value-sets: [acei.json]\n"
    with pytest.raises(engine.RulesetError) as caught:
        check_text(text, "r.yaml")
    assert [p.message for p in caught.value.problems] == [
        "value sets are read beside the ruleset file; load it from a file"
    ]


def test_an_edited_value_set_makes_another_ruleset(tmp_path: Path) -> None:
    write(tmp_path, composed("29046"))
    path = ruleset_with(tmp_path, f"['valueset:{URL}']", "[acei.json]")
    before = check_text(path.read_text(), str(path), source=path).content_hash
    write(tmp_path, composed("29046", "35296"))
    assert check_text(path.read_text(), str(path), source=path).content_hash != before


def test_displays_are_kept_for_people_and_never_part_of_the_code(tmp_path: Path) -> None:
    resource = composed("29046")
    resource["compose"]["include"][0]["concept"][0]["display"] = "lisinopril"
    resource["expansion"] = {"contains": [{"system": ATC, "code": "C09AA03", "display": " "}]}
    codes = read_value_set(write(tmp_path, resource)).codes
    assert [c.display for c in codes] == ["lisinopril", None]
    assert codes[0] == Code(RXNORM, "29046")
    assert hash(codes[0]) == hash(Code(RXNORM, "29046", "another display"))
