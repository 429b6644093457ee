"""The models deciding and scoring now, as one immutable object the decider reads once per batch.

A plan change builds a new `LivePlan` (packages verified and loaded beforehand, off the hot path)
and replaces the decider's reference: one assignment, so every micro-batch is decided wholly by
the old plan or wholly by the new one — the switch falls between two batches.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from models.features import FEATURE_SET_VERSION
from models.scoring import PackageScorer
from schemas import ModelRef

HASH_SPACE = 1 << 64


class Champion:
    """A loaded, verified package and its identity as written on every decision (any role)."""

    def __init__(self, scorer: PackageScorer) -> None:
        manifest = scorer.manifest
        if manifest.features.feature_set_version != FEATURE_SET_VERSION:
            raise ValueError(
                f"package {manifest.name}-{manifest.version} was built for features "
                f"{manifest.features.feature_set_version}; "
                f"this worker computes {FEATURE_SET_VERSION}"
            )
        self.scorer = scorer
        self.ref = ModelRef(
            name=manifest.name, version=manifest.version, content_hash=scorer.package.content_hash
        )


def card_bucket(card_key: bytes) -> int:
    """A stable 64-bit hash of the card id: the same card lands on the same side of any share,
    in every worker and across restarts (Python's hash() is salted per process)."""
    return int.from_bytes(hashlib.blake2b(card_key, digest_size=8).digest(), "big")


@dataclass(frozen=True)
class LivePlan:
    version: int  # 0: no plan on the control topic yet (the configured package, if any)
    champion: Champion | None
    canary: Champion | None = None
    canary_share: float = 0.0
    shadows: tuple[Champion, ...] = ()
    _canary_below: int = field(init=False, default=0)
    _deciding: frozenset[str | None] = field(init=False, default=frozenset())

    def __post_init__(self) -> None:
        below = int(self.canary_share * HASH_SPACE) if self.canary is not None else 0
        object.__setattr__(self, "_canary_below", below)
        deciding: set[str | None] = {
            m.ref.content_hash for m in (self.champion, self.canary) if m is not None
        }
        object.__setattr__(self, "_deciding", frozenset(deciding or {None}))

    def canary_decides(self, card_key: bytes) -> bool:
        return self._canary_below > 0 and card_bucket(card_key) < self._canary_below

    def decides_with(self, content_hash: str | None) -> bool:
        """Whether the model with this hash holds a deciding role (None: no model, none now)."""
        return content_hash in self._deciding

    def models(self) -> list[tuple[str, Champion]]:
        roles = [("champion", self.champion), ("canary", self.canary)]
        return [(r, m) for r, m in roles if m is not None] + [("shadow", s) for s in self.shadows]
