"""The decision stage on in-memory tables and a collecting output, for tests and benchmarks that
exercise validate → enrich → decide without Kafka."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from models.decision import FallbackMode
from stream.decision_path.deciding import BatchDecider, Champion, LivePlan
from stream.decision_path.enrich import Enricher
from stream.decision_path.intake import input_decoder
from stream.decision_path.merchant_view import MerchantView
from stream.decision_path.metrics import StreamMetrics
from stream.decision_path.overlay import Overlay
from stream.decision_path.stage import DecisionStage
from stream.engine.state_stores import DictStore
from stream.settings import Settings

SETTINGS = Settings()


class CollectedOutput:
    """Stands for the output producer: keeps what was sent, in order."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes | None, bytes]] = []
        self.failure: Exception | None = None  # what the next poll raises, as a failed delivery

    def send(self, topic: str, key: bytes | None, value: bytes, **_: Any) -> None:
        self.sent.append((topic, key, value))

    def poll(self) -> None:
        if self.failure is not None:
            raise self.failure

    def on(self, topic: str) -> list[bytes]:
        return [value for name, _, value in self.sent if name == topic]


class InMemoryStage(NamedTuple):
    stage: DecisionStage
    output: CollectedOutput
    metrics: StreamMetrics
    view: MerchantView


def in_memory_stage(
    deciding: Champion | LivePlan | None = None,
    cards: DictStore | None = None,
    partials: DictStore | None = None,
    budget_ms: float = 50.0,
    worker_id: str = "test-worker",
    overlay: Overlay | None = None,
    decision_key: bytes | None = None,
    committed_offset: Callable[[int], int | None] = lambda partition: None,
) -> InMemoryStage:
    output, metrics, view = CollectedOutput(), StreamMetrics(), MerchantView(4)
    stage = DecisionStage(
        SETTINGS,
        input_decoder(SETTINGS, worker_id),
        Enricher(
            cards or DictStore(), partials or DictStore(), view, committed_offset=committed_offset
        ),
        BatchDecider(deciding, FallbackMode.RULES_ONLY, budget_ms, SETTINGS.topics.transactions),
        output,  # type: ignore[arg-type]
        metrics,
        overlay,
        decision_key,
    )
    return InMemoryStage(stage, output, metrics, view)
