"""The dead-letter categories are the same in the code, the exported JSON Schema and the README."""

from __future__ import annotations

import json
import re
from pathlib import Path

from schemas.categories import ErrorCategory
from schemas.export import DEFAULT_OUT_DIR

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_table_lists_every_category_once() -> None:
    text = README.read_text(encoding="utf-8")
    table = text[text.index("**Dead-letter categories**") :].split("\n\n")[1]
    listed = re.findall(r"^\| `([a-z0-9_]+)` \|", table, flags=re.MULTILINE)
    assert len(listed) == len(set(listed))
    assert set(listed) == {category.value for category in ErrorCategory}


def test_the_json_schema_enumerates_every_category() -> None:
    schema = json.loads((DEFAULT_OUT_DIR / "DeadLetter.json").read_text(encoding="utf-8"))
    assert schema["$defs"]["ErrorCategory"]["enum"] == [c.value for c in ErrorCategory]
