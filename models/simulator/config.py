"""What to simulate: one frozen, validated config, loadable from JSON or TOML.

Same config (seed included) → byte-identical output on the same numpy/pyarrow versions.
Rates of fraud are per 1,000 cards (or merchants) per day, so a smaller population keeps the
same fraud rate.
"""

from __future__ import annotations

import json
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Self

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from models.simulator.geography import COUNTRIES


def _ordered(bounds: tuple[float, float]) -> tuple[float, float]:
    if bounds[0] > bounds[1]:
        raise ValueError(f"range {bounds} has its low end above its high end")
    return bounds


def _ordered_int(bounds: tuple[int, int]) -> tuple[int, int]:
    if bounds[0] > bounds[1]:
        raise ValueError(f"range {bounds} has its low end above its high end")
    return bounds


FloatRange = Annotated[tuple[float, float], AfterValidator(_ordered)]
"""[low, high] of a uniform draw."""
IntRange = Annotated[tuple[Annotated[int, Field(ge=1)], int], AfterValidator(_ordered_int)]
"""[low, high] of a uniform integer draw, both ends included."""
Share = Annotated[float, Field(ge=0.0, le=1.0)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CompromisedTerminalConfig(_Frozen):
    """(a) A breached or colluding terminal pushes stolen cards through in a burst.

    Revealed by per-merchant windows: transaction count and mean amount over the last hours
    against the merchant's own history; also many distinct cards at one terminal.
    """

    incidents_per_1k_merchants_per_day: float = Field(default=0.1, ge=0)
    duration_hours: FloatRange = (6.0, 48.0)
    transactions: IntRange = (15, 50)
    amount_factor: FloatRange = (3.0, 8.0)
    """Fraud amounts relative to the terminal's own mean legit amount."""


class InflatedAmountsConfig(_Frozen):
    """(b) A compromised card is used for a few days for purchases several times its usual size.

    Revealed by per-card amount against the card's 30-day mean (ratio or z-score).
    """

    incidents_per_1k_cards_per_day: float = Field(default=0.4, ge=0)
    duration_days: FloatRange = (2.0, 5.0)
    transactions: IntRange = (3, 8)
    amount_factor: FloatRange = (3.0, 8.0)
    ecom_share: Share = 0.8
    """The rest happen at shops near the cardholder (a cloned card used locally)."""


class CardTestingConfig(_Frozen):
    """(c) Small online probes in quick succession, then one large purchase ("cash-out").

    Revealed by per-card counts of small-amount ECOM transactions in the last hour(s) and the
    number of distinct devices/merchants; a single small amount is common in legit digital goods.
    """

    incidents_per_1k_cards_per_day: float = Field(default=0.15, ge=0)
    probes: IntRange = (5, 20)
    probe_amount: FloatRange = (0.5, 4.99)
    probe_gap_minutes_mean: float = Field(default=4.0, gt=0)
    cash_out_delay_minutes_mean: float = Field(default=30.0, gt=0)
    cash_out_amount: FloatRange = (250.0, 1500.0)


class ImpossibleTravelConfig(_Frozen):
    """(d) A cloned card is used at a terminal in another country soon after a genuine payment.

    Revealed by distance from the previous card-present transaction over the time since it
    (implied speed), or a change of country within too short a time.
    """

    incidents_per_1k_cards_per_day: float = Field(default=0.45, ge=0)
    transactions: IntRange = (1, 3)
    first_after_minutes: FloatRange = (10.0, 60.0)
    gap_minutes_mean: float = Field(default=25.0, gt=0)
    min_distance_km: float = Field(default=600.0, ge=0)


class FraudConfig(_Frozen):
    compromised_terminal: CompromisedTerminalConfig = CompromisedTerminalConfig()
    inflated_amounts: InflatedAmountsConfig = InflatedAmountsConfig()
    card_testing: CardTestingConfig = CardTestingConfig()
    impossible_travel: ImpossibleTravelConfig = ImpossibleTravelConfig()
    warmup_days: int = Field(default=14, ge=0)
    """No fraud starts before this day, so windowed features have a history to compare with."""


class LabelConfig(_Frozen):
    """Fraud is learnt late: a cardholder disputes, the issuer confirms, days or weeks later."""

    delay_median_days: float = Field(default=10.0, gt=0)
    delay_sigma: float = Field(default=0.8, ge=0)
    """Log-normal spread of the delay: most labels come in a couple of weeks, a long tail later."""
    delay_days: FloatRange = (1.0, 60.0)
    """Delays are clipped to this range."""
    never_labelled_share: Share = 0.05
    """Share of (incident, card) groups whose fraud is never reported."""
    chargeback_share: Share = 0.6
    """The rest are `confirmed_fraud` (the issuer's own investigation)."""
    duplicate_share: Share = 0.02
    """Share of fraud labels sent a second time later (by the other source)."""
    cleared_share: Share = 0.002
    """Share of legit transactions that get a `cleared` label (reviewed and found genuine)."""


class NewCountryShift(_Frozen):
    country: str = "PT"
    share: Share = 0.3
    """Share of legit ECOM transactions that go to merchants of the new country."""


class MccShift(_Frozen):
    mcc: str = Field(default="5815", pattern=r"^[0-9]{4}$")
    merchant_share: Share = 0.2
    """Share of merchants that trade under `mcc` from the shift on (re-categorised)."""


class ShiftConfig(_Frozen):
    """Distribution shifts from `start_day` on; each part is off when None, and touches only
    its own aspect (see models.simulator.shifts)."""

    start_day: int = Field(ge=0)
    amount_scale: float | None = Field(default=None, gt=0)
    amount_creep_per_day: float | None = Field(default=None, gt=-1)
    """Amounts times (1 + this) ** (days since start_day + 1): a slow creep, compounding."""
    ecom_share: Share | None = None
    """Share of legit POS transactions turned into ECOM ones (same merchant, time and amount)."""
    new_country: NewCountryShift | None = None
    mcc: MccShift | None = None


class SimulatorConfig(_Frozen):
    seed: int = Field(default=7, ge=0)
    n_cards: int = Field(default=5000, ge=1)
    n_merchants: int = Field(default=2000, ge=10)
    start: AwareDatetime = datetime(2025, 1, 6, tzinfo=UTC)
    n_days: int = Field(default=100, ge=1)

    # Sorted by code: the order is canonical (see _canonical_order), whatever a caller passes.
    card_countries: dict[str, float] = Field(
        default={"BE": 0.03, "DE": 0.025, "ES": 0.02, "FR": 0.9, "GB": 0.01, "IT": 0.015},
        validate_default=True,
    )
    merchant_countries: dict[str, float] = Field(
        default={
            "BE": 0.04, "CH": 0.02, "DE": 0.04, "ES": 0.04, "FR": 0.8, "GB": 0.02, "IT": 0.04,
        },
        validate_default=True,
    )  # fmt: skip
    tx_per_day: FloatRange = (0.2, 3.0)
    """Each card's mean daily count is drawn uniformly from this range."""
    mean_amount_eur: FloatRange = (8.0, 90.0)
    """Each card's mean spend per transaction is drawn uniformly from this range."""
    amount_sigma: FloatRange = (0.4, 0.8)
    """Each card's log-normal spread of amounts."""
    city_spread_km: float = Field(default=12.0, gt=0)
    nearby_radius_km: float = Field(default=20.0, gt=0)
    nearby_min_terminals: int = Field(default=5, ge=1)
    nearby_max_terminals: int = Field(default=50, ge=1)
    nearby_reach_km: float = Field(default=60.0, gt=0)
    """Farthest a cardholder goes to a shop or cash machine when nothing is closer."""
    trip_share: Share = 0.25
    """Share of cards whose holder travels abroad once (their card-present spending moves along)."""
    trip_days: IntRange = (2, 7)

    fraud: FraudConfig = FraudConfig()
    labels: LabelConfig = LabelConfig()
    shift: ShiftConfig | None = None

    @field_validator("card_countries", "merchant_countries")
    @classmethod
    def _canonical_order(cls, weights: dict[str, float]) -> dict[str, float]:
        # Generation draws countries in the mapping's order; sorting makes the output depend on
        # the weights only, so a config read back from sorted JSON (a manifest) gives the same data.
        return dict(sorted(weights.items()))

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.start.utcoffset() != UTC.utcoffset(None) or self.start != self.start.replace(
            hour=0, minute=0, second=0, microsecond=0
        ):
            raise ValueError("start must be midnight UTC (days are counted from it)")
        for name, weights in (
            ("card_countries", self.card_countries),
            ("merchant_countries", self.merchant_countries),
        ):
            unknown = sorted(set(weights) - set(COUNTRIES))
            if unknown or not weights or min(weights.values()) <= 0:
                raise ValueError(f"{name}: positive weights over {sorted(COUNTRIES)} required")
        if not set(self.card_countries) <= set(self.merchant_countries):
            raise ValueError(
                "every card country needs merchants (card_countries ⊆ merchant_countries)"
            )
        if self.nearby_min_terminals > self.nearby_max_terminals:
            raise ValueError("nearby_min_terminals exceeds nearby_max_terminals")
        if self.shift is not None:
            self._check_shift(self.shift)
        return self

    def _check_shift(self, shift: ShiftConfig) -> None:
        if shift.start_day >= self.n_days:
            raise ValueError("shift.start_day must fall inside the simulated days")
        if shift.new_country is not None:
            code = shift.new_country.country
            if code not in COUNTRIES or code in self.merchant_countries:
                raise ValueError(f"new country {code!r} must be known and not already trading")

    @property
    def end(self) -> datetime:
        return self.start + timedelta(days=self.n_days)

    @classmethod
    def small(cls, seed: int = 7, **overrides: Any) -> SimulatorConfig:
        """About 7,000 transactions in well under a second, with several incidents of every
        fraud scenario (so a fraud rate of a few percent: a showcase, not a realistic mix)."""
        fraud = FraudConfig(
            warmup_days=5,
            compromised_terminal=CompromisedTerminalConfig(
                incidents_per_1k_merchants_per_day=3.0, transactions=(8, 15)
            ),
            inflated_amounts=InflatedAmountsConfig(incidents_per_1k_cards_per_day=3.0),
            card_testing=CardTestingConfig(incidents_per_1k_cards_per_day=2.5),
            impossible_travel=ImpossibleTravelConfig(incidents_per_1k_cards_per_day=3.0),
        )
        values: dict[str, Any] = {
            "seed": seed,
            "n_cards": 200,
            "n_merchants": 150,
            "n_days": 20,
            "fraud": fraud,
            **overrides,
        }
        return cls(**values)

    @classmethod
    def from_file(cls, path: str | Path) -> SimulatorConfig:
        """Load from `.json` or `.toml` (TOML has no null: leave `shift` out to switch it off)."""
        source = Path(path)
        text = source.read_text(encoding="utf-8")
        if source.suffix == ".toml":
            return cls.model_validate(tomllib.loads(text))
        if source.suffix == ".json":
            return cls.model_validate(json.loads(text))
        raise ValueError(f"{source}: expected a .json or .toml file")
