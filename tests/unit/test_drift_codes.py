"""Code fields (mcc) are profiled and judged as categories, so a new code is an unseen one."""

from __future__ import annotations

import numpy as np

from models.drift.compare import feature_drift
from models.drift.window import FeatureTally
from models.features import CODE_FEATURES, FEATURE_NAMES
from models.profile import profile_features
from schemas.drift import AlertSeverity, AlertThresholds, DriftStatistic
from schemas.model_package import FeatureProfile


def _mcc_profile() -> FeatureProfile:
    rng = np.random.default_rng(3)
    matrix = np.zeros((2000, len(FEATURE_NAMES)))
    column = FEATURE_NAMES.index("mcc")
    matrix[:, column] = rng.choice([5411.0, 5812.0, 5999.0], size=2000)
    return profile_features(matrix, FEATURE_NAMES, CODE_FEATURES)[column]


def test_mcc_is_profiled_as_a_category() -> None:
    profile = _mcc_profile()
    assert profile.kind == "categorical"
    assert set(profile.categories) == {"5411", "5812", "5999"}


def test_a_new_merchant_category_at_five_percent_alerts_as_unseen() -> None:
    profile = _mcc_profile()
    # 950 values spread over the known codes, 50 (5 %) in a code training never saw.
    tally = FeatureTally(bins=np.array([317, 317, 316]), unseen=50, missing=0)
    drift, alerts = feature_drift(profile, tally, AlertThresholds())
    assert drift.unseen_share == 0.05
    unseen = [a for a in alerts if a.statistic is DriftStatistic.UNSEEN_SHARE]
    assert [a.severity for a in unseen] == [AlertSeverity.CRITICAL]
