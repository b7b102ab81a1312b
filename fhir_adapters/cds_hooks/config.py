"""The service's configuration, read from a TOML file.

database = "vigil.sqlite3"            # feedback, audit and jti cache; relative to this file
rulesets = ["calf-fasciculation"]     # anything engine.load_ruleset accepts
cors_origins = ["https://sandbox.cds-hooks.org"]
public_url = "https://vigil.example.org"   # optional: the base the EHR calls (for `aud`)

[fhir]                                # fetching prefetch the EHR did not send
connect_timeout = 2.0
read_timeout = 5.0
deadline = 5.0                        # for everything one call reads from fhirServer
max_pages = 10
page_size = 100

[[issuers]]
iss = "https://sandbox.cds-hooks.org"
jwks_file = "keys/sandbox-jwks.json"  # pinned keys: the only ones this issuer's tokens verify with
jwks_urls = ["https://sandbox.cds-hooks.org/.well-known/jwks.json"]   # the `jku` values allowed
audience = "https://vigil.example.org/cds-services"   # optional; string or list
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

ASYMMETRIC_ALGORITHMS: tuple[str, ...] = (
    "ES256",
    "ES384",
    "ES512",
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
)
Algorithm = Literal["ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512"]


class ConfigError(ValueError):
    """The configuration file cannot be used; the message names the file and the problem."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class IssuerConfig(_Strict):
    """An EHR allowed to call. With `jwks_file`, its tokens verify only against those pinned
    keys (by `kid`; a `jku` is never fetched, and `jwks_urls` then only lists the `jku` values
    allowed); without it, against the JWKS at `jwks_urls`."""

    iss: Annotated[str, Field(min_length=1)]
    jwks_file: Path | None = None
    jwks_urls: tuple[str, ...] = ()
    audience: str | tuple[str, ...] | None = None
    algorithms: tuple[Algorithm, ...] = ("ES384", "RS384")

    @model_validator(mode="after")
    def _has_keys(self) -> IssuerConfig:
        if self.jwks_file is None and not self.jwks_urls:
            raise ValueError(f"issuer {self.iss!r} needs jwks_file or jwks_urls")
        return self

    @field_validator("jwks_urls")
    @classmethod
    def _https_or_loopback(cls, urls: tuple[str, ...]) -> tuple[str, ...]:
        for url in urls:
            if not (url.startswith("https://") or url.startswith("http://127.0.0.1")):
                raise ValueError(f"jwks_urls entry {url!r} must be https (or loopback http)")
        return urls

    @property
    def audiences(self) -> tuple[str, ...] | None:
        if self.audience is None:
            return None
        return (self.audience,) if isinstance(self.audience, str) else self.audience


class FhirClientConfig(_Strict):
    connect_timeout: float = Field(default=2.0, gt=0, le=30)
    read_timeout: float = Field(default=5.0, gt=0, le=60)
    # seconds for all that one call reads (every key, page and redirect); then 412
    deadline: float = Field(default=5.0, gt=0, le=60)
    max_pages: int = Field(default=10, ge=1, le=100)
    page_size: int = Field(default=100, ge=1, le=1000)


class ServiceConfig(_Strict):
    database: Path = Path("vigil.sqlite3")
    rulesets: tuple[str, ...] = ("calf-fasciculation",)
    cors_origins: tuple[str, ...] = ()
    public_url: str | None = None
    issuers: tuple[IssuerConfig, ...] = ()
    fhir: FhirClientConfig = FhirClientConfig()
    leeway_seconds: int = Field(default=30, ge=0, le=300)
    insecure_dev: bool = False

    def issuer(self, iss: str) -> IssuerConfig | None:
        return next((i for i in self.issuers if i.iss == iss), None)


def load_config(path: str | Path | None) -> ServiceConfig:
    """Read a TOML config (relative paths resolved against its folder); None gives the defaults."""
    if path is None:
        return ServiceConfig()
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    try:
        config = ServiceConfig.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise ConfigError(f"{path}: {where}: {first['msg']}") from None
    return _resolve(config, path.parent)


def _resolve(config: ServiceConfig, base: Path) -> ServiceConfig:
    def absolute(p: Path) -> Path:
        return p if p.is_absolute() or str(p) == ":memory:" else base / p

    issuers = tuple(
        i.model_copy(update={"jwks_file": absolute(i.jwks_file)}) if i.jwks_file else i
        for i in config.issuers
    )
    return config.model_copy(update={"database": absolute(config.database), "issuers": issuers})


__all__ = [
    "ASYMMETRIC_ALGORITHMS",
    "ConfigError",
    "FhirClientConfig",
    "IssuerConfig",
    "ServiceConfig",
    "load_config",
]
