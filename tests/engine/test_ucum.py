"""UCUM expressions and their conversion: `engine.units` over `engine.units.ucum`.

The examples follow the UCUM specification (https://ucum.org/ucum): its grammar, prefixes,
exponents, annotations and special units, and the units clinical laboratories report.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine import Evaluator, Quantity, Record, load_text, units
from engine.units import ucum

CREATININE = 113.12  # g/mol


def same(a: str, b: str) -> bool:
    """Whether two expressions are one unit: the same size and dimension."""
    first, second = units.lookup(a), units.lookup(b)
    return (first.magnitude, first.vector) == (second.magnitude, second.vector)


@pytest.mark.parametrize(
    ("text", "equal"),
    [
        ("kg", "g.10*3"),
        ("mg", "g/10*3"),
        ("ug", "mg/10*3"),
        ("dL", "L/10"),
        ("dL", "(L/10)"),
        ("kPa", "10*3.Pa"),
        ("daL", "L.10"),
        ("m2", "m.m"),
        ("cm3", "mL"),
        ("s-1", "/s"),
        ("/min", "min-1"),
        ("kg.m/s2", "N"),
        ("kg/m.s", "kg.s/m"),  # left to right: (kg/m).s
        ("/m.s", "/(m.s)"),  # but a leading / divides by the whole term
        ("kg/(m.s)", "kg/m/s"),
        ("mg/(24.h)", "mg/d"),
        ("10*9/L", "10^9/L"),
        ("10*-3", "10^-3"),
        ("10*3/uL", "10*9/L"),
        ("%", "10*-2"),
        ("mm[Hg]", "m[Hg]/10*3"),
        ("cm[H2O]", "m[H2O]/100"),
        ("mL/min/{1.73_m2}", "mL/{1.73_m2}/min"),
        ("g{total}", "mg{total}.1000"),
        ("{cells}/uL", "{cells}/mm3"),
        ("U", "umol/min"),
        ("kat", "mol/s"),
        ("a", "mo.12"),
        ("wk", "d.7"),
        ("[lb_av]", "[oz_av].16"),
        ("l", "L"),
    ],
)
def test_expressions_read_by_the_grammar(text: str, equal: str) -> None:
    assert same(text, equal)


@pytest.mark.parametrize(
    ("text", "dimension"),
    [
        ("mmol/L", "substance concentration"),
        ("umol/L", "substance concentration"),
        ("mg/dL", "mass concentration"),
        ("meq/L", "equivalent concentration"),
        ("min", "duration"),
        ("mg/d", "mass per day"),
        ("1", "number"),
        ("/min", "frequency"),
        ("mm[Hg]", "pressure"),
        ("mL/min/{1.73_m2}", "volume per time per 1.73_m2"),
        ("10*9/L", "number concentration"),
        ("kg/m2", "mass per area"),
        ("U/L", "catalytic concentration"),
        ("mosm/kg", "osmolality"),
        ("[IU]/L", "[IU] units per volume"),
        ("m/s2", "length per time squared"),
    ],
)
def test_dimensions_are_named_in_words(text: str, dimension: str) -> None:
    assert units.dimension(text) == dimension


@pytest.mark.parametrize("text", ["{score}", "{1.73_m2}", " ", "", "{}", "{a}.{b}", "/{beat}"])
def test_annotations_alone_are_the_unit_one(text: str) -> None:
    assert units.lookup(text).code == "1"
    assert units.is_plain_number(text)


def test_an_expression_keeps_its_code_and_a_spelling_gets_the_ucum_one() -> None:
    assert units.lookup("mL/min/{1.73_m2}").code == "mL/min/{1.73_m2}"
    assert units.lookup(" 10*9/L ").code == "10*9/L"
    assert units.lookup("mEq/L").code == "meq/L"
    assert units.lookup("MMOL/L").code == "mmol/L"
    assert units.lookup("mmol/l").code == "mmol/L"
    assert units.lookup("days").code == "d"


@pytest.mark.parametrize(
    ("spelling", "code"),
    [
        ("mmHg", "mm[Hg]"),
        ("mm Hg", "mm[Hg]"),
        ("MM[HG]", "mm[Hg]"),
        ("bpm", "/min"),
        ("beats/min", "/min"),
        ("micromol/L", "umol/L"),
        ("K/uL", "10*3/uL"),
        ("10e9/L", "10*9/L"),
        ("x10^9/L", "10*9/L"),
        ("IU/L", "[IU]/L"),
        ("[iu]/l", "[IU]/L"),
        ("u/l", "U/L"),
        ("ml/min/1.73m2", "mL/min/{1.73_m2}"),
        ("mL/min/1.73 m²", "mL/min/{1.73_m2}"),
    ],
)
def test_spellings_the_hyperkalaemia_spec_accepts_are_read(spelling: str, code: str) -> None:
    assert units.lookup(spelling).code == code


@pytest.mark.parametrize("micro", ["µmol/L", "μmol/L", "µmol/l"])
def test_micro_written_as_a_greek_letter_or_the_micro_sign_is_u(micro: str) -> None:
    assert units.lookup(micro).code == "umol/L"


@pytest.mark.parametrize(
    ("value", "source", "target", "expected"),
    [
        (1, "10*9/L", "10*3/uL", 1),
        (12, "kPa", "mm[Hg]", 12000 / 133.322),
        (90, "/min", "/s", 1.5),
        (60, "mL/min/{1.73_m2}", "L/h/{1.73_m2}", 3.6),
        (1, "U/L", "ukat/L", 1 / 60),
        (250, "m[IU]/mL", "[IU]/L", 250),
        (5, "[iU]", "[IU]", 5),
        (2, "wk", "d", 14),
        (1, "a", "d", 365.25),
        (72, "[in_i]", "m", 1.8288),
        (150, "[lb_av]", "kg", 68.0388555),
        (1, "Cel", "Cel", 1),
    ],
)
def test_units_of_one_dimension_convert(
    value: float, source: str, target: str, expected: float
) -> None:
    assert units.convert(value, source, target) == pytest.approx(expected, rel=1e-6)


def test_creatinine_converts_between_molar_and_mass_only_with_its_molar_mass() -> None:
    assert units.convert(88.4, "umol/L", "mg/dL", molar_mass=CREATININE) == pytest.approx(1.0, 1e-4)
    assert units.convert(1.0, "mg/dL", "umol/L", molar_mass=CREATININE) == pytest.approx(88.4, 1e-3)
    with pytest.raises(units.UnitError, match=r"umol/L \(substance concentration\) cannot be"):
        units.convert(88.4, "umol/L", "mg/dL")


def test_equivalents_become_moles_only_with_the_valence() -> None:
    assert units.convert(1.0, "mmol/L", "mEq/L", valence=2) == 2.0  # divalent magnesium
    assert units.convert(4.0, "mEq/L", "mmol/L", valence=1) == 4.0
    with pytest.raises(units.UnitError, match="equivalent concentration"):
        units.convert(4.0, "mEq/L", "mmol/L")
    with pytest.raises(units.UnitError):
        units.convert(4.0, "mEq/L", "mmol/L", molar_mass=39.098)


def test_a_mass_converts_to_equivalents_through_moles() -> None:
    mg_dl = units.convert(2.0, "meq/L", "mg/dL", molar_mass=24.305, valence=2)
    assert mg_dl == pytest.approx(2.4305)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("furlong", "'furlong' is not a UCUM unit"),
        ("kmin", "min takes no prefix"),
        ("m%", "% takes no prefix"),
        ("k[in_i]", r"\[in_i\] takes no prefix"),
        ("mHg", "'mHg' is not a UCUM unit"),
        ("m[Hg", r"'\[' without its '\]'"),
        ("{1.73_m2", "without its '}'"),
        ("mg/", "a unit is missing"),
        ("mg//L", "a unit is missing"),
        ("(mg/L", "missing '\\)'"),
        ("mg)", "unexpected '\\)'"),
        ("mg / L", "not a UCUM unit"),
        ("10*999", "beyond 99"),
        ("Cel/h", "Cel is a scale with its own zero"),
        ("mCel", "Cel is a scale with its own zero"),
        ("Cel2", "Cel is a scale with its own zero"),
        ("m" * 201, "longer than 200 characters"),
        ("10*99.10*99.10*99.10*99", "beyond any measurement"),
    ],
)
def test_text_that_is_no_ucum_unit_is_refused_with_the_reason(text: str, why: str) -> None:
    with pytest.raises(units.UnitError, match=why):
        units.lookup(text)
    assert not units.is_known(text)


@pytest.mark.parametrize(
    ("source", "target"),
    [
        ("mmol/L", "mg/dL"),
        ("mmol/L", "mmol/kg"),
        ("mm[Hg]", "mmol/L"),
        ("/min", "min"),
        ("10*9/L", "mmol/L"),
        ("[IU]/L", "mg/L"),
        ("[IU]", "[arb'U]"),
        ("U/L", "[IU]/L"),
        ("%", "mg/dL"),
        ("mosm/kg", "mmol/kg"),
    ],
)
def test_units_of_different_dimensions_do_not_convert(source: str, target: str) -> None:
    with pytest.raises(units.UnitError, match="cannot be converted"):
        units.convert(1.0, source, target)


@pytest.mark.parametrize(
    ("source", "target"), [("mmol/L", "mmol/kg"), ("%", "mmol/L"), ("mg/kg", "mmol/kg")]
)
def test_a_molar_mass_or_valence_does_not_join_other_dimensions(source: str, target: str) -> None:
    with pytest.raises(units.UnitError, match="cannot be converted"):
        units.convert(1.0, source, target, molar_mass=CREATININE, valence=1)


@pytest.mark.parametrize(("source", "target"), [("Cel", "K"), ("Cel", "[degF]"), ("[pH]", "mol/L")])
def test_a_scale_with_its_own_zero_is_never_converted(source: str, target: str) -> None:
    with pytest.raises(units.UnitError, match="a scale with its own zero is never converted"):
        units.convert(37.0, source, target)


def test_below_zero_is_possible_on_a_scale_with_its_own_zero_only() -> None:
    assert units.impossible(-4.0, "Cel") is None
    assert units.impossible(-4.0, "K") == "-4 K is negative, which a temperature cannot be"
    assert units.impossible(-1.0, "mm[Hg]") == "-1 mm[Hg] is negative, which a pressure cannot be"


def test_a_percent_is_a_number_but_not_a_plain_one() -> None:
    assert units.dimension("%") == "number"
    assert not units.is_plain_number("%")
    assert units.convert(40, "%", "1") == pytest.approx(0.4)


def test_durations_in_ucum_units_read_as_timedeltas() -> None:
    assert units.to_timedelta(*units.parse_quantity("36 h")) == timedelta(hours=36)
    assert units.to_timedelta(*units.parse_quantity("2 wk")) == timedelta(days=14)
    assert units.parse_quantity("90 mm[Hg]") == (90.0, "mm[Hg]")
    assert units.parse_quantity("3.5 10*9/L") == (3.5, "10*9/L")


def test_a_ruleset_compares_values_in_any_unit_of_the_concepts_dimension() -> None:
    ruleset = load_text(
        """\
