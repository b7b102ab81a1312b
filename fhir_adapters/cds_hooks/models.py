"""Pydantic models of CDS Hooks 2.0, written from the tables of https://cds-hooks.hl7.org/2.0/.

No official JSON Schema exists for 2.0. Incoming documents (requests, feedback) accept unknown
members, as the spec's `extension` mechanism allows; outgoing ones (discovery, cards) forbid them,
so a typo in Vigil's own output fails loudly. Serialise outgoing models with `dump()`, which omits
null fields; lists are either absent or non-empty by construction. The card itself is defined
below the service, in `fhir_adapters.card_models`, and named here too.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AnyHttpUrl,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)

from ..card_models import (
    Action,
    Card,
    Coding,
    Indicator,
    Link,
    NonEmpty,
    Outgoing,
    SelectionBehavior,
    Source,
    Suggestion,
)


class _Incoming(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


# --- shared ---------------------------------------------------------------------------------


class IncomingCoding(_Incoming):
    code: NonEmpty
    system: NonEmpty
    display: str | None = None


# --- discovery ------------------------------------------------------------------------------


class Service(Outgoing):
    hook: NonEmpty
    id: NonEmpty
    description: NonEmpty
    title: NonEmpty | None = None
    prefetch: dict[str, NonEmpty] | None = Field(default=None, min_length=1)
    usageRequirements: NonEmpty | None = None


class DiscoveryResponse(Outgoing):
    services: list[Service]


# --- request --------------------------------------------------------------------------------


_HEADER_TOKEN = re.compile(r"[\x21-\x7e]+")


def _header_token(value: str) -> str:
    # it is sent to fhirServer as `Authorization: Bearer <token>`, a header: a character
    # outside visible ASCII cannot be sent, so the key could never be read with it
    if not _HEADER_TOKEN.fullmatch(value):
        raise ValueError("not a token an Authorization header can carry (visible ASCII only)")
    return value


class FhirAuthorization(_Incoming):
    access_token: Annotated[str, AfterValidator(_header_token)]
    token_type: Literal["Bearer"]
    expires_in: int = Field(ge=0)
    scope: NonEmpty
    subject: NonEmpty
    patient: str | None = None


def _base_url(url: AnyHttpUrl) -> AnyHttpUrl:
    # searches are written after it (`{fhirServer}/Observation?patient=...`): a query would
    # swallow the search's own parameters, the patient's among them, and a fragment all of them
    if url.query is not None or url.fragment is not None:
        raise ValueError("a FHIR base URL has no query (?) or fragment (#)")
    return url


class PatientViewContext(_Incoming):
    userId: NonEmpty
    patientId: NonEmpty
    encounterId: str | None = None


class HookRequest(_Incoming):
    hook: NonEmpty
    hookInstance: NonEmpty
    context: dict[str, Any]
    fhirServer: Annotated[AnyHttpUrl, AfterValidator(_base_url)] | None = None
    fhirAuthorization: FhirAuthorization | None = None
    prefetch: dict[str, dict[str, Any] | None] | None = None

    @model_validator(mode="after")
    def _authorization_needs_server(self) -> HookRequest:
        if self.fhirAuthorization is not None and self.fhirServer is None:
            raise ValueError("fhirAuthorization is given but fhirServer is missing")
        return self

    def patient_view(self) -> PatientViewContext:
        """The context read as patient-view's; raises pydantic.ValidationError when it is not."""
        return PatientViewContext.model_validate(self.context)


# --- cards ----------------------------------------------------------------------------------


class CardResponse(Outgoing):
    cards: list[Card]
    systemActions: list[Action] | None = Field(default=None, min_length=1)


# --- feedback -------------------------------------------------------------------------------


_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})", re.IGNORECASE
)


def _rfc3339_text(value: Any) -> Any:
    # pydantic alone would also take a number (as Unix time), a bare date or a time without an
    # offset, and guess what was meant; a datetime (from Python) goes on to the offset check
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _RFC3339.fullmatch(value):
        raise ValueError(
            "expected an RFC 3339 date-time with its offset, e.g. 2024-06-01T10:00:00Z"
        )
    return value


def _utc(value: Any) -> Any:
    return value.astimezone(UTC)


Rfc3339 = Annotated[AwareDatetime, BeforeValidator(_rfc3339_text), AfterValidator(_utc)]


class AcceptedSuggestion(_Incoming):
    id: NonEmpty


class OverrideReason(_Incoming):
    reason: IncomingCoding | None = None
    userComment: str | None = None


class FeedbackItem(_Incoming):
    card: NonEmpty
    outcome: Literal["accepted", "overridden"]
    outcomeTimestamp: Rfc3339
    acceptedSuggestions: list[AcceptedSuggestion] | None = None
    overrideReason: OverrideReason | None = None

    @model_validator(mode="after")
    def _outcome_fields(self) -> FeedbackItem:
        if self.outcome == "accepted" and not self.acceptedSuggestions:
            raise ValueError("acceptedSuggestions is required when the outcome is accepted")
        if self.outcome == "accepted" and self.overrideReason is not None:
            raise ValueError("overrideReason is only allowed when the outcome is overridden")
        if self.outcome == "overridden" and self.acceptedSuggestions:
            raise ValueError("acceptedSuggestions is only allowed when the outcome is accepted")
        return self


class FeedbackRequest(_Incoming):
    feedback: list[FeedbackItem] = Field(min_length=1)


__all__ = [
    "AcceptedSuggestion",
    "Action",
    "Card",
    "CardResponse",
    "Coding",
    "DiscoveryResponse",
    "FeedbackItem",
    "FeedbackRequest",
    "FhirAuthorization",
    "HookRequest",
    "Indicator",
    "Link",
    "OverrideReason",
    "PatientViewContext",
    "SelectionBehavior",
    "Service",
    "Source",
    "Suggestion",
]
