"""The registry's state mirrored into MLflow's model registry, for people who use its UI.

Each registered package becomes a model version (tagged with its content hash, linked to its
build run when one was tracked), and the live roles become aliases: `champion`, `canary`,
`shadow` (`shadow-2`, ... for more shadows). The fraudstream registry and its change log stay
the truth: MLflow has no approvals and no atomic promote, so nothing is ever read back from it,
and a mirror that cannot be written is reported, never a reason to refuse a governed change.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from models.registry.store import RegistryEntry
from models.tracking import allow_file_store, import_mlflow
from schemas import ModelControl

log = logging.getLogger(__name__)

HASH_TAG = "fraudstream.content_hash"
ROLE_ALIASES = ("champion", "canary", "shadow")


class MlflowMirror:
    def __init__(self, tracking_uri: str) -> None:
        self.tracking_uri = tracking_uri

    def registered(self, entry: RegistryEntry) -> None:
        try:
            self._add_version(self._client(), entry)
        except Exception as error:  # a copy that failed must not undo a governed change
            log.warning("MLflow mirror: %s not mirrored: %s", entry.label, error)

    def plan_changed(self, plan: ModelControl) -> None:
        try:
            self._set_aliases(self._client(), plan)
        except Exception as error:
            log.warning("MLflow mirror: plan %d not mirrored: %s", plan.plan_version, error)

    def _client(self) -> Any:
        mlflow = import_mlflow()
        allow_file_store(self.tracking_uri)
        return mlflow.MlflowClient(tracking_uri=self.tracking_uri, registry_uri=self.tracking_uri)

    def _add_version(self, client: Any, entry: RegistryEntry) -> None:
        if not client.search_registered_models(f"name='{entry.name}'"):
            client.create_registered_model(entry.name)
        run = _build_run(client, entry)
        client.create_model_version(
            entry.name,
            source=Path(entry.location).as_uri() if run is None else f"runs:/{run}/package",
            run_id=run,
            tags={HASH_TAG: entry.content_hash, "fraudstream.version": entry.version},
            description=f"fraudstream {entry.label}, registered by {entry.registered_by}",
        )

    def _set_aliases(self, client: Any, plan: ModelControl) -> None:
        wanted: dict[str, dict[str, str]] = {}  # model name → alias → content hash
        roles = [("champion", plan.champion)]
        roles += [] if plan.canary is None else [("canary", plan.canary)]
        roles += [(_shadow_alias(n), s) for n, s in enumerate(plan.shadows)]
        for alias, deployed in roles:
            wanted.setdefault(deployed.model.name, {})[alias] = deployed.model.content_hash
        for name, aliases in wanted.items():
            versions = {
                v.tags.get(HASH_TAG): v.version
                for v in client.search_model_versions(f"name='{name}'")
            }
            for alias, content_hash in aliases.items():
                if content_hash in versions:
                    client.set_registered_model_alias(name, alias, versions[content_hash])
            # Roles the plan no longer has: their aliases go, or the UI would show a stale canary.
            current = client.get_registered_model(name).aliases
            for alias in set(current) - set(aliases):
                if alias.split("-")[0] in ROLE_ALIASES:
                    client.delete_registered_model_alias(name, alias)


def _shadow_alias(index: int) -> str:
    return "shadow" if index == 0 else f"shadow-{index + 1}"


def _build_run(client: Any, entry: RegistryEntry) -> str | None:
    """The run `fraudstream model build` logged for this package, if it was tracked here."""
    experiment = client.get_experiment_by_name(entry.name)
    if experiment is None:
        return None
    runs = client.search_runs(
        [experiment.experiment_id], f"tags.`{HASH_TAG}` = '{entry.content_hash}'", max_results=1
    )
    return str(runs[0].info.run_id) if runs else None
