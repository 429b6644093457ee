"""Reading drift reports back: from their topic (start to end, no group) or a JSON-lines file."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from confluent_kafka import OFFSET_BEGINNING, TopicPartition

from schemas.codec import Decoder, encode_record
from schemas.drift import DRIFT_REPORT_UPGRADES, DriftReport
from schemas.rejection import Rejection
from stream.kafka_clients import new_consumer
from stream.monitor.errors import ReportsUnreadable

_DECODER = Decoder(DriftReport, worker_id="report-reader", upgrades=DRIFT_REPORT_UPGRADES)


def decode_report(raw: bytes | None) -> DriftReport | None:
    """The report (v1 reports are upgraded), or None for anything else."""
    result = _DECODER.check(raw, now=datetime.now(UTC))
    return None if isinstance(result, Rejection) else result


def ordered(reports: Iterable[DriftReport]) -> list[DriftReport]:
    """By window start, then end; a report id seen twice (a window redone) is kept once."""
    unique = {report.report_id: report for report in reports}
    return sorted(unique.values(), key=lambda r: (r.window.start, r.window.end, r.generated_at))


def read_topic(
    bootstrap: str, topic: str, timeout_s: float = 30.0
) -> tuple[list[DriftReport], int]:
    """Every report in `topic` now (up to the end offsets at the call), and how many were not
    reports."""
    consumer = new_consumer(
        bootstrap,
        {
            "group.id": f"fraudstream-report-reader-{uuid.uuid4().hex[:8]}",  # never committed
            "enable.auto.commit": False,
        },
    )
    try:
        metadata = consumer.list_topics(topic, timeout=timeout_s).topics.get(topic)
        if metadata is None or metadata.error is not None:
            raise ReportsUnreadable(f"topic {topic} unknown to the broker at {bootstrap}")
        ends = {
            p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=timeout_s)[1]
            for p in metadata.partitions
        }
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in ends])
        reports: list[DriftReport] = []
        skipped = 0
        done = {p for p, end in ends.items() if end <= 0}
        deadline = time.monotonic() + timeout_s
        while len(done) < len(ends):
            if time.monotonic() >= deadline:
                raise ReportsUnreadable(f"{topic}: not read to its end within {timeout_s} s")
            message = consumer.poll(0.2)
            if message is None or message.error() is not None:
                continue
            report = decode_report(message.value())
            if report is None:
                skipped += 1
            else:
                reports.append(report)
            partition, offset = message.partition(), message.offset()
            if partition is not None and offset is not None and offset + 1 >= ends[partition]:
                done.add(partition)
        return reports, skipped
    finally:
        consumer.close()


def read_file(path: Path) -> tuple[list[DriftReport], int]:
    """Reports from a JSON-lines file (one report per line; blank lines ignored)."""
    try:
        lines = path.read_bytes().splitlines()
    except OSError as exc:
        raise ReportsUnreadable(f"cannot read {path}: {exc}") from exc
    reports: list[DriftReport] = []
    skipped = 0
    for line in lines:
        if not line.strip():
            continue
        report = decode_report(line)
        if report is None:
            skipped += 1
        else:
            reports.append(report)
    return reports, skipped


def write_file(reports: Iterable[DriftReport], path: Path) -> int:
    count = 0
    with path.open("wb") as out:
        for report in reports:
            out.write(encode_record(report) + b"\n")
            count += 1
    return count
