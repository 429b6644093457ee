"""Canonical Parquet bytes: one table content, one byte sequence, so its sha256 can be an id.

Every writer setting that could vary is pinned here. The bytes still depend on the pyarrow
version (it writes its name into the file footer and owns the encoders), which is why manifests
record the library versions next to the hash.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

ROW_GROUP_SIZE = 131_072
COMPRESSION = "zstd"
COMPRESSION_LEVEL = 3
PARQUET_FORMAT_VERSION = "2.6"


def conform(table: Any, schema: Any, sort_keys: list[tuple[str, str]]) -> Any:
    """`table` with exactly `schema`'s columns, order and types, rows in `sort_keys` order."""
    missing = [name for name in schema.names if name not in table.column_names]
    if missing:
        raise ValueError(f"table lacks columns {missing}")
    ordered = table.select(schema.names).cast(schema)
    indices = pc.sort_indices(ordered, sort_keys=sort_keys)
    return ordered.take(indices).combine_chunks().replace_schema_metadata(None)


def canonical_parquet_bytes(table: Any) -> bytes:
    """The Parquet encoding of an already conformed table, with every writer setting fixed."""
    sink = pa.BufferOutputStream()
    pq.write_table(
        table,
        sink,
        row_group_size=ROW_GROUP_SIZE,
        version=PARQUET_FORMAT_VERSION,
        data_page_version="1.0",
        compression=COMPRESSION,
        compression_level=COMPRESSION_LEVEL,
        use_dictionary=True,
        write_statistics=True,
        write_page_index=False,
        write_page_checksum=False,
        store_schema=True,
        use_byte_stream_split=False,
    )
    data: bytes = sink.getvalue().to_pybytes()
    return data


def read_parquet_bytes(data: bytes) -> Any:
    """A table from Parquet bytes already in memory (so what was hashed is what is read)."""
    return pq.read_table(pa.BufferReader(data))


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
