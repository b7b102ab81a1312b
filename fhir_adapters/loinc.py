"""The LOINC property of the codes Vigil's rulesets use, to check a result's unit against.

A LOINC code fixes what kind of quantity it reports (MCnc mass concentration, SCnc substance
concentration, ...). Real data disagrees with it (pddi-cds: 19123-9, a mass code, carrying
mmol/L); the unit wins and the disagreement is reported. Codes not listed are not checked.
"""

from __future__ import annotations

from engine import units

__all__ = ["PROPERTIES", "property_mismatch"]

LOINC = "http://loinc.org"

# LOINC property -> the engine unit dimensions it admits. LOINC files mEq/L results under SCnc.
_DIMENSIONS: dict[str, frozenset[str]] = {
    "MCnc": frozenset({units.dimension("mg/dL")}),
    "SCnc": frozenset({units.dimension("mmol/L"), units.dimension("meq/L")}),
    "Time": frozenset({units.dimension("min")}),
    "Score": frozenset({units.dimension("1")}),
    "NRat": frozenset({units.dimension("/min")}),
    "Pres": frozenset({units.dimension("mm[Hg]")}),
    "NCnc": frozenset({units.dimension("10*9/L")}),
    "CCnc": frozenset({units.dimension("U/L")}),
}

PROPERTIES: dict[str, str] = {
    "2823-3": "SCnc",  # Potassium [Moles/volume] in Serum or Plasma
    "6298-4": "SCnc",  # Potassium [Moles/volume] in Blood
    "39789-3": "SCnc",  # Potassium [Moles/volume] in Venous blood
    "32713-0": "SCnc",  # Potassium [Moles/volume] in Arterial blood
    "19123-9": "MCnc",  # Magnesium [Mass/volume] in Serum or Plasma
    "2601-3": "SCnc",  # Magnesium [Moles/volume] in Serum or Plasma
    "17861-6": "MCnc",  # Calcium [Mass/volume] in Serum or Plasma
    "2000-8": "SCnc",  # Calcium [Moles/volume] in Serum or Plasma
    "70274-6": "Score",  # Generalized anxiety disorder 7 item (GAD-7) total score
    "93832-4": "Time",  # Sleep duration
    "2160-0": "MCnc",  # Creatinine [Mass/volume] in Serum or Plasma
    "38483-4": "MCnc",  # Creatinine [Mass/volume] in Blood
    "14682-9": "SCnc",  # Creatinine [Moles/volume] in Serum or Plasma
    "8867-4": "NRat",  # Heart rate
    "8480-6": "Pres",  # Systolic blood pressure
    "8462-4": "Pres",  # Diastolic blood pressure
    "777-3": "NCnc",  # Platelets [#/volume] in Blood by Automated count
    "26515-7": "NCnc",  # Platelets [#/volume] in Blood
    "6690-2": "NCnc",  # Leukocytes [#/volume] in Blood by Automated count
    "26464-8": "NCnc",  # Leukocytes [#/volume] in Blood
    "2157-6": "CCnc",  # Creatine kinase [Enzymatic activity/volume] in Serum or Plasma
}

_NAMES = {
    "MCnc": "a mass concentration",
    "SCnc": "a substance (molar) concentration",
    "Time": "a duration",
    "Score": "a score",
    "NRat": "a rate",
    "Pres": "a pressure",
    "NCnc": "a number concentration",
    "CCnc": "a catalytic (enzyme) concentration",
}


def property_mismatch(code: str, unit: str) -> str | None:
    """Describe how LOINC `code`'s property disagrees with the resolved `unit`, or None."""
    prop = PROPERTIES.get(code)
    if prop is None:
        return None
    dimension = units.dimension(unit)
    if dimension in _DIMENSIONS[prop]:
        return None
    return (
        f"LOINC {code} is {_NAMES[prop]} but the value is in {unit} ({dimension}); "
        f"the unit is trusted"
    )
