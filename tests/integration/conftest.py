"""Fixtures of the stream integration tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.stream_setup import build_test_package


@pytest.fixture(scope="session")
def test_package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A signed package built from a small simulation (once per test session)."""
    return build_test_package(tmp_path_factory.mktemp("package"))
