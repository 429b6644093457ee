"""The data and model commands through typer's runner, on a temporary var dir.

One small world is simulated and one package built (via the CLI, with MLflow tracking to a
local directory) for the whole module; the other commands run against them. Git state is
pinned to a clean fake commit so `reproduce` takes the in-checkout path whatever the state of
the tree running the tests (the worktree path has its own tests in test_reproduce.py).
"""

from __future__ import annotations

import csv
import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from models.batch_scoring import row_as_json
from models.datasets import DatasetStore
from models.package import MODEL_FILE, read_manifest_unverified
from models.scoring import open_package
from models.training import lineage
from models.training.data import prepare
from schemas.model_package import ModelManifest
from stream.cli import app
from stream.cli.data_cli import parse_shift
from stream.settings import get_settings
from tests.support.model_builds import short_training_toml

FAKE_COMMIT = "c0ffee" + "0" * 34
KEY = "cli-test-signing-key"
runner = CliRunner()


@dataclass(frozen=True)
class CliWorld:
    var: Path
    transactions_id: str
    labels_id: str
    package: Path
    build_output: str
    mlruns: Path

    @property
    def store(self) -> DatasetStore:
        return DatasetStore(self.var / "datasets")


def _invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CliWorld]:
    root = tmp_path_factory.mktemp("cli")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FRAUD_VAR_DIR", str(root / "var"))
        patch.setenv("FRAUD_SIGNING_KEY", KEY)
        patch.setenv("FRAUD_MLFLOW_TRACKING_URI", (root / "mlruns").as_uri())
        patch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
        patch.setattr(lineage, "git_state", lambda _repo: (FAKE_COMMIT, False))
        get_settings.cache_clear()
        code, out, err = _invoke("data", "simulate", "--small")
        assert code == 0, err
        ids = dict(re.findall(r"^(transactions|labels)\s+([0-9a-f]{64})", out, re.MULTILINE))
        config = short_training_toml(root / "training.toml")
        code, built, err = _invoke("model", "build", "--config", str(config), "--version", "1.0.0")
        assert code == 0, err
        package = Path(re.findall(r"^package (.+)$", built, re.MULTILINE)[0])
        yield CliWorld(
            root / "var", ids["transactions"], ids["labels"], package, built, root / "mlruns"
        )
    get_settings.cache_clear()


def test_simulate_stores_both_files_and_list_shows_them(world: CliWorld) -> None:
    store = world.store
    assert store.manifest(world.transactions_id).kind == "transactions"
    assert store.manifest(world.labels_id).transactions_id == world.transactions_id
    code, out, _ = _invoke("data", "list")
    assert code == 0
    assert world.transactions_id[:12] in out and world.labels_id[:12] in out
    assert "simulator seed 7" in out


def test_build_uses_the_latest_simulation_and_reports_metrics(world: CliWorld) -> None:
    manifest = read_manifest_unverified(world.package)
    assert world.package == world.var / "registry" / "packages" / "card-fraud-hgb-1.0.0"
    assert manifest.data.dataset_id == world.transactions_id
    assert manifest.data.labels_dataset_id == world.labels_id
    assert manifest.code.arguments["command"].startswith("fraudstream model build --data ")
    out = world.build_output
    for expected in ("PR-AUC", "baseline", "recall at FPR 0.001", "review   score ≥", "decline"):
        assert expected in out
    assert f"{manifest.policy.decline_threshold:.6g}" in out


def test_build_logs_the_run_to_mlflow(world: CliWorld) -> None:
    from mlflow.tracking import MlflowClient

    run_id = re.findall(r"^mlflow run ([0-9a-f]+) ", world.build_output, re.MULTILINE)[0]
    run = MlflowClient(world.mlruns.as_uri()).get_run(run_id)
    manifest = read_manifest_unverified(world.package)
    assert run.data.params["dataset_id"] == world.transactions_id
    assert run.data.metrics["test.pr_auc"] == manifest.evaluation.model.pr_auc


def test_build_refuses_an_existing_version_before_training(world: CliWorld) -> None:
    code, _, err = _invoke("model", "build", "--version", "1.0.0")
    assert code == 1
    assert "exists already" in err


def test_build_names_a_dataset_that_is_not_there(world: CliWorld) -> None:
    code, _, err = _invoke("model", "build", "--data", "ab" * 32)
    assert code == 1
    assert "no datasets" in err


