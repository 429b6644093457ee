"""A scan started while a partition's leader is still being elected waits for it instead of
failing (CI once saw a worker exit at start on NOT_LEADER_FOR_PARTITION from a fresh topic)."""

from __future__ import annotations

import time

import pytest
from confluent_kafka import KafkaError, KafkaException, TopicPartition

from stream import topic_scan


class _ElectingConsumer:
    """Answers `failures` times with `code`, then the watermarks."""

    def __init__(self, failures: int, code: int) -> None:
        self.failures = failures
        self.code = code
        self.calls = 0

    def get_watermark_offsets(self, partition: TopicPartition, timeout: float) -> tuple[int, int]:
        self.calls += 1
        if self.calls <= self.failures:
            raise KafkaException(KafkaError(self.code))
        return (0, 7)


@pytest.fixture(autouse=True)
def _no_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(topic_scan, "_LEADER_RETRY_S", 0.001)


def test_leader_not_yet_elected_is_waited_for() -> None:
    consumer = _ElectingConsumer(3, KafkaError.NOT_LEADER_FOR_PARTITION)
    marks = topic_scan.partition_watermarks(consumer, TopicPartition("t", 0), time.monotonic() + 5)  # type: ignore[arg-type]
    assert marks == (0, 7)
    assert consumer.calls == 4


def test_a_lasting_leader_fault_still_fails_at_the_deadline() -> None:
    consumer = _ElectingConsumer(10**9, KafkaError.LEADER_NOT_AVAILABLE)
    with pytest.raises(KafkaException):
        topic_scan.partition_watermarks(consumer, TopicPartition("t", 0), time.monotonic() + 0.05)  # type: ignore[arg-type]
    assert consumer.calls > 1


def test_a_non_retriable_error_fails_at_once() -> None:
    consumer = _ElectingConsumer(1, KafkaError.TOPIC_AUTHORIZATION_FAILED)
    with pytest.raises(KafkaException):
        topic_scan.partition_watermarks(consumer, TopicPartition("t", 0), time.monotonic() + 5)  # type: ignore[arg-type]
    assert consumer.calls == 1
