"""The simulator config: defaults, validation, loading from files."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from models.simulator import NewCountryShift, ShiftConfig, SimulatorConfig
from models.simulator.__main__ import main


def test_config_round_trips_through_json(tmp_path: Path) -> None:
    config = SimulatorConfig.small(seed=3, shift=ShiftConfig(start_day=10, amount_scale=1.2))
    path = tmp_path / "sim.json"
    path.write_text(config.model_dump_json(), encoding="utf-8")
    assert SimulatorConfig.from_file(path) == config


def test_config_loads_from_toml(tmp_path: Path) -> None:
    path = tmp_path / "sim.toml"
    path.write_text(
        """
seed = 42
n_cards = 300
n_days = 30
start = 2025-02-03T00:00:00Z

[fraud.card_testing]
incidents_per_1k_cards_per_day = 1.0
probes = [4, 9]

[shift]
start_day = 20
ecom_share = 0.3
""",
        encoding="utf-8",
    )
    config = SimulatorConfig.from_file(path)
    assert config.seed == 42 and config.n_days == 30
    assert config.start == datetime(2025, 2, 3, tzinfo=UTC)
    assert config.fraud.card_testing.probes == (4, 9)
    assert config.shift == ShiftConfig(start_day=20, ecom_share=0.3)


@pytest.mark.parametrize(
    "overrides",
    [
        {"start": datetime(2025, 1, 6, 12, tzinfo=UTC)},  # not midnight
        {"start": "2025-01-06T00:00:00+02:00"},  # not UTC
        {"card_countries": {"XX": 1.0}},
        {"card_countries": {"PT": 1.0}},  # cards need local merchants
        {"shift": ShiftConfig(start_day=500)},
        {"shift": ShiftConfig(start_day=5, new_country=NewCountryShift(country="FR"))},
        {"tx_per_day": (3.0, 1.0)},
        {"unknown_field": 1},
    ],
)
def test_inconsistent_configs_are_refused(overrides: dict[str, object]) -> None:
    values = {**json.loads(SimulatorConfig.small().model_dump_json()), **overrides}
    with pytest.raises(ValidationError):
        SimulatorConfig.model_validate(values)


def test_unknown_file_type_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "sim.yaml"
    path.write_text("seed: 1\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"\.json or \.toml"):
        SimulatorConfig.from_file(path)


def test_command_line_simulates_and_stores(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["--small", "--seed", "12", "--store", str(tmp_path)])
    summary = json.loads(capsys.readouterr().out)
    assert (tmp_path / summary["transactions_id"] / "data.parquet").is_file()
    assert (tmp_path / summary["labels_id"] / "manifest.json").is_file()
    assert summary["rows"] > 1000
