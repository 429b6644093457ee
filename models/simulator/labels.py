"""Delayed labels: what the issuer learns about each transaction, and when.

Fraud is reported per victim card and incident (a cardholder disputes everything at once), one
skewed delay after the incident's last transaction; some victims never report. A few genuine
transactions are `cleared` after a review. Labels are rows of their own: a transaction may have
none, one, or (rarely) two.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from models.simulator.config import LabelConfig
from models.simulator.rng import stream
from models.simulator.rows import MICROS_PER_DAY, MICROS_PER_HOUR, Rows

CHARGEBACK, CONFIRMED_FRAUD, CLEARED = range(3)


@dataclass(frozen=True)
class LabelRows:
    row: npt.NDArray[np.int64]  # index into the transaction rows
    is_fraud: npt.NDArray[np.bool_]
    source: npt.NDArray[np.int64]
    labelled_at_us: npt.NDArray[np.int64]


def generate_labels(config: LabelConfig, seed: int, rows: Rows) -> LabelRows:
    rng = stream(seed, "labels")
    fraud = np.flatnonzero(rows.scenario >= 0)
    # (scenario, incident, card) identifies one victim's report.
    key = (rows.scenario[fraud] * (1 << 40) + rows.incident[fraud]) * (1 << 20) + rows.card[fraud]
    groups, group = np.unique(key, return_inverse=True)
    last_us = np.full(len(groups), np.iinfo(np.int64).min)
    np.maximum.at(last_us, group, rows.time_us[fraud])
    delay_days = np.clip(
        rng.lognormal(np.log(config.delay_median_days), config.delay_sigma, len(groups)),
        *config.delay_days,
    )
    reported_us = last_us + (delay_days * MICROS_PER_DAY).astype(np.int64)
    reported = rng.random(len(groups)) >= config.never_labelled_share
    source = np.where(
        rng.random(len(groups)) < config.chargeback_share, CHARGEBACK, CONFIRMED_FRAUD
    )

    jitter = (rng.random(len(fraud)) * 6 * MICROS_PER_HOUR).astype(np.int64)  # batch processing
    labelled = reported[group]
    first = _fraud_labels(fraud, source[group], reported_us[group] + jitter, labelled)
    again = labelled & (rng.random(len(fraud)) < config.duplicate_share)
    later = (rng.uniform(1.0, 10.0, len(fraud)) * MICROS_PER_DAY).astype(np.int64)
    other_source = np.where(source[group] == CHARGEBACK, CONFIRMED_FRAUD, CHARGEBACK)
    second = _fraud_labels(fraud, other_source, reported_us[group] + jitter + later, again)

    legit = np.flatnonzero(rows.scenario < 0)
    cleared = legit[rng.random(len(legit)) < config.cleared_share]
    review_us = (rng.uniform(1.0, 30.0, len(cleared)) * MICROS_PER_DAY).astype(np.int64)
    third = LabelRows(
        row=cleared,
        is_fraud=np.zeros(len(cleared), dtype=bool),
        source=np.full(len(cleared), CLEARED),
        labelled_at_us=rows.time_us[cleared] + review_us,
    )
    labels = LabelRows(
        **{
            name: np.concatenate([getattr(part, name) for part in (first, second, third)])
            for name in LabelRows.__dataclass_fields__
        }
    )
    # Milliseconds, like event times; every delay is at least a day, so order is kept.
    return replace(labels, labelled_at_us=labels.labelled_at_us // 1000 * 1000)


def _fraud_labels(
    fraud: npt.NDArray[np.int64],
    source: npt.NDArray[np.int64],
    labelled_at_us: npt.NDArray[np.int64],
    keep: npt.NDArray[np.bool_],
) -> LabelRows:
    return LabelRows(
        row=fraud[keep],
        is_fraud=np.ones(int(keep.sum()), dtype=bool),
        source=source[keep],
        labelled_at_us=labelled_at_us[keep],
    )
