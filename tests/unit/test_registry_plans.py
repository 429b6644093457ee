"""Plan logic of the registry: approvals, the promote / canary / rollback transitions, and a
refused package that leaves the previous plan in place (in the registry and in a worker)."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.decision import FallbackMode
from models.governance.changelog import ChangeLog
from models.governance.errors import NotPermitted
from models.governance.policy import TargetProfile
from models.registry import GateFailed
from models.registry.errors import PlanInvalid
from models.scoring import open_package
from schemas import ModelControl
from stream.decision_path.deciding import BatchDecider, Champion
from stream.decision_path.metrics import StreamMetrics
from stream.deployment.applier import PlanApplier
from stream.deployment.control_topic import SEAL_HEADER, seal
from tests.support.governance import GATES_OFF, ask, file_registry
from tests.support.model_builds import TEST_KEY
from tests.unit.conftest import TwoPackages

A, B = "card-fraud-hgb:1.0.0", "card-fraud-hgb:2.0.0"


class Governed:
    """A registry on a fresh var dir whose published plans are collected, not sent."""

    def __init__(self, root: Path, policy_extra: str = GATES_OFF) -> None:
        self.root = root
        self.published: list[ModelControl] = []
        self.registry = file_registry(root, TEST_KEY, self.published.append, policy_extra)
        self.changelog = self.registry.changelog

    def ask(self, actor: str, action: str, target: str = "-", **details: object) -> str:
        return ask(self.registry, self.root, actor, action, target, **details)

    def plan(self) -> ModelControl:
        plan = self.registry.current_plan()
        assert plan is not None
        return plan


@pytest.fixture
def governed(tmp_path: Path, two_packages: TwoPackages) -> Governed:
    governed = Governed(tmp_path)
    governed.ask("alice", "register", package=str(two_packages.a))
    governed.ask("dave", "register", package=str(two_packages.b))
    return governed


def _champion_of(plan: ModelControl) -> str:
    return f"{plan.champion.model.name}:{plan.champion.model.version}"


def test_a_promotion_needs_an_approval_for_champion(governed: Governed) -> None:
    with pytest.raises(NotPermitted, match="no approval for champion"):
        governed.ask("carol", "promote", A)
    governed.ask("bob", "approve", A, stage="canary")
    with pytest.raises(NotPermitted, match="no approval for champion"):  # canary is not enough
        governed.ask("carol", "promote", A)
    assert governed.published == []
    governed.ask("bob", "approve", A, stage="champion")
    governed.ask("carol", "promote", A)
    assert _champion_of(governed.plan()) == A and governed.plan().approvals[0].approver == "bob"


def test_nobody_approves_their_own_package(governed: Governed) -> None:
    with pytest.raises(NotPermitted, match=r"dave registered card-fraud-hgb:2\.0\.0"):
        governed.ask("dave", "approve", B, stage="champion")
    governed.ask("dave", "approve", A, stage="champion")  # someone else's: allowed
    assert [a.approver for a in governed.registry.store.approvals()] == ["dave"]


def test_a_canary_needs_an_approval_and_a_champion(governed: Governed) -> None:
    with pytest.raises(PlanInvalid, match="no live plan"):
        governed.ask("carol", "canary", B, share=0.1)
    governed.ask("bob", "approve", A, stage="champion")
    governed.ask("carol", "promote", A)
    with pytest.raises(NotPermitted, match="no approval for canary"):
        governed.ask("carol", "canary", B, share=0.1)
    governed.ask("bob", "approve", B, stage="canary")
    governed.ask("carol", "canary", B, share=0.1)
    plan = governed.plan()
    assert plan.canary is not None and plan.canary.traffic_share == 0.1
    assert (plan.plan_version, plan.previous_plan_version) == (2, 1)


def test_promote_then_rollback_moves_between_champions(governed: Governed) -> None:
    governed.ask("bob", "approve", A, stage="champion")
    governed.ask("bob", "approve", B, stage="champion")
    governed.ask("carol", "promote", A)
    with pytest.raises(PlanInvalid, match="no earlier champion"):
        governed.ask("carol", "rollback")
    governed.ask("alice", "shadow", B)
    governed.ask("carol", "promote", B)  # B leaves the shadows when it becomes champion
    assert (_champion_of(governed.plan()), governed.plan().shadows) == (B, [])
    with pytest.raises(NotPermitted, match="may not rollback"):  # a data scientist
        governed.ask("alice", "rollback")
    governed.ask("carol", "rollback")
    assert _champion_of(governed.plan()) == A and governed.plan().canary is None
    assert [p.plan_version for p in governed.published] == [1, 2, 3, 4]
    assert [e.action for e in governed.changelog.entries()][-2:] == ["refused", "rollback"]


def test_a_rollback_to_a_package_now_shadowed_takes_it_out_of_the_shadows(
    governed: Governed,
) -> None:
    """A package holds one role in a plan: a rollback once kept the old champion in the shadows
    as well, and the plan failed validation (an error, not a logged refusal)."""
    governed.ask("bob", "approve", A, stage="champion")
    governed.ask("bob", "approve", B, stage="champion")
    governed.ask("carol", "promote", A)
    governed.ask("carol", "promote", B)
    governed.ask("alice", "shadow", A)
    governed.ask("carol", "rollback")
    assert (_champion_of(governed.plan()), governed.plan().shadows) == (A, [])


def test_a_package_over_the_target_is_refused_and_the_plan_stays(
    tmp_path: Path, two_packages: TwoPackages
) -> None:
    governed = Governed(tmp_path, "[target]\nmax_memory_bytes = 1")
    governed.ask("alice", "register", package=str(two_packages.a))
    governed.ask("bob", "approve", A, stage="champion")
    with pytest.raises(GateFailed, match="bytes of memory, target allows 1"):
        governed.ask("carol", "promote", A)
    assert governed.published == [] and governed.registry.current_plan() is None
    refusal = governed.changelog.entries()[-1]
    assert (refusal.action, refusal.actor) == ("refused", "carol")
    assert "GateFailed" in refusal.reason


def _sealed(plan: ModelControl) -> tuple[bytes, dict[str, bytes]]:
    value = plan.model_dump_json().encode()
    return value, {SEAL_HEADER: seal(value, TEST_KEY).encode()}


def test_a_worker_refuses_a_plan_over_its_target_and_keeps_its_plan(
    governed: Governed, tmp_path: Path, two_packages: TwoPackages
) -> None:
    """The worker's own check at load: the registry's policy let the plan through, the worker's
    target does not; the refusal goes to the log, a metric and the change log."""
    governed.ask("bob", "approve", B, stage="champion")
    governed.ask("carol", "promote", B)
    (plan,) = governed.published
    configured = Champion(open_package(two_packages.a, TEST_KEY))  # FRAUD_MODEL_PACKAGE
    decider = BatchDecider(configured, FallbackMode.RULES_ONLY, 50.0, "in")
    metrics = StreamMetrics()
    worker_log = ChangeLog(tmp_path / "worker-changelog.jsonl", TEST_KEY)
    # A target of this worker's own (a smaller machine's policy): a µs per event nothing meets.
    tight = TargetProfile(max_latency_us_per_event=0.001)
    applier = PlanApplier(decider, TEST_KEY, metrics, worker_log, tight, "w1")
    assert not applier.offer(*_sealed(plan))
    assert decider.plan.version == 0 and decider.champion is configured
    refused = metrics.registry.get_sample_value(
        "fraud_deployment_plan_refusals_total", {"reason": "target_profile"}
    )
    assert refused == 1
    (entry,) = worker_log.entries()
    assert (entry.actor, entry.action, entry.target) == ("worker:w1", "plan_refused", "plan 1")
    assert "µs per event" in entry.reason and "measured here" in entry.reason
    assert not applier.offer(*_sealed(plan))  # seen once: neither retried nor logged again
    assert len(worker_log.entries()) == 1


def test_a_worker_refuses_an_unsealed_plan(governed: Governed, tmp_path: Path) -> None:
    governed.ask("bob", "approve", A, stage="champion")
    governed.ask("carol", "promote", A)
    decider = BatchDecider(None, FallbackMode.RULES_ONLY, 50.0, "in")
    applier = PlanApplier(
        decider, TEST_KEY, StreamMetrics(), ChangeLog(tmp_path / "c.jsonl", TEST_KEY), None, "w1"
    )
    value, _ = _sealed(governed.published[0])
    assert not applier.offer(value, {SEAL_HEADER: b"0" * 64})
    assert decider.plan.version == 0
