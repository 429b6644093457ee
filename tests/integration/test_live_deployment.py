"""Shadow, canary, promote and rollback on a running worker, governed, on a real broker."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from models.governance.changelog import ChangeLog
from models.governance.errors import NotPermitted
from models.governance.policy import load_policy
from models.registry import GateFailed
from schemas import Decision, ModelControl, ScoringLogRecord
from schemas.label import FraudLabel, LabelSource
from stream.decision_path.live_plan import HASH_SPACE, card_bucket
from stream.deployment.control_topic import publish_plan
from stream.topics import ensure_topics
from tests.support.clients import produce, read_to_end, wait_for_records
from tests.support.governance import GATES_OFF, ask, file_registry, write_policy
from tests.support.model_builds import build_small, small_world
from tests.support.stream_setup import SIGNING_KEY, simulated_events, stream_setup
from tests.support.stream_worker import StreamWorker

# Also the acceptance scenario "an operator can trace a decision" (make acceptance).
pytestmark = [pytest.mark.integration, pytest.mark.acceptance]
KEY = SIGNING_KEY.encode()


def _decisions(
    bootstrap: str, topic: str, of: list[tuple[bytes, bytes]] | None = None
) -> list[Decision]:
    """The topic's decisions (of these events only, when given): partitions interleave, so a
    phase of the test is picked by its transaction ids, not by position."""
    ids = None if of is None else {json.loads(v)["transaction_id"] for _, v in of}
    found = [Decision.model_validate_json(r.value or b"") for r in read_to_end(bootstrap, topic)]
    return [d for d in found if ids is None or d.transaction_id in ids]


def _cli(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stream.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=check,
    )


def test_governed_live_deployment(kafka_bootstrap: str, tmp_path: Path) -> None:
    world = small_world(tmp_path / "world")
    package_a = build_small(world, tmp_path / "built", "1.0.0", key=KEY)
    package_b = build_small(world, tmp_path / "built-b", "2.0.0", key=KEY, trees=60)
    var = tmp_path / "var"
    setup = stream_setup(kafka_bootstrap, var, None, "deploy", FRAUD_WORKER_ID="w1")
    settings = setup.settings().model_copy(
        update={"var_dir": var, "kafka_bootstrap": kafka_bootstrap}
    )
    ensure_topics(settings)
    registry = file_registry(var, KEY, lambda plan: publish_plan(settings, plan, KEY))
    policy_path = var / "registry" / "policy.toml"
    ask(registry, var, "alice", "register", "-", package=str(package_a))
    with pytest.raises(NotPermitted):  # an unauthorised promotion
        ask(registry, var, "alice", "promote", "card-fraud-hgb:1.0.0")
    with pytest.raises(NotPermitted):  # no approval yet
        ask(registry, var, "carol", "promote", "card-fraud-hgb:1.0.0")
    ask(registry, var, "bob", "approve", "card-fraud-hgb:1.0.0", stage="champion")
    ask(registry, var, "carol", "promote", "card-fraud-hgb:1.0.0")
    a_hash = registry.find("card-fraud-hgb:1.0.0").content_hash

    events = simulated_events(limit=4000)
    topic, decisions_topic = setup.topic("transactions"), setup.topic("decisions")
    worker = StreamWorker(setup.env, tmp_path / "data", tmp_path / "worker.log", "w1")
    with worker.started(timeout=120):
        # Started after plan 1: it decides with the plan's champion, no package configured.
        produce(kafka_bootstrap, topic, events[:300])
        first = wait_for_records(kafka_bootstrap, decisions_topic, 300, 120)
        assert {Decision.model_validate_json(r.value or b"").model.content_hash for r in first} == {
            a_hash
        }  # type: ignore[union-attr]

        # Shadow: B scores beside A, only in the scoring log.
        ask(registry, var, "alice", "register", "-", package=str(package_b))
        with pytest.raises(NotPermitted):  # nobody approves their own package
            ask(registry, var, "alice", "approve", "card-fraud-hgb:2.0.0")
        ask(registry, var, "alice", "shadow", "card-fraud-hgb:2.0.0")
        b_hash = registry.find("card-fraud-hgb:2.0.0").content_hash
        time.sleep(2)
        produce(kafka_bootstrap, topic, events[300:600])
        logs = wait_for_records(kafka_bootstrap, setup.topic("scoring_log"), 600, 120)
        phase = {json.loads(v)["transaction_id"] for _, v in events[300:600]}
        shadowed = [ScoringLogRecord.model_validate_json(r.value or b"") for r in logs]
        shadowed = [s for s in shadowed if s.transaction_id in phase]
        assert len(shadowed) == 300
        assert all(
            [(o.role.value, o.model.content_hash) for o in s.outputs]
            == [("champion", a_hash), ("shadow", b_hash)]
            for s in shadowed
        )
        assert {d.model.content_hash for d in _decisions(kafka_bootstrap, decisions_topic)} == {
            a_hash
        }  # type: ignore[union-attr]

        # Canary at 30 %: the cards a stable hash picks, and only those.
        ask(registry, var, "bob", "approve", "card-fraud-hgb:2.0.0", stage="canary")
        ask(registry, var, "carol", "canary", "card-fraud-hgb:2.0.0", share=0.3)
        time.sleep(2)
        produce(kafka_bootstrap, topic, events[600:1600])
        wait_for_records(kafka_bootstrap, decisions_topic, 1600, 120)
        canary_phase = _decisions(kafka_bootstrap, decisions_topic, events[600:1600])
        by_card: dict[str, set[str]] = {}
        for d in canary_phase:
            by_card.setdefault(d.card_id, set()).add(d.role.value)
        assert all(len(roles) == 1 for roles in by_card.values())  # stable per card
        for card, roles in by_card.items():
            expected = "canary" if card_bucket(card.encode()) < 0.3 * HASH_SPACE else "champion"
            assert roles == {expected}
        share = sum(roles == {"canary"} for roles in by_card.values()) / len(by_card)
        assert len(by_card) > 100 and abs(share - 0.3) < 0.1, (len(by_card), share)

        # Promote, then roll back, under continuous traffic.
        stream = events[1600:3600]
        producer = threading.Thread(
            target=lambda: [
                (produce(kafka_bootstrap, topic, stream[i : i + 50]), time.sleep(0.1))
                for i in range(0, len(stream), 50)
            ]
        )
        producer.start()
        time.sleep(2)
        ask(registry, var, "bob", "approve", "card-fraud-hgb:2.0.0", stage="champion")
        ask(registry, var, "carol", "promote", "card-fraud-hgb:2.0.0")
        time.sleep(3)
        ask(registry, var, "carol", "rollback", "-")
        producer.join(120)

        # A package that fails verification, published as a sealed plan: refused, plan kept.
        tampered = tmp_path / "tampered"
        subprocess.run(["cp", "-r", str(package_b), str(tampered)], check=True)
        (tampered / "model.joblib").write_bytes(b"not the signed bytes")
        current = registry.current_plan()
        assert current is not None
        bad = current.model_copy(
            update={
                "plan_version": current.plan_version + 1,
                "previous_plan_version": current.plan_version,
                # B, no longer loaded after the rollback: its bytes are checked again, and fail.
                "champion": current.champion.model_copy(
                    update={
                        "model": registry.find("card-fraud-hgb:2.0.0").ref,
                        "location": str(tampered),
                    }
                ),
            }
        )
        publish_plan(settings, ModelControl.model_validate(bad.model_dump()), KEY)
        time.sleep(2)
        produce(kafka_bootstrap, topic, events[3600:4000])
        wait_for_records(kafka_bootstrap, decisions_topic, 4000, 120)

    everything = _decisions(kafka_bootstrap, decisions_topic)
    ids = Counter(d.transaction_id for d in everything)
    expected = {json.loads(v)["transaction_id"] for _, v in events}
    assert set(ids) == expected  # none lost
    assert max(ids.values()) == 1  # none doubled
    under_load = _decisions(kafka_bootstrap, decisions_topic, events[1600:3600])
    models = Counter((d.model.version, d.role.value) for d in under_load)  # type: ignore[union-attr]
    print("under load:", dict(models), "lost 0, doubled", sum(v - 1 for v in ids.values()))
    assert {v for v, _ in models} == {"1.0.0", "2.0.0"}
    after_refusal = _decisions(kafka_bootstrap, decisions_topic, events[3600:])
    assert all(d.model.content_hash == a_hash for d in after_refusal)  # type: ignore[union-attr]
    assert "tampered" not in json.dumps([d.model_dump(mode="json") for d in everything])

    changelog = ChangeLog(var / "registry" / "changelog.jsonl", KEY)
    actions = [e.action for e in changelog.entries()]
    assert "plan_refused" in actions and actions.count("refused") == 3
    assert changelog.verify(load_policy(policy_path)) == []

    # Too slow for the target: refused at promote.
    write_policy(var, GATES_OFF + "\n[target]\nmax_latency_us_per_event = 0.001")
    registry.policy = load_policy(policy_path)
    with pytest.raises(GateFailed):
        ask(registry, var, "carol", "promote", "card-fraud-hgb:2.0.0")

    # trace on a real decision, then an edited entry caught.
    env = {**setup.env, "FRAUD_VAR_DIR": str(var), "PATH": "/usr/bin:/bin"}
    traced = _cli(env, "trace", after_refusal[-1].transaction_id).stdout
    print(traced)
    assert "commit" in traced and "change    #" in traced and "promote" in traced
    lines = changelog.path.read_text().splitlines()
    lines[3] = lines[3].replace("test approve", "test approve!")
    changelog.path.write_text("\n".join(lines) + "\n")
    verified = _cli(env, "changelog", "verify", check=False)
    print(verified.stdout)
    assert verified.returncode == 1 and "entry 3" in verified.stdout

    # compare: B as shadow against A, with labels for the shadow phase through their contract
    # (every tenth transaction fraud, a made-up truth: the figures are checked, not the models).
    labels = [
        (
            d.card_id.encode(),
            FraudLabel(
                transaction_id=d.transaction_id,
                card_id=d.card_id,
                is_fraud=n % 10 == 0,
                label_source=LabelSource.CHARGEBACK,
                labelled_at=d.decided_at,
            )
            .model_dump_json()
            .encode(),
        )
        for n, d in enumerate(_decisions(kafka_bootstrap, decisions_topic, events[300:600]))
    ]
    produce(kafka_bootstrap, setup.topic("labels"), [*labels, (b"x", b'{"is_fraud": "yes"}')])
    compared = _cli(env, "registry", "compare", "--timeout", "60").stdout
    print(compared)
    assert "skipped 1 label records" in compared
    assert "shadow  card-fraud-hgb:2.0.0" in compared and "events 300 " in compared
    assert "on 300 labelled events" in compared
