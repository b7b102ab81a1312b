"""The TOML configuration: defaults, relative paths, one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from fhir_adapters.cds_hooks.config import ConfigError, ServiceConfig, load_config


def test_defaults_without_a_file() -> None:
    config = load_config(None)
    assert config == ServiceConfig()
    assert config.rulesets == ("calf-fasciculation",) and not config.insecure_dev


def test_paths_are_relative_to_the_file(tmp_path: Path) -> None:
    path = tmp_path / "vigil.toml"
    path.write_text(
        'database = "db/vigil.sqlite3"\n'
        'cors_origins = ["https://sandbox.cds-hooks.org"]\n'
        "[[issuers]]\n"
        'iss = "https://ehr"\n'
        'jwks_file = "keys/jwks.json"\n'
        'audience = ["https://vigil/cds-services"]\n'
        "[fhir]\nread_timeout = 1.5\n"
    )
    config = load_config(path)
    assert config.database == tmp_path / "db/vigil.sqlite3"
    issuer = config.issuer("https://ehr")
    assert issuer is not None and issuer.jwks_file == tmp_path / "keys/jwks.json"
    assert issuer.audiences == ("https://vigil/cds-services",)
    assert config.fhir.read_timeout == 1.5
    assert config.issuer("https://nobody") is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("database = [", "not valid TOML"),
        ('colour = "red"', "colour: Extra inputs are not permitted"),
        ('[[issuers]]\niss = "https://ehr"', "issuers.0: Value error, issuer 'https://ehr' needs"),
        (
            '[[issuers]]\niss = "x"\njwks_urls = ["http://evil/jwks"]',
            "must be https",
        ),
        ('[[issuers]]\niss = "x"\njwks_file = "k"\nalgorithms = ["HS256"]', "issuers.0.algorithms"),
    ],
)
def test_errors_name_the_file_and_the_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "vigil.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=r"vigil\.toml") as info:
        load_config(path)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "absent.toml")
