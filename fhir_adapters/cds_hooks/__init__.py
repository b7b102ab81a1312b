"""CDS Hooks 2.0: the service Vigil exposes to EHRs.

Modules: `models` (the spec's documents), `security` (JWT bearer verification), `storage`
(feedback, audit and replayed-jti stores), `config`, `prefetch`, `first_page` and `fhir_client`
(getting the patient's data), `app` (the FastAPI application factory). Import the app from
`fhir_adapters.cds_hooks.app`; this package itself only names the documents.
"""

from __future__ import annotations

from .models import (
    Card,
    CardResponse,
    DiscoveryResponse,
    FeedbackRequest,
    HookRequest,
    Service,
)

__all__ = [
    "Card",
    "CardResponse",
    "DiscoveryResponse",
    "FeedbackRequest",
    "HookRequest",
    "Service",
]
