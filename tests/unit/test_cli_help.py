"""What `--help` promises: no subcommands where a command takes none, choices as choices."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from stream.cli import app

runner = CliRunner()


@pytest.mark.parametrize("command", ["worker", "demo", "chaos", "score", "load"])
def test_commands_without_subcommands_show_none(command: str) -> None:
    done = runner.invoke(app, [command, "--help"], env={"COLUMNS": "120"})
    assert done.exit_code == 0, done.output
    usage = next(line for line in done.output.splitlines() if "Usage:" in line)
    assert "COMMAND" not in usage and "[ARGS]" not in usage, usage


def test_approval_stage_is_a_choice() -> None:
    done = runner.invoke(app, ["registry", "approve", "--help"], env={"COLUMNS": "120"})
    assert "canary|champion" in done.output
    refused = runner.invoke(
        app, ["registry", "approve", "p", "--actor", "a", "--key", "k", "--stage", "bogus"]
    )
    assert refused.exit_code == 2
    assert "bogus" in refused.output


def test_load_wants_a_count_or_a_duration() -> None:
    done = runner.invoke(app, ["load", "--rate", "10"])
    assert done.exit_code == 2
    assert "--count, --duration or both" in done.output
