"""The shared paced producer loop (stream/load/pacing.py) against a stand-in producer."""

from __future__ import annotations

import time
from typing import Any

import pytest

from stream.load.pacing import produce_paced
from stream.load.readback import transaction_id_of


class FakeProducer:
    """Records what was produced and when; refuses the first `full` sends like a full queue."""

    def __init__(self, full: int = 0, undelivered: int = 0) -> None:
        self.sent: list[tuple[float, bytes | None, bytes]] = []
        self.full, self.undelivered, self.polls = full, undelivered, 0
        self.flushed_after: list[int] = []  # how many records were sent at each flush

    def list_topics(self, topic: str, timeout: float) -> None:
        return None

    def produce(self, topic: str, value: bytes, key: bytes | None, **_: Any) -> None:
        if self.full:
            self.full -= 1
            raise BufferError("queue full")
        self.sent.append((time.monotonic(), key, value))

    def poll(self, timeout: float) -> int:
        self.polls += 1
        return 0

    def flush(self, timeout: float) -> int:
        self.flushed_after.append(len(self.sent))
        return self.undelivered


RECORDS = [(f"C{i}".encode(), f'{{"transaction_id":"T{i}"}}'.encode()) for i in range(20)]


def test_records_leave_in_order_at_the_rate() -> None:
    producer = FakeProducer()
    stamped: list[int] = []
    reported: list[int] = []
    sent = produce_paced(
        producer,  # type: ignore[arg-type]
        "t",
        RECORDS,
        rate=200,
        on_sent=lambda i, _: stamped.append(i),
        progress=reported.append,
    )
    assert sent == 20 and stamped == list(range(20))
    assert [value for _, _, value in producer.sent] == [value for _, value in RECORDS]
    # The paced clock starts after the first record (sent alone): never ahead of it after.
    span = producer.sent[-1][0] - producer.sent[1][0]
    assert span >= 18 / 200 * 0.95
    assert reported[-1] == 20


def test_the_first_record_goes_alone_and_the_clock_starts_once_it_is_acknowledged() -> None:
    # An idempotent producer sends nothing before it has its producer id: records stamped
    # meanwhile would reach the workers late.
    producer = FakeProducer()
    produce_paced(producer, "t", RECORDS, rate=1e6)  # type: ignore[arg-type]
    assert producer.flushed_after == [1, 20]  # the first alone, then the end of the run


def test_a_full_queue_is_waited_out_not_lost() -> None:
    producer = FakeProducer(full=3)
    assert produce_paced(producer, "t", RECORDS[:5], rate=1e6) == 5  # type: ignore[arg-type]
    assert len(producer.sent) == 5


def test_undelivered_records_fail_the_run_unless_the_caller_counts_them() -> None:
    with pytest.raises(RuntimeError, match="2 records not delivered"):
        produce_paced(FakeProducer(undelivered=2), "t", RECORDS, rate=1e6)  # type: ignore[arg-type]
    sent = produce_paced(
        FakeProducer(undelivered=2),  # type: ignore[arg-type]
        "t",
        RECORDS,
        rate=1e6,
        strict=False,
    )
    assert sent == 20


def test_transaction_ids_are_read_without_decoding() -> None:
    assert transaction_id_of(b'{"schema_version":1,"transaction_id":"L1-T9","x":1}') == b"L1-T9"


def test_simulated_traffic_has_as_many_records_as_asked_with_run_unique_ids() -> None:
    from stream.load.traffic import simulated_traffic

    first = simulated_traffic(9_000, run_tag="A")  # more than one small simulation holds
    second = simulated_traffic(50, run_tag="B")
    assert len(first) == 9_000 and len(second) == 50
    ids = {transaction_id_of(value) for _, value in first}
    assert len(ids) == 9_000 and all(i.startswith(b"A-") for i in ids)
    assert not ids & {transaction_id_of(value) for _, value in second}
    assert all(f'"card_id":"{key.decode()}"'.encode() in value for key, value in first[:100])
