"""`fraudstream registry | changelog | trace | keys`: governed deployment on running workers.

Every change is a request signed with the actor's private key (`--actor`, `--key`, or
FRAUD_ACTOR / FRAUD_ACTOR_KEY), checked against the policy file, recorded in the change log and,
for plan changes, published on the control topic that every worker follows.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from models.governance.changelog import ChangeLog
from models.governance.errors import GovernanceError
from models.governance.keys import generate_key, load_private_key
from models.governance.policy import Policy, load_policy
from models.governance.requests import signed_request
from models.package import PackageError
from models.package.store import read_manifest_unverified
from models.registry import FileRegistryStore, Registry, RegistryError
from models.registry.mlflow_mirror import MlflowMirror
from models.registry.service import describe_plan
from schemas import Decision, ModelControl
from stream.cli.compare_cli import compare
from stream.cli.data_cli import fail
from stream.deployment.control_topic import publish_plan
from stream.settings import get_settings
from stream.signing_keys import DevSigningKeyRefused, package_signing_key
from stream.topic_scan import scan
from stream.topics import ensure_topics

registry_app = typer.Typer(help="Register, shadow, canary, approve, promote, roll back.")
registry_app.command()(compare)
changelog_app = typer.Typer(help="The tamper-evident change log.")
keys_app = typer.Typer(help="Per-actor signing keys.")

Actor = Annotated[str, typer.Option(envvar="FRAUD_ACTOR", help="Who asks (as in the policy)")]
KeyFile = Annotated[
    Path, typer.Option(envvar="FRAUD_ACTOR_KEY", help="The actor's Ed25519 private key (PEM)")
]
Reason = Annotated[str, typer.Option(help="Why: goes into the change log")]
Package = Annotated[str, typer.Argument(help="NAME:VERSION of a registered package")]


class ApprovalStage(StrEnum):
    """What an approval is for: shown as choices in --help, refused by the parser otherwise."""

    CANARY = "canary"
    CHAMPION = "champion"


Stage = Annotated[ApprovalStage, typer.Option(help="What the approval is for")]
Share = Annotated[float, typer.Option(min=0.0, max=1.0, help="Share of cards the canary decides")]


def _key() -> bytes:
    try:
        return package_signing_key(get_settings())
    except DevSigningKeyRefused as exc:
        raise fail(str(exc), 2) from exc


def _policy() -> Policy:
    try:
        return load_policy(get_settings().policy_path)
    except GovernanceError as error:
        raise fail(str(error), 2) from None


def _changelog() -> ChangeLog:
    return ChangeLog(get_settings().registry_dir / "changelog.jsonl", _key())


def _registry() -> Registry:
    settings = get_settings()
    key = _key()

    def publish(plan: ModelControl) -> None:
        ensure_topics(settings)
        publish_plan(settings, plan, key)

    uri = settings.mlflow_tracking_uri
    return Registry(
        FileRegistryStore(settings.registry_dir / "index"),
        settings.registry_dir / "packages",
        _policy(),
        _changelog(),
        key,
        publish,
        None if uri is None else MlflowMirror(uri),
    )


def _run(actor: str, key_file: Path, action: str, target: str, reason: str, **details: Any) -> None:
    registry = _registry()
    request = signed_request(load_private_key(key_file), actor, action, target, reason, details)
    try:
        typer.echo(registry.handle(request))
    except (GovernanceError, RegistryError, PackageError) as error:
        raise fail(f"refused: {error}", 3) from None


@registry_app.command()
def register(package: Path, actor: Actor, key: KeyFile, reason: Reason = "registered") -> None:
    """Verify a package and add it to the registry."""
    _run(actor, key, "register", "-", reason, package=str(package.resolve()))


@registry_app.command("list")
def list_packages() -> None:
    """Registered packages and their live roles."""
    registry = _registry()
    plan = registry.current_plan()
    roles: dict[str, str] = {}
    if plan is not None:
        roles[plan.champion.model.content_hash] = "champion"
        roles.update({s.model.content_hash: "shadow" for s in plan.shadows})
        if plan.canary is not None:
            roles[plan.canary.model.content_hash] = f"canary {plan.canary.traffic_share:.0%}"
    for entry in registry.store.entries():
        role = roles.get(entry.content_hash, "-")
        typer.echo(
            f"{entry.label:32} {entry.content_hash[:12]}  {role:12} by {entry.registered_by}"
        )
    if plan is not None:
        typer.echo(f"plan {plan.plan_version}: {describe_plan(plan)}")


@registry_app.command()
def show(package: Annotated[str, typer.Argument(help="NAME[:VERSION]")]) -> None:
    """A registered package: entry, approvals, lineage."""
    registry = _registry()
    try:
        entry = registry.find(package)
    except RegistryError as error:
        raise fail(str(error)) from None
    manifest = read_manifest_unverified(Path(entry.location))
    typer.echo(json.dumps(entry.model_dump(mode="json"), indent=2))
    for approval in registry.store.approvals():
        if approval.content_hash == entry.content_hash:
            typer.echo(f"approved for {approval.stage} by {approval.approver} ({approval.role})")
    typer.echo(
        f"test PR-AUC {manifest.evaluation.model.pr_auc:.4f}, commit {manifest.code.git_commit}"
    )


@registry_app.command()
def approve(
    package: Package,
    actor: Actor,
    key: KeyFile,
    stage: Stage = ApprovalStage.CHAMPION,
    reason: Reason = "approved",
) -> None:
    """Approve a package for canary or champion (never your own)."""
    _run(actor, key, "approve", package, reason, stage=stage.value)


@registry_app.command()
def canary(
    package: Package, actor: Actor, key: KeyFile, share: Share = 0.1, reason: Reason = "canary"
) -> None:
    """Let the package decide the cards a stable hash of the card id picks."""
    _run(actor, key, "canary", package, reason, share=share)


def _plan_command(action: str, summary: str) -> None:
    """shadow and promote name a package and nothing more: one body serves both."""

    def command(package: Package, actor: Actor, key: KeyFile, reason: Reason = action) -> None:
        _run(actor, key, action, package, reason)

    command.__doc__ = summary
    registry_app.command(action)(command)


_plan_command("shadow", "Score every event with the package beside the champion; logged only.")
_plan_command("promote", "Make the package champion: workers switch between two micro-batches.")


@registry_app.command()
def rollback(actor: Actor, key: KeyFile, reason: Reason = "rollback") -> None:
    """Back to the previous champion."""
    _run(actor, key, "rollback", "-", reason)


@changelog_app.command()
def verify() -> None:
    """Check the chain, the seals and every actor's signature: exit 1 on any problem."""
    problems = _changelog().verify(_policy())
    for problem in problems:
        typer.echo(f"BROKEN: {problem}")
    if problems:
        raise typer.Exit(1)
    typer.echo(f"change log intact: {len(_changelog().entries())} entries")


