"""`fraudstream schemas export|check`: the JSON Schema files producers validate against."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from schemas.export import export_all, stale_files

schemas_app = typer.Typer(help="JSON Schema of every record contract.", no_args_is_help=True)
DEFAULT_DIR = Path(__file__).resolve().parents[2] / "schemas" / "json"
OutDir = Annotated[Path, typer.Option(help="Directory of the .json files")]


@schemas_app.command()
def export(out: OutDir = DEFAULT_DIR) -> None:
    """Regenerate the JSON Schema files."""
    for path in export_all(out):
        typer.echo(str(path))


@schemas_app.command()
def check(out: OutDir = DEFAULT_DIR) -> None:
    """Exit 1 when a committed JSON Schema file is out of date."""
    stale = stale_files(out)
    for path in stale:
        typer.echo(f"stale: {path}")
    raise typer.Exit(1 if stale else 0)
