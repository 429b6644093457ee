"""The training configuration (config/training.toml), recorded whole in every manifest."""

from __future__ import annotations

import hashlib
import json
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.model_package import DecisionRule


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SplitConfig(_Frozen):
    fractions: tuple[float, float, float] = (0.7, 0.15, 0.15)


class ModelParams(_Frozen):
    learning_rate: float = 0.12
    max_iter: int = 150
    max_leaf_nodes: int = 31
    min_samples_leaf: int = 40
    l2_regularization: float = 1.0
    early_stopping: bool = False


class PolicyConfig(_Frozen):
    target_decline_fpr: float = Field(default=0.0005, gt=0, lt=1)
    target_review_fpr: float = Field(default=0.005, gt=0, lt=1)
    reason_quantile: float = Field(default=0.99, gt=0, lt=1)
    reason_features: list[str] = []
    rules: list[DecisionRule] = []


class EvaluationConfig(_Frozen):
    card_precision_k: int = 100


class TrainingConfig(_Frozen):
    name: str
    description: str = ""
    seed: int
    split: SplitConfig = SplitConfig()
    model: ModelParams = ModelParams()
    policy: PolicyConfig = PolicyConfig()
    evaluation: EvaluationConfig = EvaluationConfig()
    predictor: Literal["treelite", "sklearn"] = "treelite"

    @classmethod
    def from_file(cls, path: Path) -> TrainingConfig:
        return cls.model_validate(tomllib.loads(path.read_text()))

    def canonical(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def sha256(self) -> str:
        text = json.dumps(self.canonical(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()
