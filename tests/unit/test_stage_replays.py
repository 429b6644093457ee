"""A replayed record re-sends its key's state, so a changelog write lost in a crash heals.

The local RocksDB store of a SIGKILLed worker can hold updates whose changelog records were
still in the producer's buffer. When the worker restarts, it replays from the committed offset
and finds those transactions already applied; if it then skipped the table write, the
changelog (what every other worker restores) would stay without them for good.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from models.decision import FallbackMode
from models.features import CardState, MerchantState
from schemas import transaction_decoder
from stream import internal
from stream.card_stage import CardStage
from stream.deciding import BatchDecider
from stream.merchant_stage import MerchantStage
from stream.metrics import StreamMetrics
from stream.settings import Settings
from stream.state_table import DictStateTable
from tests.support.stream_setup import simulated_events


class RecordingTable(DictStateTable):
    """A table whose writes are what the changelog would receive."""

    def __init__(self) -> None:
        super().__init__()
        self.changelog: list[tuple[bytes, bytes]] = []

    def set(self, key: bytes, value: bytes) -> None:
        super().set(key, value)
        self.changelog.append((key, value))


class CollectedOutput:
    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes | None, bytes]] = []

    def send(self, topic: str, key: bytes | None, value: bytes, partition: int = -1) -> None:
        self.sent.append((topic, key, value))


def _card_stage(table: RecordingTable, output: CollectedOutput) -> CardStage:
    settings = Settings()
    decoder = transaction_decoder("test-worker")
    return CardStage(settings, table, output, decoder, StreamMetrics())  # type: ignore[arg-type]


def test_card_stage_resends_the_state_when_it_replays_a_record() -> None:
    key, value = simulated_events(seed=3, limit=1)[0]
    table, output = RecordingTable(), CollectedOutput()
    stage = _card_stage(table, output)
    now = datetime.now(UTC)

    stage.handle(value, key, partition=0, offset=10, timestamp_ms=0, now=now)
    first_state = table.data[key]
    table.changelog.clear()  # the worker dies before this changelog record is delivered
    stage.handle(value, key, partition=0, offset=10, timestamp_ms=0, now=now)

    assert table.changelog == [(key, first_state)]
    replayed = internal.decode(output.sent[-1][2])
    assert replayed.card_replayed
    assert len(CardState.decode(first_state)) == 1


def test_merchant_stage_resends_the_state_when_it_replays_a_handover() -> None:
    key, value = simulated_events(seed=3, limit=1)[0]
    cards, collected = RecordingTable(), CollectedOutput()
    _card_stage(cards, collected).handle(
        value, key, partition=2, offset=5, timestamp_ms=0, now=datetime.now(UTC)
    )
    handover = collected.sent[-1][2]
    merchants = RecordingTable()
    settings = Settings()
    decider = BatchDecider(None, FallbackMode.RULES_ONLY, 50.0, settings.topics.transactions)
    metrics = StreamMetrics()
    stage = MerchantStage(
        settings,
        merchants,
        CollectedOutput(),  # type: ignore[arg-type]
        decider,
        metrics,
    )
    acks: list[Any] = []

    stage.add(handover, ack=acks.append)
    merchant_key, first_state = merchants.changelog[-1]
    merchants.changelog.clear()
    stage.add(handover, ack=acks.append)

    assert merchants.changelog == [(merchant_key, first_state)]
    # The second add was a replay (state unchanged), not a second application.
    replays = metrics.registry.get_sample_value(
        "fraud_replayed_events_total", {"stage": "merchant"}
    )
    assert replays == 1
    assert sum(MerchantState.decode(merchants.data[merchant_key]).coarse_count) == 1
