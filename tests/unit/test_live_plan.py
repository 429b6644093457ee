"""The canary's share: a stable hash of the card id picks its cards, in the share asked for."""

from __future__ import annotations

import pytest

from models.scoring import open_package
from stream.decision_path.live_plan import Champion, LivePlan, card_bucket
from tests.support.model_builds import TEST_KEY
from tests.unit.conftest import TwoPackages

CARDS = [f"card-{n:06d}".encode() for n in range(20_000)]


@pytest.fixture(scope="module")
def models(two_packages: TwoPackages) -> tuple[Champion, Champion]:
    return (
        Champion(open_package(two_packages.a, TEST_KEY)),
        Champion(open_package(two_packages.b, TEST_KEY)),
    )


def _picked(plan: LivePlan) -> set[bytes]:
    return {card for card in CARDS if plan.canary_decides(card)}


@pytest.mark.parametrize("share", [0.01, 0.1, 0.5])
def test_the_canary_gets_its_share_of_cards(
    models: tuple[Champion, Champion], share: float
) -> None:
    champion, canary = models
    picked = _picked(LivePlan(2, champion, canary, share))
    # 20,000 cards: the binomial standard deviation is at most 0.0035; 0.015 is over 4 of them.
    assert abs(len(picked) / len(CARDS) - share) < 0.015


def test_a_card_stays_with_its_model_across_plans_and_workers(
    models: tuple[Champion, Champion],
) -> None:
    champion, canary = models
    # Another plan version with the same share (a shadow added, a worker restarted): same cards.
    assert _picked(LivePlan(2, champion, canary, 0.1)) == _picked(
        LivePlan(3, champion, canary, 0.1, (champion,))
    )
    # Widening the share only adds cards: none that the canary decided goes back.
    assert _picked(LivePlan(2, champion, canary, 0.1)) <= _picked(
        LivePlan(4, champion, canary, 0.3)
    )
    # Fixed, not salted per process (Python's hash() is): every worker, every restart agrees.
    assert card_bucket(b"card-000001") == 5673888307051775702


def test_no_canary_decides_nothing_and_the_deciding_roles_are_named(
    models: tuple[Champion, Champion],
) -> None:
    champion, canary = models
    assert _picked(LivePlan(1, champion, None, 0.5)) == set()
    assert _picked(LivePlan(1, champion, canary, 0.0)) == set()
    shadowed = LivePlan(2, champion, None, 0.0, (canary,))
    assert shadowed.decides_with(champion.ref.content_hash)
    assert not shadowed.decides_with(canary.ref.content_hash)  # a shadow never decides
    assert LivePlan(0, None).decides_with(None)  # no model then, no model now
