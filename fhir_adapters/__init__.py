"""FHIR R4 in and out: read Bundles, resources and NDJSON into the engine's records, and turn
evaluations into CDS Hooks cards with draft ServiceRequests.

    import fhir_adapters
    for result in fhir_adapters.evaluate_bundle(Path("bundle.json"), "calf-fasciculation"):
        print(result.patient, result.evaluation.escalation)
"""

from .cards import build_cards, cards_json, service_request
from .errors import FhirInputError
from .evaluate import PatientResult, Results, evaluate_bundle
from .patients import PatientBatch, PatientData, patient_records
from .reading import Loaded, load_resources

__all__ = [
    "FhirInputError",
    "Loaded",
    "PatientBatch",
    "PatientData",
    "PatientResult",
    "Results",
    "build_cards",
    "cards_json",
    "evaluate_bundle",
    "load_resources",
    "patient_records",
    "service_request",
]
