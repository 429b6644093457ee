"""The one settings object. Only this module reads the environment (prefix FRAUD_)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob of fraudstream; each field is read from FRAUD_<NAME> (e.g. FRAUD_KAFKA_BOOTSTRAP)."""

    model_config = SettingsConfigDict(env_prefix="FRAUD_", frozen=True, extra="ignore")

    # Kafka. KAFKA_BOOTSTRAP_SERVERS (no prefix) is honoured too, as test tooling sets it.
    kafka_bootstrap: str = Field(
        default="127.0.0.1:9092",
        validation_alias=AliasChoices("FRAUD_KAFKA_BOOTSTRAP", "KAFKA_BOOTSTRAP_SERVERS"),
        description="Comma-separated host:port list of the Kafka brokers",
    )

    # Where local state lives: RocksDB tables, broker data, model registry.
    var_dir: Path = Field(default=Path("var"), description="Root of local runtime state")

    # Model package signing (HMAC-SHA256). The default is for local demos only.
    signing_key: SecretStr = Field(
        default=SecretStr("fraudstream-dev-signing-key-change-me"),
        description="Key that signs and verifies model packages",
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Build the settings once per process."""
    return Settings()
