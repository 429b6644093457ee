"""`fraudstream registry ...` commands up to the point where a plan would be published: every
command parses, signs its request, and a refusal exits 3 naming why (no broker needed)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stream.cli import app
from stream.settings import get_settings
from tests.support.governance import key_path, write_policy
from tests.support.model_builds import TEST_KEY
from tests.unit.conftest import TwoPackages

runner = CliRunner()


@pytest.fixture
def var(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    var = tmp_path / "var"
    write_policy(var)
    monkeypatch.setenv("FRAUD_VAR_DIR", str(var))
    monkeypatch.setenv("FRAUD_SIGNING_KEY", TEST_KEY.decode())
    get_settings.cache_clear()
    yield var
    get_settings.cache_clear()


def _as(var: Path, actor: str, *args: str) -> tuple[int, str]:
    result = runner.invoke(
        app, [*args, "--actor", actor, "--key", str(key_path(var, actor))], catch_exceptions=False
    )
    return result.exit_code, result.output


def test_governed_commands_sign_their_requests_and_refusals_exit_3(
    var: Path, two_packages: TwoPackages
) -> None:
    code, out = _as(var, "alice", "registry", "register", str(two_packages.a))
    assert code == 0 and out.startswith("registered card-fraud-hgb:1.0.0 (")
    code, out = _as(var, "bob", "registry", "approve", "card-fraud-hgb:1.0.0", "--stage", "canary")
    assert (code, out.strip()) == (0, "approved card-fraud-hgb:1.0.0 for canary")
    code, out = _as(var, "alice", "registry", "promote", "card-fraud-hgb:1.0.0")
    assert code == 3 and "refused: alice (roles data_scientist) may not promote" in out
    code, out = _as(var, "alice", "registry", "shadow", "card-fraud-hgb:1.0.0")
    assert code == 3 and "refused: there is no live plan yet" in out
    code, out = _as(var, "carol", "registry", "canary", "card-fraud-hgb:1.0.0", "--share", "2")
    assert code == 2  # outside [0, 1]: refused by the option itself, nothing signed
    code, out = _as(var, "carol", "registry", "rollback")
    assert code == 3 and "no live plan" in out

    listed = runner.invoke(app, ["registry", "list"]).output
    assert "card-fraud-hgb:1.0.0" in listed and "by alice" in listed
    verified = runner.invoke(app, ["changelog", "verify"])
    assert verified.exit_code == 0 and "change log intact: 5 entries" in verified.output
