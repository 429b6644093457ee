"""The worker refuses settings it cannot honour before it connects to anything."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from stream.cli import app
from stream.settings import get_settings


@pytest.fixture
def fresh_settings() -> Iterator[None]:
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.usefixtures("fresh_settings")
def test_exactly_once_is_refused_at_start_naming_the_variable_and_why(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FRAUD_PROCESSING_GUARANTEE", "exactly_once")
    result = CliRunner().invoke(app, ["worker"])
    assert result.exit_code == 2
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "error: FRAUD_PROCESSING_GUARANTEE: exactly_once is not supported" in result.output
    assert "outside Faust's Kafka transactions" in result.output
    assert "Traceback" not in result.output
