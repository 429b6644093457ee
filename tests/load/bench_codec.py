"""Benchmark of the transaction codec: cost per event of decode + validate, against baselines
measured in the same run.

    python -m tests.load.bench_codec [--rounds 30] [--calls 2000]

Not a test: it prints figures and asserts nothing. Each candidate runs `calls` times per round;
rounds interleave the candidates so background load hits them alike; the table shows the best
and the median round, per call. Ratios use the medians.

Baselines:
- json.loads of the same bytes (parsing alone, in C);
- a pydantic model of the same 17 fields typed plain str/int/float/bool (parse + build a model,
  no constraints): the floor for any pydantic contract of this shape;
- a 1-field pydantic model: the fixed cost of one validate_json call;
- the Transaction contract as first written (Decimal constraints, AfterValidators for the
  code lists): the "before" of this codec's tuning.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Annotated

import pydantic
import pydantic_core
from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from schemas import examples
from schemas.codec import UTC, DecodeLimits, SourceCoords, encode_record, transaction_decoder
from schemas.codes import COUNTRIES, CURRENCIES
from schemas.transaction import Channel, EntryMode, Transaction


class PlainShape(BaseModel):
    """The Transaction's fields with no constraints at all."""

    schema_version: int
    transaction_id: str
    card_id: str
    merchant_id: str
    terminal_id: str | None = None
    amount: str
    currency: str
    event_time: str
    mcc: str
    channel: str
    country: str
    entry_mode: str | None = None
    card_present: bool | None = None
    device_id_hash: str | None = None
    ip_hash: str | None = None
    customer_lat: float | None = None
    customer_lon: float | None = None


class OneField(BaseModel):
    a: str


def _currency(code: str) -> str:
    if code not in CURRENCIES:
        raise ValueError(code)
    return code


def _country(code: str) -> str:
    if code not in COUNTRIES:
        raise ValueError(code)
    return code


_Id = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]
_Hash = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class TransactionBefore(BaseModel):
    """The Transaction contract as first written (commit afc2a39), for the before/after figure."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    schema_version: int = Field(ge=1)
    transaction_id: _Id
    card_id: _Id
    merchant_id: _Id
    terminal_id: _Id | None = None
    amount: Decimal = Field(gt=0, le=Decimal("1000000.00"), max_digits=9, decimal_places=2)
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$"), AfterValidator(_currency)]
    event_time: AwareDatetime
    mcc: str = Field(pattern=r"^[0-9]{4}$")
    channel: Channel
    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$"), AfterValidator(_country)]
    entry_mode: EntryMode | None = None
    card_present: bool | None = None
    device_id_hash: _Hash | None = None
    ip_hash: _Hash | None = None
    customer_lat: float | None = Field(default=None, ge=-90, le=90, allow_inf_nan=False)
    customer_lon: float | None = Field(default=None, ge=-180, le=180, allow_inf_nan=False)


def measure(
    candidates: dict[str, Callable[[], object]], rounds: int, calls: int
) -> dict[str, list[float]]:
    per_call: dict[str, list[float]] = {name: [] for name in candidates}
    for fn in candidates.values():  # warm up caches and lazy imports
        for _ in range(200):
            fn()
    for _ in range(rounds):
        for name, fn in candidates.items():
            start = time.perf_counter_ns()
            for _ in range(calls):
                fn()
            per_call[name].append((time.perf_counter_ns() - start) / calls)
    return per_call


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.load.bench_codec")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args(argv)

    raw = encode_record(examples.transaction())
    one = b'{"a":"x"}'
    now = datetime(2026, 11, 2, 10, 16, tzinfo=UTC)
    source = SourceCoords("fraud.transactions.v1", 0, 1, b"card-42", 1_793_614_530_250)
    decoder = transaction_decoder("bench")
    with_duplicates_check = transaction_decoder("bench", DecodeLimits(reject_duplicate_keys=True))
    with_depth_scan = transaction_decoder("bench", DecodeLimits(max_depth=32))
    nested_raw = json.dumps(json.loads(raw) | {"three_ds": {"eci": [5]}}).encode()
    bad_currency = raw.replace(b'"EUR"', b'"EUX"')
    not_utf8 = raw.replace(b"card-42", b"card-\xff")
    fresh_nows = iter(now + timedelta(microseconds=i) for i in range(10**9))
    validate = Transaction.__pydantic_validator__.validate_json
    decision = examples.decision()

    assert isinstance(decoder.decode(raw, source, now=now), Transaction)
    assert isinstance(with_depth_scan.decode(nested_raw, source, now=now), Transaction)

    valid_event: dict[str, Callable[[], object]] = {
        "json.loads (baseline)": lambda: json.loads(raw),
        "pydantic_core.from_json": lambda: pydantic_core.from_json(raw),
        "1-field model validate_json": lambda: OneField.model_validate_json(one),
        "plain-str model (baseline)": lambda: PlainShape.model_validate_json(raw),
        "Transaction before (afc2a39)": lambda: TransactionBefore.model_validate_json(raw),
        "Transaction.model_validate_json": lambda: Transaction.model_validate_json(raw),
        "Transaction validator.validate_json": lambda: validate(raw),
        "decode (codec: decode+validate)": lambda: decoder.decode(raw, source, now=now),
        "decode, new `now` every call": lambda: decoder.decode(raw, source, now=next(fresh_nows)),
        "decode, max_depth=32, flat event": lambda: with_depth_scan.decode(raw, source, now=now),
        "decode, max_depth=32, nested event": lambda: with_depth_scan.decode(
            nested_raw, source, now=now
        ),
        "decode, reject_duplicate_keys": lambda: with_duplicates_check.decode(raw, source, now=now),
    }
    other: dict[str, Callable[[], object]] = {
        "dead letter: invalid currency": lambda: decoder.decode(bad_currency, source, now=now),
        "dead letter: not UTF-8": lambda: decoder.decode(not_utf8, source, now=now),
        "encode Transaction": lambda: encode_record(examples.transaction()),
        "encode Decision (prebuilt)": lambda: encode_record(decision),
    }
    results = measure(valid_event | other, args.rounds, args.calls)

    load = os.getloadavg()
    print(
        f"python {platform.python_version()}, pydantic {pydantic.VERSION}, "
        f"pydantic-core {pydantic_core.__version__}, {os.cpu_count()} CPUs, "
        f"load {load[0]:.2f}/{load[1]:.2f}; {args.rounds} rounds x {args.calls} calls; "
        f"event {len(raw)} bytes"
    )
    medians = {name: statistics.median(values) for name, values in results.items()}
    json_base = medians["json.loads (baseline)"]
    plain_base = medians["plain-str model (baseline)"]
    print(f"{'per call':<40} {'best µs':>8} {'median µs':>10} {'÷ json.loads':>13} {'÷ plain':>8}")
    for name, values in results.items():
        print(
            f"{name:<40} {min(values) / 1000:>8.2f} {medians[name] / 1000:>10.2f} "
            f"{medians[name] / json_base:>13.2f} {medians[name] / plain_base:>8.2f}"
        )
    decode_us = medians["decode (codec: decode+validate)"] / 1000
    goal = "meets" if decode_us <= 5 else "misses"
    print(f"valid event, decode+validate: {decode_us:.2f} µs median ({goal} the 5 µs goal)")


if __name__ == "__main__":
    main()
