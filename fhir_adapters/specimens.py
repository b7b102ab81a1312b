"""The `condition` codes of the Specimen a result references (`v2-0493#HEM`, haemolysed).

The Specimen is resolved within the input (`Specimen/<id>`, a Bundle fullUrl, or `#id`
contained in the result) and validated. One that cannot be resolved or is not valid FHIR
leaves its condition unread, with a warning: the result itself is still read.
"""

from __future__ import annotations

from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.specimen import Specimen
from pydantic import ValidationError

from .fhir_times import Warn
from .references import Resolve

__all__ = ["specimen_conditions"]


def specimen_conditions(
    obs: Observation, resolve: Resolve | None, warn: Warn
) -> list[tuple[object, object]]:
    """(system, code) of each coding of the referenced Specimen's `condition`."""
    reference = obs.specimen.reference if obs.specimen is not None else None
    if reference is None:
        return []
    if resolve is None:
        warn(f"specimen {reference} cannot be looked up here: its condition is not read")
        return []
    data, problem = resolve(reference, "Specimen")
    if data is None:
        warn(f"specimen {problem}: its condition is not read")
        return []
    try:
        specimen = Specimen.model_validate(data)
    except (ValidationError, ValueError, TypeError):
        warn(f"specimen {reference} is not valid FHIR R4: its condition is not read")
        return []
    return [
        (coding.system, coding.code)
        for condition in specimen.condition or []
        for coding in condition.coding or []
    ]