def test_show_answers_the_reproducibility_checklist(world: CliWorld) -> None:
    code, out, _ = _invoke("model", "show", str(world.package))
    assert code == 0
    manifest = read_manifest_unverified(world.package)
    for expected in (
        "signature      verified",
        "built by",
        f"{FAKE_COMMIT}  (clean)",
        "entry point  models.training.build:build_package",
        "max_iter = 40",
        world.transactions_id,
        world.labels_id,
        manifest.data.splits[0].row_set_sha256[:16],
        "PR-AUC",
        "review   score ≥",
        "Resources",
        "scikit-learn",
        manifest.files[MODEL_FILE],
    ):
        assert expected in out, expected


def test_show_json_is_the_raw_manifest(world: CliWorld) -> None:
    code, out, _ = _invoke("model", "show", "card-fraud-hgb-1.0.0", "--json")
    assert code == 0
    assert ModelManifest.model_validate(json.loads(out)) == read_manifest_unverified(world.package)


def test_verify_passes_then_refuses_a_tampered_copy(world: CliWorld, tmp_path: Path) -> None:
    code, out, _ = _invoke("model", "verify", str(world.package))
    assert code == 0
    assert "verified card-fraud-hgb 1.0.0" in out
    copy = tmp_path / "tampered"
    shutil.copytree(world.package, copy)
    data = bytearray((copy / MODEL_FILE).read_bytes())
    data[100] ^= 0xFF
    (copy / MODEL_FILE).write_bytes(bytes(data))
    code, _, err = _invoke("model", "verify", str(copy))
    assert code == 1
    assert "FileTampered" in err and "the signed manifest says" in err
    code, out, _ = _invoke("model", "show", str(copy))
    assert code == 0 and "NOT VERIFIED: FileTampered" in out


def test_score_writes_one_line_per_input_with_dead_letters_in_place(
    world: CliWorld, tmp_path: Path
) -> None:
    rows = pq.read_table(world.store.path_of(world.transactions_id)).slice(0, 300).to_pylist()
    lines = [row_as_json(row) for row in rows]
    broken = {
        5: (b"not json at all", "not_json"),
        50: (b"", "empty"),
        120: (b'{"schema_version": 1}', "missing_field"),
    }
    for position, (raw, _) in sorted(broken.items()):
        lines.insert(position - 1, raw)
    source = tmp_path / "input.jsonl"
    source.write_bytes(b"\n".join(lines) + b"\n")
    target = tmp_path / "scored.jsonl"
    code, _, err = _invoke(
        "model", "score", "card-fraud-hgb-1.0.0", "--input", str(source), "--output", str(target)
    )
    assert code == 0, err
    assert "303 inputs: 300 decided" in err and "3 dead letters" in err
    out = [json.loads(line) for line in target.read_text().splitlines()]
    assert [record["line"] for record in out] == list(range(1, 304))
    for position, (_, category) in broken.items():
        assert out[position - 1]["dead_letter"]["category"] == category
    decided = [record for record in out if "dead_letter" not in record]
    assert [d["transaction_id"] for d in decided] == [r["transaction_id"] for r in rows]
    manifest = read_manifest_unverified(world.package)
    assert decided[0]["model"] == {
        "name": manifest.name,
        "version": manifest.version,
        "content_hash": manifest.content_hash,
    }
    assert {d["outcome"] for d in decided} <= {"APPROVE", "REVIEW", "DECLINE"}


def test_scores_of_the_whole_dataset_equal_the_builds_test_scores(
    world: CliWorld, tmp_path: Path
) -> None:
    """Batch scoring (codec → feature replay → package predictor) matches training's path."""
    target = tmp_path / "scored.jsonl"
    dataset = world.store.path_of(world.transactions_id)
    code, _, err = _invoke(
        "model", "score", str(world.package), "--input", str(dataset), "--output", str(target)
    )
    assert code == 0, err
    scored = {
        record["transaction_id"]: record["score"]
        for record in map(json.loads, target.read_text().splitlines())
    }
    test = prepare(
        world.store.load(world.transactions_id),
        world.store.load(world.labels_id),
        dataset_id=world.transactions_id,
        fractions=(0.7, 0.15, 0.15),
    ).parts["test"]
    expected = open_package(world.package, KEY.encode()).fraud_probability(test.features)
    actual = np.array([scored[each] for each in test.transaction_ids])
    assert np.array_equal(actual, expected)


