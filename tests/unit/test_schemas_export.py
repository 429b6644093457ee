"""The committed JSON Schema files are exactly what `schemas.export` generates."""

from __future__ import annotations

import json
from pathlib import Path

from schemas.export import DEFAULT_OUT_DIR, RECORDS, export_all, main, rendered_files, stale_files


def test_committed_json_schemas_are_up_to_date() -> None:
    stale = stale_files(DEFAULT_OUT_DIR)
    assert not stale, f"stale JSON Schema files {stale}: run `python -m schemas.export`"


def test_export_writes_one_stable_file_per_record(tmp_path: Path) -> None:
    written = export_all(tmp_path)
    assert sorted(p.name for p in written) == sorted(f"{r.__name__}.json" for r in RECORDS)
    first = {p.name: p.read_text(encoding="utf-8") for p in written}
    export_all(tmp_path)
    assert {p.name: p.read_text(encoding="utf-8") for p in written} == first
    assert first == rendered_files()


def test_each_file_is_a_sorted_pretty_json_schema(tmp_path: Path) -> None:
    for path in export_all(tmp_path):
        text = path.read_text(encoding="utf-8")
        schema = json.loads(text)
        assert text == json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert schema["type"] == "object"
        assert "schema_version" in schema["properties"]


def test_check_mode_reports_stale_and_foreign_files(tmp_path: Path) -> None:
    assert main([str(tmp_path), "--check"]) == 1  # nothing there yet
    assert main([str(tmp_path)]) == 0
    assert main([str(tmp_path), "--check"]) == 0
    (tmp_path / "Decision.json").write_text("{}\n", encoding="utf-8")
    (tmp_path / "Gone.json").write_text("{}\n", encoding="utf-8")
    assert stale_files(tmp_path) == ["Decision.json", "Gone.json"]
