"""Errors of the FHIR adapter layer.

::

    engine.errors.FactError
    └── FhirInputError   input that cannot be read as FHIR at all (missing file, not JSON,
                         JSON that is not FHIR); the message is one line naming the file

Problems with single resources inside readable input are not errors: they become
`engine.evaluation.DataWarning`s and the rest of the input is used.
"""

from __future__ import annotations

from engine.errors import FactError


class FhirInputError(FactError):
    """FHIR input that cannot be read at all; the message names the file (and line) and why."""
