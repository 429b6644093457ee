"""A verified package ready to score: predictor, decision policy and input expectations."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from models.decision import DecisionMaker
from models.expectations import ExpectationChecker
from models.package import MODEL_FILE, VerifiedPackage, load_model, verify_package
from models.predictor import TREELITE_FILE, Predictor, SklearnPredictor, TreelitePredictor
from schemas.model_package import ModelManifest


@dataclass
class PackageScorer:
    package: VerifiedPackage
    predictor: Predictor
    decisions: DecisionMaker
    expectations: ExpectationChecker

    @property
    def manifest(self) -> ModelManifest:
        return self.package.manifest

    @property
    def feature_names(self) -> list[str]:
        return [f.name for f in self.manifest.features.features]

    def fraud_probability(self, batch: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        return self.predictor.fraud_probability(batch)


def open_package(
    directory: Path, key: bytes, prefer: str | None = None, threads: int = 1
) -> PackageScorer:
    """Verify the package, then build the predictor it was evaluated with."""
    package = verify_package(directory, key)
    manifest = package.manifest
    kind = prefer or manifest.resources.predictor
    predictor: Predictor
    if kind == "treelite" and TREELITE_FILE in package.files:
        predictor = TreelitePredictor(package.files[TREELITE_FILE], threads=threads)
    else:
        predictor = SklearnPredictor(load_model(package))
    names = [f.name for f in manifest.features.features]
    return PackageScorer(
        package=package,
        predictor=predictor,
        decisions=DecisionMaker(manifest.policy, names),
        expectations=ExpectationChecker(manifest.profile.features),
    )


__all__ = ["MODEL_FILE", "PackageScorer", "open_package"]
