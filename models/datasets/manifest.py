"""What the store records next to each file: dataset and split manifests.

Framework-free pydantic with no dependency on the simulator (a source's config is plain JSON),
so these models can move to `schemas/` unchanged.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, JsonValue

Sha256Hex = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ColumnSpec(_Record):
    name: str
    type: str = Field(description="Arrow type, as pyarrow prints it (e.g. decimal128(11, 2))")
    nullable: bool


class TimeSpan(_Record):
    start: AwareDatetime = Field(description="Earliest time in the file (inclusive)")
    end: AwareDatetime = Field(description="Latest time in the file (inclusive)")


class SimulatorSource(_Record):
    kind: Literal["simulator"] = "simulator"
    seed: int
    config: dict[str, JsonValue] = Field(description="The full SimulatorConfig, as JSON")


class ImportSource(_Record):
    kind: Literal["import"] = "import"
    path: str = Field(description="The imported file, as given")
    sha256: Sha256Hex = Field(description="sha256 of the imported file's bytes")
    format: Literal["csv", "parquet"]
    rows_read: int
    rows_rejected: int


DatasetSource = Annotated[SimulatorSource | ImportSource, Field(discriminator="kind")]


class WriterInfo(_Record):
    """What the canonical bytes depend on beyond the content: same versions, same bytes."""

    pyarrow: str
    numpy: str
    parquet_format: str
    compression: str
    row_group_size: int


class DatasetManifest(_Record):
    manifest_version: Literal[1] = 1
    id: Sha256Hex = Field(description="sha256 of the canonical Parquet file")
    kind: Literal["transactions", "labels"]
    size_bytes: int
    rows: int
    columns: list[ColumnSpec]
    time_span: TimeSpan | None = Field(
        description="event_time span (transactions) or labelled_at span (labels); None if empty"
    )
    fraud_rate: float | None = Field(
        description="Share of rows with is_fraud true, over rows where it is known; None if unknown"
    )
    label_count: int | None = Field(description="Labels: rows in the file; transactions: None")
    fraud_label_count: int | None = Field(description="Labels: rows saying fraud")
    transactions_id: Sha256Hex | None = Field(description="Labels: the transactions they label")
    source: DatasetSource
    created_at: AwareDatetime
    created_by: str
    writer: WriterInfo


class SplitSpec(_Record):
    """Where to cut a dataset in time: by row fractions (of the event-time order) or by dates."""

    fractions: tuple[float, float, float] | None = (0.7, 0.15, 0.15)
    validation_start: AwareDatetime | None = None
    test_start: AwareDatetime | None = None
    gap: timedelta = Field(
        default=timedelta(0),
        description="Rows this close after a cut are dropped, e.g. to keep windowed features "
        "of one split from seeing the previous split's last hours",
    )


class SplitPart(_Record):
    rows: int
    start: AwareDatetime | None
    end: AwareDatetime | None
    fraud_rate: float | None
    ids_sha256: Sha256Hex = Field(
        description="sha256 of the part's transaction ids, sorted by UTF-8 bytes, each followed "
        "by a newline"
    )


class SplitManifest(_Record):
    manifest_version: Literal[1] = 1
    id: Sha256Hex = Field(description="sha256 of this manifest's content without id/created_at")
    dataset_id: Sha256Hex
    spec: SplitSpec
    validation_start: AwareDatetime = Field(description="First instant of validation (cut 1)")
    test_start: AwareDatetime = Field(description="First instant of test (cut 2)")
    train: SplitPart
    validation: SplitPart
    test: SplitPart
    created_at: AwareDatetime
