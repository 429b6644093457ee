"""The registry's governed operations. Every request is authenticated (the actor's signature),
authorised (the policy's roles), checked (approvals, gates), then recorded in the change log —
refusals included — and, for plan changes, published through the injected `publish`."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from models.governance.changelog import ChangeLog
from models.governance.errors import GovernanceError, NotPermitted, RequestInvalid
from models.governance.policy import Policy
from models.governance.requests import SignedRequest, authenticate
from models.package import PackageError, verify_package
from models.package.store import read_manifest_unverified
from models.registry.errors import GateFailed, PlanInvalid, RegistryError, UnknownPackage
from models.registry.gates import metric_failures, target_failures
from models.registry.mlflow_mirror import MlflowMirror
from models.registry.store import ApprovalRecord, RegistryEntry, RegistryStore
from schemas import ModelControl, ModelRef
from schemas.model_control import Approval, CanaryDeployment, DeployedPackage
from schemas.model_package import ModelManifest

APPROVAL_STAGES = ("canary", "champion")


class Registry:
    def __init__(
        self,
        store: RegistryStore,
        packages_dir: Path,
        policy: Policy,
        changelog: ChangeLog,
        key: bytes,
        publish: Callable[[ModelControl], None],
        mirror: MlflowMirror | None = None,
    ) -> None:
        self.store = store
        self._packages = packages_dir
        self.policy = policy
        self.changelog = changelog
        self._key = key
        self._publish = publish
        self._mirror = mirror  # MLflow's registry, where tracking is configured: a copy only

    # -- reading ------------------------------------------------------------------------------

    def find(self, label: str) -> RegistryEntry:
        name, _, version = label.partition(":")
        matches = [e for e in self.store.entries() if e.name == name]
        if version:
            matches = [e for e in matches if e.version == version]
        if not matches:
            raise UnknownPackage(f"{label} is not registered (fraudstream registry list)")
        return matches[-1]

    def by_hash(self, content_hash: str) -> RegistryEntry | None:
        return next((e for e in self.store.entries() if e.content_hash == content_hash), None)

    def current_plan(self) -> ModelControl | None:
        plans = self.store.plans()
        return plans[-1] if plans else None

    # -- governed operations --------------------------------------------------------------------

    def handle(self, request: SignedRequest) -> str:
        """Carry out a request; return what was done. Refusals are logged, then raised."""
        try:
            authenticate(request, self.policy)
            if self.changelog.request_used(request.signature):
                raise RequestInvalid("this signed request was used already: sign a new one")
            self.policy.require(request.actor, request.action)
            return self._dispatch(request)
        except (GovernanceError, RegistryError, PackageError) as error:
            self.changelog.append(
                request.actor,
                "refused",
                request.target,
                f"{request.action} refused: {type(error).__name__}: {error}",
                request=request if not isinstance(error, RequestInvalid) else None,
            )
            raise

    def _dispatch(self, request: SignedRequest) -> str:
        action = request.action
        if action == "register":
            return self._register(request)
        if action == "approve":
            return self._approve(request)
        if action == "rollback":
            return self._rollback(request)
        entry = self.find(request.target)
        if action == "shadow":
            return self._shadow(request, entry)
        if action == "canary":
            return self._canary(request, entry, float(request.details["share"]))
        if action == "promote":
            return self._promote(request, entry)
        raise NotPermitted(f"unknown action {action}")

    def _register(self, request: SignedRequest) -> str:
        source = Path(str(request.details["package"])).resolve()
        package = verify_package(source, self._key)  # only verified packages enter
        manifest = package.manifest
        if any(e.content_hash == manifest.content_hash for e in self.store.entries()):
            raise RegistryError(f"{manifest.name}:{manifest.version} is registered already")
        target = (self._packages / f"{manifest.name}-{manifest.version}").resolve()
        if target != source:
            shutil.copytree(source, target)
            verify_package(target, self._key)
        entry = RegistryEntry(
            name=manifest.name,
            version=manifest.version,
            content_hash=manifest.content_hash,
            location=str(target),
            registered_by=request.actor,
            registered_at=datetime.now(UTC),
        )
        self.store.add(entry)
        if self._mirror is not None:
            self._mirror.registered(entry)
        self.changelog.append(
            request.actor,
            "register",
            entry.label,
            request.reason,
            content_hash=entry.content_hash,
            after=entry.model_dump(mode="json"),
            request=request,
        )
        return f"registered {entry.label} ({entry.content_hash[:12]}) at {target}"

    def _approve(self, request: SignedRequest) -> str:
        entry = self.find(request.target)
        stage = str(request.details.get("stage", "champion"))
        if stage not in APPROVAL_STAGES:
            raise NotPermitted(f"approvals are for {APPROVAL_STAGES}, not {stage}")
        if entry.registered_by == request.actor:
            raise NotPermitted(
                f"{request.actor} registered {entry.label}: nobody approves their own package"
            )
        approval = ApprovalRecord(
            content_hash=entry.content_hash,
            stage=stage,
            approver=request.actor,
            role=next(
                role
                for role in self.policy.actor(request.actor).roles
                if "approve" in self.policy.roles.get(role, [])
            ),
            approved_at=datetime.now(UTC),
        )
        self.store.add_approval(approval)
        self.changelog.append(
            request.actor,
            "approve",
            entry.label,
            request.reason,
            content_hash=entry.content_hash,
            after=approval.model_dump(mode="json"),
            request=request,
        )
        return f"approved {entry.label} for {stage}"

    def _approvals_for(
        self, entry: RegistryEntry, stages: tuple[str, ...], actor: str
    ) -> list[Approval]:
        approvals = [
            Approval(approver=a.approver, role=a.role, approved_at=a.approved_at)
            for a in self.store.approvals()
            if a.content_hash == entry.content_hash
            and a.stage in stages
            and a.approver not in (entry.registered_by, actor)
        ]
        if not approvals:
            raise NotPermitted(
                f"{entry.label} has no approval for {' or '.join(stages)} by anyone other "
                f"than its registrant and the requester: fraudstream registry approve "
                f"{entry.label} --stage {stages[0]}"
            )
        return approvals

    def _shadow(self, request: SignedRequest, entry: RegistryEntry) -> str:
        plan = self._require_plan()
        self._load_checked(entry, None)
        shadows = [s for s in plan.shadows if s.model.content_hash != entry.content_hash]
        if plan.champion.model.content_hash == entry.content_hash:
            raise PlanInvalid(f"{entry.label} is the champion already")
        canary = plan.canary
        if canary is not None and canary.model.content_hash == entry.content_hash:
            canary = None
        return self._change(request, plan, plan.champion, [*shadows, _deployed(entry)], canary, [])

    def _canary(self, request: SignedRequest, entry: RegistryEntry, share: float) -> str:
        plan = self._require_plan()
        approvals = self._approvals_for(entry, ("canary", "champion"), request.actor)
        self._load_checked(entry, self._manifest_at(plan.champion.location))
        canary = CanaryDeployment(model=_ref(entry), location=entry.location, traffic_share=share)
        shadows = [s for s in plan.shadows if s.model.content_hash != entry.content_hash]
        return self._change(request, plan, plan.champion, shadows, canary, approvals)

    def _promote(self, request: SignedRequest, entry: RegistryEntry) -> str:
        plan = self.current_plan()
        approvals = self._approvals_for(entry, ("champion",), request.actor)
        champion_manifest = None if plan is None else self._manifest_at(plan.champion.location)
        self._load_checked(entry, champion_manifest)
        shadows = (
            []
            if plan is None
            else [s for s in plan.shadows if s.model.content_hash != entry.content_hash]
        )
        return self._change(request, plan, _deployed(entry), shadows, None, approvals)

    def _rollback(self, request: SignedRequest) -> str:
        plan = self._require_plan()
        current = plan.champion.model.content_hash
        earlier = [
            p.champion for p in self.store.plans() if p.champion.model.content_hash != current
        ]
        if not earlier:
            raise PlanInvalid("no earlier champion to roll back to")
        back_to = earlier[-1]
        entry = self.by_hash(back_to.model.content_hash)
        if entry is None:
            raise UnknownPackage(
                f"the earlier champion {back_to.model.name} is no longer registered"
            )
        self._load_checked(entry, None)  # it still has to fit the target
        # A package holds one role: the old champion, shadowed since, leaves the shadows.
        shadows = [s for s in plan.shadows if s.model.content_hash != back_to.model.content_hash]
        return self._change(request, plan, back_to, shadows, None, [])

    # -- helpers ------------------------------------------------------------------------------

    def _require_plan(self) -> ModelControl:
        plan = self.current_plan()
        if plan is None:
            raise PlanInvalid("there is no live plan yet: promote a champion first")
        return plan

    def _manifest_at(self, location: str) -> ModelManifest:
        return read_manifest_unverified(Path(location))

    def _load_checked(self, entry: RegistryEntry, champion_manifest: ModelManifest | None) -> None:
        manifest = verify_package(Path(entry.location), self._key).manifest
        failures = target_failures(manifest, self.policy.target)
        if champion_manifest is not None:
            failures += metric_failures(manifest, champion_manifest, self.policy.gates)
        if failures:
            raise GateFailed(f"{entry.label}: " + "; ".join(failures))

    def _change(
        self,
        request: SignedRequest,
        plan: ModelControl | None,
        champion: DeployedPackage,
        shadows: list[DeployedPackage],
        canary: CanaryDeployment | None,
        approvals: list[Approval],
    ) -> str:
        new = ModelControl(
            plan_version=1 if plan is None else plan.plan_version + 1,
            previous_plan_version=None if plan is None else plan.plan_version,
            champion=champion,
            shadows=shadows,
            canary=canary,
            changed_by=request.actor,
            changed_at=datetime.now(UTC),
            reason=request.reason,
            approvals=approvals,
        )
        self._publish(new)  # first on the topic: a plan recorded here is one workers can see
        self.store.add_plan(new)
        if self._mirror is not None:
            self._mirror.plan_changed(new)
        target = self.find(request.target) if request.target != "-" else None
        self.changelog.append(
            request.actor,
            request.action,
            request.target if target is None else target.label,
            request.reason,
            content_hash=champion.model.content_hash if target is None else target.content_hash,
            before=None if plan is None else plan.model_dump(mode="json"),
            after=new.model_dump(mode="json"),
            request=request,
        )
        return f"plan {new.plan_version} published: {describe_plan(new)}"


def _ref(entry: RegistryEntry) -> ModelRef:
    return ModelRef(name=entry.name, version=entry.version, content_hash=entry.content_hash)


def _deployed(entry: RegistryEntry) -> DeployedPackage:
    return DeployedPackage(model=_ref(entry), location=entry.location)


def describe_plan(plan: ModelControl) -> str:
    def label(p: DeployedPackage) -> str:
        return f"{p.model.name}:{p.model.version}"

    parts = [f"champion {label(plan.champion)}"]
    if plan.canary is not None:
        parts.append(f"canary {label(plan.canary)} at {plan.canary.traffic_share:.0%}")
    parts += [f"shadow {label(s)}" for s in plan.shadows]
    return ", ".join(parts)
