"""The record the card stage hands to the merchant stage (topic fraud.internal.by-merchant.v1).

Binary, not JSON: it never leaves the worker group, and the merchant stage reads every field
on its hot path. It carries the original input bytes untouched (the merchant stage re-reads
the transaction from them, so the scoring log holds exactly what the payment system sent), the
card features computed at the card stage, and where the input came from.
"""

from __future__ import annotations

import struct
from typing import NamedTuple

from models.features import CardFeatures

_FORMAT_VERSION = 1
_HEADER = struct.Struct("<BHqqqB" + "d" * len(CardFeatures._fields) + "H")


class CardStageOutput(NamedTuple):
    origin_partition: int  # input partition; also names the card-state partition
    origin_offset: int  # input offset that first applied this transaction to the card state
    source_offset: int  # input offset of this very record (differs from origin on a re-drive)
    source_timestamp_ms: int  # Kafka timestamp of the input record: its arrival
    card_replayed: bool  # the card state had already applied this transaction
    card_features: CardFeatures
    key: bytes
    raw: bytes


def encode(output: CardStageOutput) -> bytes:
    header = _HEADER.pack(
        _FORMAT_VERSION,
        output.origin_partition,
        output.origin_offset,
        output.source_offset,
        output.source_timestamp_ms,
        output.card_replayed,
        *output.card_features,
        len(output.key),
    )
    return header + output.key + output.raw


def decode(blob: bytes) -> CardStageOutput:
    fields = _HEADER.unpack_from(blob)
    if fields[0] != _FORMAT_VERSION:
        raise ValueError(f"internal record format {fields[0]} is not {_FORMAT_VERSION}")
    n_features = len(CardFeatures._fields)
    key_length = fields[-1]
    key_end = _HEADER.size + key_length
    return CardStageOutput(
        origin_partition=fields[1],
        origin_offset=fields[2],
        source_offset=fields[3],
        source_timestamp_ms=fields[4],
        card_replayed=bool(fields[5]),
        card_features=CardFeatures(*fields[6 : 6 + n_features]),
        key=blob[_HEADER.size : key_end],
        raw=blob[key_end:],
    )
