"""`fraudstream demo`: the whole system once, on a broker of its own, in a few minutes.

simulate → build a signed package → start a worker and the drift monitor → stream live
transactions (and a few malformed ones) and delayed labels → read back decisions, dead
letters, the scoring log, metrics and a drift report → trace one decision to its model,
data and commit → stop everything it started.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Sequence
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from models.datasets import DatasetStore
from models.package import read_manifest_unverified
from models.simulator import (
    SimulatorConfig,
    iter_label_json,
    iter_transaction_json,
    shift_to_now,
    simulate,
    store_simulation,
)
from models.training.build import BuildRequest, build_package
from models.training.config import TrainingConfig
from models.training.quick import TRAINING_CONFIG
from schemas import DeadLetter, Decision, ScoringLogRecord
from stream.broker import BrokerConfig, KafkaBroker, free_ports
from stream.broker.process import stop_child
from stream.chaos.workers import WorkerProcess
from stream.kafka_clients import new_producer
from stream.load.pacing import produce_paced
from stream.replay import read_topic
from stream.settings import Settings, TopicNames
from stream.signing_keys import run_signing_key

LIVE_EVENTS = 5_000
LIVE_RATE = 250  # events per second, beside the drift monitor, on the same machine
REPO = Path(__file__).resolve().parents[1]


def say(text: str) -> None:
    print(text, flush=True)


def run_demo(settings: Settings) -> None:
    root = (settings.var_dir / "demo").resolve()
    root.mkdir(parents=True, exist_ok=True)
    key = run_signing_key(settings)
    topics = TopicNames()
    with ExitStack() as cleanup:
        bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
        if not bootstrap:
            port, controller = free_ports(2)
            broker = KafkaBroker(
                BrokerConfig(work_dir=root / f"kafka-{port}", port=port, controller_port=controller)
            )
            bootstrap = broker.start()
            cleanup.callback(broker.stop)
        say(f"1. Kafka broker at {bootstrap}")

        store = DatasetStore(root / "datasets")
        config = SimulatorConfig(seed=7, n_cards=2_500, n_merchants=1_000, n_days=60)
        simulation = simulate(config)
        transactions, labels = store_simulation(store, simulation)
        say(
            f"2. Simulated {transactions.rows:,} transactions (fraud rate "
            f"{transactions.fraud_rate or 0:.3%}); dataset {transactions.id[:12]}, "
            f"labels {labels.id[:12]}"
        )

        version = datetime.now(UTC).strftime("%Y%m%d.%H%M%S")
        request = BuildRequest(
            transactions.id,
            labels.id,
            TrainingConfig.from_file(TRAINING_CONFIG),
            version,
            {"demo": "true"},
            entry_point="stream.demo:run_demo",
        )
        started = time.monotonic()
        package = build_package(
            request, store, root / "registry", key.encode(), REPO, progress=lambda m: say(f"   {m}")
        )
        manifest = read_manifest_unverified(package)
        model, baseline = manifest.evaluation.model, manifest.evaluation.baseline
        say(
            f"3. Built {package.name} in {time.monotonic() - started:.0f} s: test PR-AUC "
            f"{model.pr_auc:.3f} (baseline {baseline.pr_auc:.3f}), recall at 0.1% FPR "
            f"{model.recall_at_fpr['0.001']:.2f}; thresholds review ≥ "
            f"{manifest.policy.review_threshold:.3f}, "
            f"decline ≥ {manifest.policy.decline_threshold:.3f}"
        )

        env = {
            "FRAUD_KAFKA_BOOTSTRAP": bootstrap,
            "FRAUD_APP_ID": f"fraudstream-demo-{version.replace('.', '-')}",
            "FRAUD_VAR_DIR": str(root / "var"),
            "FRAUD_MODEL_PACKAGE": str(package),
            "FRAUD_SIGNING_KEY": key,
            # The demo's worker serves POST /v1/score: a key of this run unless one is set.
            "FRAUD_API_DECISION_KEY": (
                settings.api_decision_key.get_secret_value()
                if settings.api_decision_key is not None
                else secrets.token_urlsafe(32)
            ),
            "FRAUD_MONITOR__WINDOW_KIND": "count",
            "FRAUD_MONITOR__WINDOW_EVENTS": "2000",
            "FRAUD_MONITOR__METRICS_PORT": "0",
        }
        # Each demo run is a new app (its own topics' changelogs): its own table directory.
        # The monitor starts first: its start-up (imports, the reference profile) would
        # otherwise take the CPU the worker's first decisions need.
        monitor_log = root / "monitor.log"
        monitor_log_start = monitor_log.stat().st_size if monitor_log.exists() else 0
        monitor = _start_monitor(env, root)
        cleanup.callback(stop_child, monitor, 30)
        worker = WorkerProcess("worker-1", env, root / "workers" / env["FRAUD_APP_ID"])
        worker.start()
        cleanup.callback(worker.stop)
        _wait_for_monitor(monitor_log, monitor_log_start, monitor)
        say(f"4. Worker and drift monitor ready; metrics at http://127.0.0.1:{worker.port}/metrics")

        live, live_labels = _live_traffic(simulation.transactions, simulation.labels)
        sent = _produce_paced(bootstrap, topics.transactions, live, LIVE_RATE)
        bad = [
            (b"C-bad-1", b"not json at all"),
            (b"C-bad-2", b'{"schema_version": 1, "transaction_id": "T-bad"}'),
            (None, live[0][1].replace(b'"transaction_id":"', b'"transaction_id":"nokey-')),
        ]
        _produce_paced(bootstrap, topics.transactions, bad, 100)
        _produce_paced(bootstrap, topics.labels, live_labels, 1_000)
        say(
            f"5. Streamed {sent:,} live transactions at {LIVE_RATE}/s, {len(bad)} malformed ones, "
            f"{len(live_labels)} fraud labels"
        )

        decisions = _wait_for(bootstrap, topics.decisions, sent, 180)
        letters = [
            DeadLetter.model_validate_json(r.value or b"")
            for r in _wait_for(bootstrap, topics.dead_letters, len(bad), 60)
        ]
        decided = [Decision.model_validate_json(r.value or b"") for r in decisions]
        _report_decisions(decided, letters, sent + len(bad))
        _report_metrics(worker.port)
        time.sleep(3)
        stop_child(monitor, 30)
        report = root / "drift-report.html"
        subprocess.run(
            [sys.executable, "-m", "stream.cli", "monitor", "report", "--out", str(report)],
            env={**os.environ, **env},
            check=False,
            capture_output=True,
        )
        say(f"8. Drift report: {report}" if report.exists() else "8. (no drift report written)")
        _trace(bootstrap, topics, decided, package)


def _live_traffic(
    transactions: object, labels: object
) -> tuple[list[tuple[bytes, bytes]], list[tuple[bytes, bytes]]]:
    """The last LIVE_EVENTS transactions, replayed as if happening over the last minute."""
    table = transactions.slice(transactions.num_rows - LIVE_EVENTS)  # type: ignore[attr-defined]
    span_s = (
        table.column("event_time")[-1].as_py() - table.column("event_time")[0].as_py()
    ).total_seconds()
    speedup = max(span_s / (LIVE_EVENTS / LIVE_RATE), 1.0)
    moved, moved_labels = shift_to_now(
        table, labels, now=datetime.now(UTC) - timedelta(seconds=5), speedup=speedup
    )
    live_ids = set(moved.column("transaction_id").to_pylist())
    assert moved_labels is not None
    keep = [
        i for i, t in enumerate(moved_labels.column("transaction_id").to_pylist()) if t in live_ids
    ]
    return list(iter_transaction_json(moved)), list(iter_label_json(moved_labels.take(keep)))


def _produce_paced(
    bootstrap: str, topic: str, records: Sequence[tuple[bytes | None, bytes]], rate: int
) -> int:
    producer = new_producer(bootstrap, {"partitioner": "murmur2_random", "linger.ms": 1})
    return produce_paced(producer, topic, records, rate)


def _wait_for(bootstrap: str, topic: str, count: int, timeout_s: float) -> list:  # type: ignore[type-arg]
    deadline = time.monotonic() + timeout_s
    while True:
        records = read_topic(bootstrap, topic)
        if len(records) >= count or time.monotonic() > deadline:
            return records
        time.sleep(1)


def _report_decisions(decided: list[Decision], letters: list[DeadLetter], produced: int) -> None:
    outcomes = Counter(d.outcome.value for d in decided)
    fallbacks = Counter(d.fallback_reason.value for d in decided if d.fallback_reason)
    arrival = np.array([d.timings.arrival_to_decision_ms for d in decided])
    budget = Settings().latency_budget_ms
    say(
        f"6. {produced:,} in → {len(decided):,} decisions + {len(letters)} dead letters; "
        f"outcomes {dict(outcomes)}\n"
        f"   latency budget {budget:g} ms: fallbacks {dict(fallbacks) or 'none'} "
        f"({100 * sum(fallbacks.values()) / max(len(decided), 1):.2f} % of decisions); "
        f"arrival→decision p50 {np.percentile(arrival, 50):.1f} ms, "
        f"p99 {np.percentile(arrival, 99):.1f} ms"
    )
    say("   fallbacks by 10 s of the run: " + _fallbacks_by_period(decided, 10.0))
    for decision in [d for d in decided if d.outcome.value == "DECLINE"][:3]:
        say(f"   DECLINE {decision.transaction_id} score {decision.score or 0:.3f}")
        say(f"     reasons {decision.reason_codes}")
    for letter in letters:
        say(f"   dead letter [{letter.category.value}] {letter.detail[:100]}")


def _fallbacks_by_period(decided: list[Decision], period_s: float) -> str:
    """Fallback share per period since the first decision: shows whether misses cluster
    in the worker's first seconds or spread over the run."""
    if not decided:
        return "none decided"
    first = min(d.decided_at for d in decided)
    totals: Counter[int] = Counter()
    misses: Counter[int] = Counter()
    for decision in decided:
        period = int((decision.decided_at - first).total_seconds() // period_s)
        totals[period] += 1
        misses[period] += decision.fallback_reason is not None
    return ", ".join(f"{100 * misses[p] / totals[p]:.1f} %" for p in sorted(totals))


def _report_metrics(port: int) -> None:
    """Selected lines of the worker's /metrics."""
    wanted = ("fraud_events_in_total", "fraud_decisions_total", "fraud_invalid_events_total")
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    lines = [line for line in text.splitlines() if line.startswith(wanted)]
    say("7. From /metrics:\n   " + "\n   ".join(lines[:16]))


def _trace(bootstrap: str, topics: TopicNames, decided: list[Decision], package: Path) -> None:
    decision = max(decided, key=lambda d: d.score or 0.0)
    logs = [
        ScoringLogRecord.model_validate_json(r.value or b"")
        for r in read_topic(bootstrap, topics.scoring_log)
    ]
    log = next(entry for entry in logs if entry.decision_id == decision.decision_id)
    manifest = read_manifest_unverified(package)
    model = decision.model
    lines = [
        f"9. Trace of {decision.transaction_id} ({decision.outcome.value}, score "
        f"{'none' if decision.score is None else f'{decision.score:.3f}'}, "
        f"decision {decision.decision_id}):",
        f"   input      {log.source.topic} partition {log.source.partition} offset "
        f"{log.source.offset}, sha256 {log.raw_sha256[:16]}",
        f"   model      {model.name if model else '-'} {model.version if model else '-'}, "
        f"content {manifest.content_hash[:16]}",
        f"   run        by {manifest.provenance.built_by} on {manifest.provenance.host} at "
        f"{manifest.provenance.built_at:%Y-%m-%d %H:%M} UTC via {manifest.code.entry_point}",
        f"   code       commit {(manifest.code.git_commit or '?')[:12]}"
        f"{' (dirty work tree)' if manifest.code.git_dirty else ''}",
        f"   data       dataset {manifest.data.dataset_id[:16]}, labels "
        f"{manifest.data.labels_dataset_id[:16]}, split {manifest.data.split_id[:16]}",
        f"   features   {json.dumps(dict(list(log.features.items())[:6]))} ...",
    ]
    say("\n".join(lines))


def _wait_for_monitor(
    log: Path, since: int, process: subprocess.Popen[bytes], timeout_s: float = 120.0
) -> None:
    """Until the monitor consumes (it logs its partitions), so its start-up is over before
    the traffic starts."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and process.poll() is None:
        with log.open("rb") as handle:
            handle.seek(since)
            if b"partitions assigned" in handle.read():
                return
        time.sleep(0.2)
    say("   (the drift monitor did not report its partitions; see monitor.log)")


def _start_monitor(env: dict[str, str], root: Path) -> subprocess.Popen[bytes]:
    log = (root / "monitor.log").open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "stream.cli", "monitor", "run"],
        env={**os.environ, **env},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
