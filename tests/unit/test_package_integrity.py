"""A package is loaded only when its signature and every file hash check out.

The model file is a pickle, and unpickling runs code: the decisive tests put a pickle that
writes a marker file in place of model.joblib and show that no loading path ever runs it.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import shutil
from pathlib import Path

import joblib
import pytest

from models.package import (
    MODEL_FILE,
    FileTampered,
    ManifestInvalid,
    PackageMissingFile,
    PackageUnsigned,
    SignatureInvalid,
    load_model,
    verify_package,
)
from models.package.signing import key_id
from models.predictor import TREELITE_FILE
from models.scoring import open_package
from tests.support.model_builds import TEST_KEY, build_small, small_world


class _WritesMarker:
    """Unpickling this calls Path.write_text: proof that the pickle's code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return Path.write_text, (self.marker, "unpickled")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("integrity")
    return build_small(small_world(root), root / "registry")


@pytest.fixture
def package(built: Path, tmp_path: Path) -> Path:
    copy = tmp_path / built.name
    shutil.copytree(built, copy)
    return copy


def _malicious_pickle(package: Path, marker: Path) -> bytes:
    payload = pickle.dumps(_WritesMarker(marker), protocol=4)
    (package / MODEL_FILE).write_bytes(payload)
    return payload


def test_an_untouched_package_verifies(package: Path) -> None:
    verified = verify_package(package, TEST_KEY)
    assert set(verified.files) == {MODEL_FILE, TREELITE_FILE}
    assert (
        verified.manifest.files[MODEL_FILE]
        == hashlib.sha256((package / MODEL_FILE).read_bytes()).hexdigest()
    )
    assert load_model(verified).predict_proba is not None


def test_one_changed_model_byte_is_refused(package: Path) -> None:
    data = bytearray((package / MODEL_FILE).read_bytes())
    data[len(data) // 2] ^= 0x01
    (package / MODEL_FILE).write_bytes(bytes(data))
    with pytest.raises(FileTampered, match=MODEL_FILE):
        verify_package(package, TEST_KEY)


def test_an_edited_manifest_breaks_the_signature(package: Path) -> None:
    manifest = json.loads((package / "manifest.json").read_text())
    manifest["policy"]["decline_threshold"] = 0.99  # a quiet, plausible edit
    (package / "manifest.json").write_text(json.dumps(manifest, sort_keys=True, indent=1) + "\n")
    with pytest.raises(SignatureInvalid, match="changed after it was signed"):
        verify_package(package, TEST_KEY)


def test_a_package_without_signature_is_refused(package: Path) -> None:
    (package / "signature.json").unlink()
    with pytest.raises(PackageUnsigned, match=r"signature\.json is missing"):
        verify_package(package, TEST_KEY)


def test_the_wrong_key_is_named_in_the_refusal(package: Path) -> None:
    other = b"another-registry-key"
    with pytest.raises(SignatureInvalid) as refused:
        verify_package(package, other)
    assert key_id(TEST_KEY) in str(refused.value)
    assert key_id(other) in str(refused.value)
    assert "FRAUD_SIGNING_KEY" in str(refused.value)


def test_a_missing_listed_file_is_refused(package: Path) -> None:
    (package / TREELITE_FILE).unlink()
    with pytest.raises(PackageMissingFile, match=TREELITE_FILE):
        verify_package(package, TEST_KEY)


def test_a_manifest_that_is_not_json_fails_the_signature_before_parsing(package: Path) -> None:
    (package / "manifest.json").write_text("{not json")
    with pytest.raises(SignatureInvalid):
        verify_package(package, TEST_KEY)


def test_a_missing_manifest_is_refused(package: Path) -> None:
    (package / "manifest.json").unlink()
    with pytest.raises(ManifestInvalid, match=r"manifest\.json is missing"):
        verify_package(package, TEST_KEY)


def test_the_marker_pickle_does_run_code_when_loaded_unchecked(
    package: Path, tmp_path: Path
) -> None:
    """The control: without verification the payload runs, so the tests below mean something."""
    marker = tmp_path / "control-marker"
    _malicious_pickle(package, marker)
    joblib.load(package / MODEL_FILE)
    assert marker.read_text() == "unpickled"


@pytest.mark.parametrize("prefer", [None, "sklearn", "treelite"])
def test_a_swapped_pickle_is_never_unpickled(
    package: Path, tmp_path: Path, prefer: str | None
) -> None:
    marker = tmp_path / "marker"
    _malicious_pickle(package, marker)
    with pytest.raises(FileTampered):
        open_package(package, TEST_KEY, prefer=prefer)
    with pytest.raises(FileTampered):
        load_model(verify_package(package, TEST_KEY))
    assert not marker.exists()


def test_a_swapped_pickle_with_a_matching_manifest_hash_is_never_unpickled(
    package: Path, tmp_path: Path
) -> None:
    """An attacker who also rewrites the manifest's hash still cannot sign the manifest."""
    marker = tmp_path / "marker"
    payload = _malicious_pickle(package, marker)
    manifest = json.loads((package / "manifest.json").read_text())
    manifest["files"][MODEL_FILE] = hashlib.sha256(payload).hexdigest()
    (package / "manifest.json").write_text(json.dumps(manifest, sort_keys=True, indent=1) + "\n")
    with pytest.raises(SignatureInvalid):
        open_package(package, TEST_KEY, prefer="sklearn")
    assert not marker.exists()
