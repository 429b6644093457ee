"""Session-wide fixtures: one real Kafka broker for every test that asks for it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.kafka_env import KafkaForTests, kafka_for_tests
from tests.support.stream_setup import build_test_package

_provided: list[KafkaForTests] = []


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Bootstrap address of a real broker: KAFKA_BOOTSTRAP_SERVERS, Testcontainers, or the
    local launcher (stopped at session end, on Ctrl-C and on failures alike)."""
    work_dir: Path = tmp_path_factory.mktemp("kafka")
    with kafka_for_tests(work_dir) as kafka:
        _provided.append(kafka)
        yield kafka.bootstrap


@pytest.fixture(scope="session")
def test_package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A signed package built from a small simulation (once per test session); shared by the
    integration, smoke, load, stress and acceptance suites."""
    return build_test_package(tmp_path_factory.mktemp("package"))


@pytest.fixture
def topic_label(request: pytest.FixtureRequest) -> str:
    """The running test's name, to put into topic names (see tests.support.topics.unique_topic)."""
    return str(request.node.name)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for kafka in _provided:
        terminalreporter.write_line(
            f"Kafka for tests: {kafka.bootstrap} from {kafka.source}, "
            f"ready in {kafka.start_seconds:.1f} s"
        )
