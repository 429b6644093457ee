"""Schema versions: a reader upgrades older records, refuses newer ones, ignores unknown fields.

A toy contract at version 2 stands in for a future Transaction v2: it renamed `amount_cents` to
`amount_minor` and added `currency`; an upgrade from v1 fills both.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, ClassVar

import pytest
from pydantic import Field

from schemas.base import Record
from schemas.categories import ErrorCategory
from schemas.codec import Decoder, SourceCoords
from schemas.dead_letter import DeadLetter
from schemas.errors import UpgradeError
from schemas.primitives import SchemaVersion
from schemas.versions import TRANSACTION_UPGRADES, UpgradeRegistry

NOW = datetime(2026, 11, 2, 10, 16, tzinfo=UTC)
SOURCE = SourceCoords("toy.v1", 0, 5)


class ToyPayment(Record):
    SCHEMA_VERSION: ClassVar[int] = 2

    schema_version: SchemaVersion = Field(default=2)
    payment_id: str
    amount_minor: int = Field(ge=1)
    currency: str = Field(pattern=r"^[A-Z]{3}$")


TOY_UPGRADES = UpgradeRegistry("ToyPayment", current_version=2)


@TOY_UPGRADES.register(1)
def _v1_to_v2(old: dict[str, Any]) -> dict[str, Any]:
    old["amount_minor"] = old.pop("amount_cents")
    old.setdefault("currency", "EUR")  # v1 was euro-only
    return old


DECODER = Decoder(ToyPayment, worker_id="toy-worker", upgrades=TOY_UPGRADES)


def decode(fields: dict[str, Any]) -> ToyPayment | DeadLetter:
    return DECODER.decode(json.dumps(fields).encode(), SOURCE, now=NOW)


def test_the_current_version_reads_directly() -> None:
    result = decode(
        {"schema_version": 2, "payment_id": "p1", "amount_minor": 250, "currency": "GBP"}
    )
    assert result == ToyPayment(payment_id="p1", amount_minor=250, currency="GBP")


def test_an_older_version_is_upgraded_before_validation() -> None:
    result = decode({"schema_version": 1, "payment_id": "p1", "amount_cents": 250})
    assert result == ToyPayment(schema_version=2, payment_id="p1", amount_minor=250, currency="EUR")


def test_an_upgraded_record_is_validated_like_any_other() -> None:
    dead = decode({"schema_version": 1, "payment_id": "p1", "amount_cents": 0})
    assert isinstance(dead, DeadLetter)
    assert dead.category is ErrorCategory.OUT_OF_RANGE
    assert dead.detail.startswith("after upgrading from version 1: amount_minor")


def test_an_upgrade_that_fails_is_dead_lettered() -> None:
    dead = decode({"schema_version": 1, "payment_id": "p1"})  # no amount_cents
    assert isinstance(dead, DeadLetter)
    assert dead.category is ErrorCategory.UPGRADE_FAILED
    assert "KeyError" in dead.detail


def test_a_newer_version_is_refused_not_guessed_at() -> None:
    dead = decode({"schema_version": 3, "payment_id": "p1", "amount_minor": 1, "currency": "EUR"})
    assert isinstance(dead, DeadLetter)
    assert dead.category is ErrorCategory.UNSUPPORTED_SCHEMA_VERSION
    assert "newer than 2" in dead.detail


def test_a_version_without_an_upgrade_path_is_refused() -> None:
    decoder = Decoder(ToyPayment, worker_id="toy-worker")  # no registry: nothing upgrades
    raw = json.dumps({"schema_version": 1, "payment_id": "p1", "amount_cents": 250}).encode()
    dead = decoder.decode(raw, SOURCE, now=NOW)
    assert isinstance(dead, DeadLetter)
    assert dead.category is ErrorCategory.UNSUPPORTED_SCHEMA_VERSION
    assert "no upgrade" in dead.detail


def test_the_registry_owns_the_version_number() -> None:
    registry = UpgradeRegistry("Toy", current_version=3)
    registry.register(1)(lambda d: d | {"b": 1})
    registry.register(2)(lambda d: d | {"schema_version": 99, "c": 1})  # a careless step
    assert registry.upgrade({"schema_version": 1}) == {"schema_version": 3, "b": 1, "c": 1}
    assert registry.can_upgrade(1)
    assert not UpgradeRegistry("Toy", current_version=3).can_upgrade(1)


def test_the_registry_refuses_impossible_or_repeated_steps() -> None:
    registry = UpgradeRegistry("Toy", current_version=2)
    with pytest.raises(ValueError, match="cannot register"):
        registry.register(2)
    registry.register(1)(lambda d: d)
    with pytest.raises(ValueError, match="already"):
        registry.register(1)(lambda d: d)
    with pytest.raises(UpgradeError, match="newer"):
        registry.upgrade({"schema_version": 5})
    with pytest.raises(UpgradeError, match="not an integer"):
        registry.upgrade({"schema_version": True})


def test_transactions_have_no_older_version_yet() -> None:
    assert TRANSACTION_UPGRADES.current_version == 1
    assert TRANSACTION_UPGRADES.can_upgrade(1)