id: pressure
version: 1.0.0
status: draft
title: Low blood pressure
citations:
  guide: {title: A guideline, section: Blood pressure}
levels: [{id: none, title: No action, indicator: info},
  {id: urgent, title: Urgent, indicator: critical}]
concepts:
  systolic: {codes: [loinc#8480-6], unit: 'mm[Hg]', lookback: 1 d}
  neutrophils: {codes: [loinc#751-8], unit: 10*9/L, lookback: 1 d}
rules:
  - id: low-systolic
    when: systolic < 90 mm[Hg]
    then:
      suggest: urgent
      summary: "Systolic {systolic} is low"
      cite: guide
  - id: neutropenia
    when: neutrophils < 1.0 10*9/L
    then:
      suggest: urgent
      summary: "Neutrophils {neutrophils} are low"
      cite: guide
"""
    )
    now = datetime(2026, 3, 1, tzinfo=UTC)
    evaluation = Evaluator(ruleset).evaluate(
        [
            Record(
                "systolic", "Observation/bp", now - timedelta(hours=1), value=Quantity(11.5, "kPa")
            ),
            Record(
                "neutrophils",
                "Observation/n",
                now - timedelta(hours=1),
                value=Quantity(1500, "/uL"),
            ),
        ],
        as_of=now,
    )
    assert [s.rule for s in evaluation.suggestions] == ["low-systolic"]
    assert evaluation.warnings == ()


# Property: random products of known atoms, with prefixes on metric ones and exponents.

_METRIC = sorted(c for c, a in ucum.ATOMS.items() if a.metric and not a.special)
_OTHER = sorted(c for c, a in ucum.ATOMS.items() if not a.metric and not a.special)
_PREFIX = st.sampled_from(["", *sorted(ucum.PREFIXES)])
_SIMPLE = st.one_of(
    st.tuples(_PREFIX, st.sampled_from(_METRIC)).map("".join),
    st.sampled_from(_OTHER),
)
_EXPONENT = st.sampled_from(["", "2", "3", "-1", "-2"])
_COMPONENT = st.one_of(
    st.tuples(_SIMPLE, _EXPONENT).map("".join),
    st.tuples(_SIMPLE, st.sampled_from(["{a}", "{1.73_m2}"])).map("".join),
)
_EXPRESSION = st.tuples(
    st.sampled_from(["", "/"]),
    _COMPONENT,
    st.lists(st.tuples(st.sampled_from([".", "/"]), _COMPONENT), max_size=3),
).map(lambda parts: parts[0] + parts[1] + "".join(op + c for op, c in parts[2]))


def _readable(text: str) -> bool:
    # a prefix letter joined to an atom may spell another atom (`P`+`a` is `Pa`): still UCUM
    try:
        units.lookup(text)
    except units.UnitError:
        return False
    return True


@given(_EXPRESSION)
def test_parsing_is_stable(text: str) -> None:
    if not _readable(text):
        return
    unit = units.lookup(text)
    assert ucum.parse(text) == ucum.parse(text)
    assert units.lookup(unit.code) == unit
    assert units.dimension(text) == unit.dimension


@given(_EXPRESSION, st.floats(min_value=1e-6, max_value=1e6))
def test_converting_there_and_back_gives_the_value(text: str, value: float) -> None:
    if not _readable(text):
        return
    # the same dimension in other words: a thousand of the unit
    # (a leading `/` divides by all that follows it: `/m.s` is per metre-second)
    other = f"10*3/({text[1:]})" if text.startswith("/") else f"10*3.({text})"
    there = units.convert(value, text, other)
    assert there == pytest.approx(value / 1000, rel=1e-12)
    assert units.convert(there, other, text) == pytest.approx(value, rel=1e-12)


def test_a_card_shows_an_annotated_unit_without_braces() -> None:
    ruleset = load_text(
        """\
id: kidney
version: 1.0.0
status: draft
title: Low eGFR
citations:
  guide: {title: A guideline, section: Kidney function}
levels: [{id: none, title: No action, indicator: info},
  {id: primary-care, title: Primary care, indicator: warning}]
concepts:
  egfr: {codes: [loinc#62238-1], unit: 'mL/min/{1.73_m2}', lookback: 30 d}
parameters:
  low_egfr: 30 mL/min/{1.73_m2}
rules:
  - id: low-egfr
    when: egfr < low_egfr
    then:
      suggest: primary-care
      summary: "eGFR {egfr} is below {low_egfr}"
      detail: "eGFR {egfr}"
      cite: guide
"""
    )
    now = datetime(2026, 3, 1, tzinfo=UTC)
    record = Record(
        "egfr", "Observation/e", now - timedelta(days=1), value=Quantity(0.45, "mL/s/{1.73_m2}")
    )
    [suggestion] = Evaluator(ruleset).evaluate([record], as_of=now).suggestions
    assert suggestion.summary == "eGFR 27 mL/min/1.73_m2 is below 30 mL/min/1.73_m2"
    assert suggestion.detail.startswith("eGFR 27 mL/min/1.73_m2 (reported as 0.45 mL/s/1.73_m2)")


@pytest.mark.parametrize(
    ("annotated", "plain"),
    [("mL/min/{1.73_m2}", "mL/min"), ("g{total}", "g"), ("10*9{cells}/L", "10*9/L")],
)
def test_an_annotation_beside_units_is_never_converted_away(annotated: str, plain: str) -> None:
    # an eGFR (per 1.73 m2 of body surface) is no clearance: only the annotation tells them apart
    with pytest.raises(units.UnitError, match="cannot be converted"):
        units.convert(60.0, plain, annotated)
    assert units.convert(1.0, annotated, annotated) == 1.0