@changelog_app.command("show")
def show_changelog() -> None:
    for e in _changelog().entries():
        typer.echo(
            f"{e.seq:4} {e.at:%Y-%m-%dT%H:%M:%S} {e.actor:16} {e.action:12} {e.target}  {e.reason}"
        )


@keys_app.command("generate")
def generate(
    private_key: Annotated[Path, typer.Argument(help="Where to write the private key")],
) -> None:
    """Write a new Ed25519 private key; print the public key for the policy file."""
    typer.echo(generate_key(private_key))


def trace(
    transaction_id: str, timeout: Annotated[float, typer.Option(help="Seconds to read")] = 60.0
) -> None:
    """Decision → model and role → package → run → datasets → commit → change-log entries."""
    settings = get_settings()
    found = None
    for record in scan(settings.kafka_bootstrap, settings.topics.decisions, timeout_s=timeout):
        decision = Decision.model_validate_json(record.value or b"")
        if decision.transaction_id == transaction_id:
            found = decision  # the last copy (a replay answers with the same decision)
    if found is None:
        raise fail(f"no decision for transaction {transaction_id}")
    typer.echo(
        f"decision  {found.decision_id}: {found.outcome} score {found.score} "
        f"at {found.decided_at.isoformat()} fallback {found.fallback_reason}"
    )
    if found.model is None:
        typer.echo("model     none (decided by the fallback without a package)")
        return
    model = found.model
    typer.echo(
        f"model     {model.name}:{model.version} as {found.role.value} ({model.content_hash})"
    )
    registry = _registry()
    entry = registry.by_hash(model.content_hash)
    if entry is None:
        typer.echo("package   not in the registry (loaded from FRAUD_MODEL_PACKAGE)")
        return
    manifest = read_manifest_unverified(Path(entry.location))
    typer.echo(f"package   {entry.location} registered by {entry.registered_by}")
    typer.echo(
        f"run       built by {manifest.provenance.built_by} at "
        f"{manifest.provenance.built_at.isoformat()} on {manifest.provenance.host}: "
        f"{manifest.code.arguments.get('command', manifest.code.entry_point)}"
    )
    typer.echo(
        f"datasets  transactions {manifest.data.dataset_id}, labels "
        f"{manifest.data.labels_dataset_id}, split {manifest.data.split_id}"
    )
    typer.echo(f"commit    {manifest.code.git_commit} (dirty: {manifest.code.git_dirty})")
    for e in registry.changelog.entries():
        mentions = e.content_hash == model.content_hash or model.content_hash in json.dumps(
            e.after or {}
        )
        if mentions and e.at <= found.decided_at:
            typer.echo(
                f"change    #{e.seq} {e.at.isoformat()} {e.actor} {e.action} {e.target}: {e.reason}"
            )
