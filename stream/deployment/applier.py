"""A worker applying plans: load and check every package off the hot path, then swap the plan.

A plan whose package fails verification, loading or the target profile is refused as a whole:
the previous plan stays, and the refusal goes to the log, a metric and the change log. Packages
already loaded for the running plan are reused, not loaded again.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np

from models.governance.changelog import ChangeLog
from models.governance.policy import TargetProfile
from models.package import PackageError
from models.registry.gates import target_failures
from models.scoring import open_package
from schemas import ModelControl
from schemas.model_control import DeployedPackage
from stream.decision_path.deciding import BatchDecider
from stream.decision_path.live_plan import Champion, LivePlan
from stream.decision_path.metrics import StreamMetrics
from stream.deployment.control_topic import PlanRejected, decode_plan

log = logging.getLogger(__name__)


class PackageRefused(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


class PlanApplier:
    def __init__(
        self,
        decider: BatchDecider,
        key: bytes,
        metrics: StreamMetrics,
        changelog: ChangeLog,
        target: TargetProfile | None,
        worker_id: str,
        threads: int = 1,
    ) -> None:
        self.decider = decider
        self._key = key
        self._metrics = metrics
        self._changelog = changelog
        self._target = target
        self._actor = f"worker:{worker_id}"
        self._threads = threads
        self._refused: set[int] = set()  # plan numbers refused once: not retried, not re-logged

    def offer(self, value: bytes | None, headers: dict[str, bytes]) -> bool:
        """Apply the record if it is a newer plan that loads; True when applied."""
        try:
            plan = decode_plan(value, headers, self._key)
        except PlanRejected as error:
            self._refuse("not_sealed_or_invalid", "?", str(error), None)
            return False
        if plan.plan_version <= self.decider.plan.version or plan.plan_version in self._refused:
            return False  # applied, older or refused already: the topic is read from its start
        try:
            live = self.load(plan)
        except PackageRefused as error:
            self._refused.add(plan.plan_version)
            self._refuse(error.reason, f"plan {plan.plan_version}", str(error), plan)
            return False
        self.decider.apply(live)
        self._metrics.plan_version.set(plan.plan_version)
        for role, model in live.models():
            manifest = model.scorer.manifest
            self._metrics.model_info.labels(
                role,
                manifest.name,
                manifest.version,
                model.ref.content_hash,
                model.scorer.predictor.kind,
            ).set(1)
        log.info("deployment plan %d applied: %s", plan.plan_version, plan.reason)
        return True

    def load(self, plan: ModelControl) -> LivePlan:
        loaded = {m.ref.content_hash: m for _, m in self.decider.plan.models()}
        champion = self._package(plan.champion, loaded)
        canary = None if plan.canary is None else self._package(plan.canary, loaded)
        shadows = tuple(self._package(s, loaded) for s in plan.shadows)
        share = 0.0 if plan.canary is None else plan.canary.traffic_share
        return LivePlan(plan.plan_version, champion, canary, share, shadows)

    def _package(self, deployed: DeployedPackage, loaded: dict[str, Champion]) -> Champion:
        wanted = deployed.model.content_hash
        if wanted in loaded:
            return loaded[wanted]
        try:
            model = Champion(
                open_package(Path(deployed.location), self._key, threads=self._threads)
            )
        except (PackageError, OSError, ValueError) as error:
            raise PackageRefused("verification_failed", f"{deployed.location}: {error}") from None
        if model.ref.content_hash != wanted:
            raise PackageRefused(
                "content_mismatch",
                f"{deployed.location} holds {model.ref.content_hash}, not {wanted}",
            )
        if self._target is not None:
            failures = target_failures(
                model.scorer.manifest, self._target, self._measure(model, self._target)
            )
            if failures:
                raise PackageRefused(
                    "target_profile", f"{deployed.model.name}: " + "; ".join(failures)
                )
        return model

    @staticmethod
    def _measure(model: Champion, target: TargetProfile) -> float:
        """µs per event of this package on this machine, in the target's batch size (best of 3:
        the least disturbed by other work)."""
        columns = len(model.scorer.manifest.features.features)
        batch = np.zeros((target.latency_batch_size, columns), dtype=np.float64)
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            model.scorer.fraud_probability(batch)
            best = min(best, time.perf_counter() - started)
        return best * 1e6 / target.latency_batch_size

    def _refuse(self, reason: str, target: str, detail: str, plan: ModelControl | None) -> None:
        self._metrics.plan_refusals.labels(reason).inc()
        log.error(
            "deployment plan refused (%s), keeping plan %d: %s",
            reason,
            self.decider.plan.version,
            detail,
        )
        self._changelog.append(
            self._actor,
            "plan_refused",
            target,
            f"{reason}: {detail}"[:1000],
            content_hash=None if plan is None else plan.champion.model.content_hash,
            after=None if plan is None else plan.model_dump(mode="json"),
        )
