"""JSON Schema of every record contract, written to `schemas/json/<Record>.json`.

The files are generated, committed, and checked by a test that fails when they are stale, so a
contract change shows up in review as a JSON Schema diff. Output is stable: pretty, sorted keys,
one trailing newline. `python -m schemas.export [OUT_DIR] [--check]`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from schemas.audit import OutcomeAudit
from schemas.base import Record
from schemas.dead_letter import DeadLetter
from schemas.decision import Decision
from schemas.dlq_replay import DeadLetterReplay
from schemas.drift import DriftReport
from schemas.label import FraudLabel
from schemas.model_control import ModelControl
from schemas.scoring_log import ScoringLogRecord
from schemas.transaction import Transaction

RECORDS: tuple[type[Record], ...] = (
    Transaction,
    Decision,
    ScoringLogRecord,
    DeadLetter,
    FraudLabel,
    DriftReport,
    ModelControl,
    DeadLetterReplay,
    OutcomeAudit,
)
"""Every record on a topic. A new record contract is added here, then exported."""

DEFAULT_OUT_DIR = Path(__file__).parent / "json"
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def json_schema(record_type: type[Record]) -> dict[str, Any]:
    """The JSON Schema of what a reader of this record accepts."""
    schema = record_type.model_json_schema(mode="validation")
    schema["$schema"] = JSON_SCHEMA_DIALECT
    schema["$id"] = f"urn:fraudstream:schema:{record_type.__name__}:v{record_type.SCHEMA_VERSION}"
    schema["x-schema-version"] = record_type.SCHEMA_VERSION
    return schema


def render(record_type: type[Record]) -> str:
    return json.dumps(json_schema(record_type), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def rendered_files() -> dict[str, str]:
    """File name → content, for every record."""
    return {f"{record.__name__}.json": render(record) for record in RECORDS}


def export_all(out_dir: Path = DEFAULT_OUT_DIR) -> list[Path]:
    """Write every record's JSON Schema into `out_dir`; returns the files written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in rendered_files().items():
        path = out_dir / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def stale_files(out_dir: Path = DEFAULT_OUT_DIR) -> list[str]:
    """Names of files in `out_dir` that differ from what export_all would write, are missing,
    or belong to no record."""
    expected = rendered_files()
    stale = [
        name
        for name, text in expected.items()
        if not (out_dir / name).is_file() or (out_dir / name).read_text(encoding="utf-8") != text
    ]
    extra = sorted(p.name for p in out_dir.glob("*.json") if p.name not in expected)
    return stale + extra


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m schemas.export", description=__doc__)
    parser.add_argument("out_dir", nargs="?", type=Path, default=DEFAULT_OUT_DIR)
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if the files are stale"
    )
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_files(args.out_dir)
        for name in stale:
            print(f"stale: {args.out_dir / name}", file=sys.stderr)
        return 1 if stale else 0
    for path in export_all(args.out_dir):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