def test_csv_input_scores_like_json_lines(world: CliWorld, tmp_path: Path) -> None:
    rows = pq.read_table(world.store.path_of(world.transactions_id)).slice(0, 80).to_pylist()
    records = [json.loads(row_as_json(row)) for row in rows]
    columns = sorted({name for record in records for name in record})
    with (tmp_path / "input.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(records)
    (tmp_path / "input.jsonl").write_bytes(b"".join(row_as_json(row) + b"\n" for row in rows))
    outputs = []
    for name in ("input.csv", "input.jsonl"):
        code, out, err = _invoke(
            "model", "score", str(world.package), "--input", str(tmp_path / name)
        )
        assert code == 0, err
        outputs.append(
            [(r["transaction_id"], r["score"]) for r in map(json.loads, out.splitlines())]
        )
    assert outputs[0] == outputs[1]
    assert len(outputs[0]) == 80


def test_reproduce_in_this_checkout_gives_identical_bytes(world: CliWorld) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(lineage, "git_state", lambda _repo: (FAKE_COMMIT, False))
        code, out, err = _invoke("model", "reproduce", str(world.package))
    assert code == 0, err + out
    assert "rebuilt in this checkout (clean, at c0ffee000000)" in out
    assert "same      model.joblib bytes" in out
    assert "same      model.treelite bytes" in out
    assert out.strip().endswith("REPRODUCED: identical model bytes")


def test_reproduce_refuses_a_tampered_package(world: CliWorld, tmp_path: Path) -> None:
    copy = tmp_path / "tampered"
    shutil.copytree(world.package, copy)
    (copy / "signature.json").unlink()
    code, _, err = _invoke("model", "reproduce", str(copy))
    assert code == 1
    assert "cannot reproduce" in err and "signature.json is missing" in err


def test_reproduce_without_the_datasets_says_where_to_get_them(
    world: CliWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    var = tmp_path / "var"
    shutil.copytree(world.package, var / "registry" / "packages" / world.package.name)
    monkeypatch.setenv("FRAUD_VAR_DIR", str(var))
    get_settings.cache_clear()
    try:
        code, _, err = _invoke("model", "reproduce", world.package.name)
    finally:
        monkeypatch.setenv("FRAUD_VAR_DIR", str(world.var))
        get_settings.cache_clear()
    assert code == 1
    assert f"no dataset {world.transactions_id}" in err
    assert "from where the package was built" in err


def test_import_stores_good_rows_and_reports_bad_ones(world: CliWorld, tmp_path: Path) -> None:
    rows = pq.read_table(world.store.path_of(world.transactions_id)).slice(0, 5).to_pylist()
    records = [json.loads(row_as_json(row)) for row in rows]
    records[2]["amount"] = "-3.00"
    records[2]["transaction_id"] = "T-IMPORT-BAD"
    columns = sorted({name for record in records for name in record})
    source = tmp_path / "import.csv"
    with source.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(records)
    code, _, err = _invoke("data", "import", str(source))
    assert code == 1
    assert "row 3 (T-IMPORT-BAD)" in err and "nothing stored" in err
    code, out, _ = _invoke("data", "import", str(source), "--allow-bad-rows")
    assert code == 0
    assert "5 rows read, 4 good, 1 bad" in out
    dataset_id = re.findall(r"^transactions ([0-9a-f]{64})", out, re.MULTILINE)[0]
    assert world.store.manifest(dataset_id).rows == 4


def test_simulate_applies_a_shift(world: CliWorld) -> None:
    code, out, err = _invoke(
        "data", "simulate", "--small", "--days", "8", "--seed", "3",
        "--shift", "start_day=4", "--shift", "amount_scale=1.5", "--shift", "new_country=PT",
    )  # fmt: skip
    assert code == 0, err
    dataset_id = re.findall(r"^transactions\s+([0-9a-f]{64})", out, re.MULTILINE)[0]
    source = world.store.manifest(dataset_id).source
    assert source.kind == "simulator"
    assert source.config["n_days"] == 8 and source.seed == 3
    assert source.config["shift"] == {
        "start_day": 4,
        "amount_scale": 1.5,
        "amount_creep_per_day": None,
        "ecom_share": None,
        "new_country": {"country": "PT", "share": 0.3},
        "mcc": None,
    }


def test_parse_shift_reads_dotted_keys_and_shorthands() -> None:
    assert parse_shift(["start_day=9", "mcc=0742", "mcc.merchant_share=0.5", "ecom_share=0.2"]) == {
        "start_day": 9,
        "mcc": {"mcc": "0742", "merchant_share": 0.5},
        "ecom_share": 0.2,
    }
    with pytest.raises(ValueError, match="KEY=VALUE"):
        parse_shift(["start_day"])


def test_simulate_reports_an_invalid_configuration(world: CliWorld) -> None:
    code, _, err = _invoke("data", "simulate", "--small", "--shift", "start_day=500")
    assert code == 1
    assert "invalid simulator configuration" in err


def test_the_cli_batch_default_is_the_scoring_default() -> None:
    from models.batch_scoring import DEFAULT_BATCH
    from stream.cli import models_cli

    assert models_cli.DEFAULT_BATCH == DEFAULT_BATCH
