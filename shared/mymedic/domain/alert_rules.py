"""Alert rules, a tenant's configuration: which figure to watch, the threshold, the
window, the branches and who is told. One model per metric, told apart by ``metric``,
so that an unknown metric or a parameter of another metric is refused when saved.

What fired is a :class:`Firing`: the rule, the branch and subject, the numbers and the
threshold, in words and as figures, for the e-mail and for the ``alert.sent`` record.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, model_validator

from mymedic.domain.types import CurrencyCode, Identifier, MinorUnits

ALL_BRANCHES = "*"
Metric = Literal[
    "low_utilization",
    "receivables_aging",
    "nps_drop",
    "no_show_spike",
    "stale_data",
    "data_quality",
]
# The integrations that quarantine records they cannot ingest (integration_quarantine).
QuarantineSource = Literal["zoho"]
Source = Literal[QuarantineSource, "stripe", "razorpay", "google_ads"]
WindowDays = Annotated[int, Field(ge=1, le=31)]
Percent = Annotated[float, Field(gt=0, lt=100)]
MinCount = Annotated[int, Field(ge=1, le=100_000)]


class _Rule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    rule_id: Identifier
    # Branch ids, or ["*"]: every branch of the tenant, present and future.
    branches: Annotated[list[Identifier | Literal["*"]], Field(min_length=1, max_length=100)]
    recipients: Annotated[list[EmailStr], Field(min_length=1, max_length=20)]
    enabled: bool = True

    @model_validator(mode="after")
    def _branches_or_all(self) -> _Rule:
        if ALL_BRANCHES in self.branches and len(self.branches) > 1:
            raise ValueError('branches is either ["*"] or a list of branch ids')
        if len(set(self.branches)) != len(self.branches):
            raise ValueError("a branch is named twice")
        return self

    def covers(self, branch_id: str) -> bool:
        return self.branches == [ALL_BRANCHES] or branch_id in self.branches


class LowUtilizationRule(_Rule):
    """Booked minutes below ``below_percent`` of the available minutes of a room or a
    clinician over the ``window_days`` days ending on the window's day."""

    metric: Literal["low_utilization"]
    subject: Literal["room", "clinician"]
    below_percent: Percent
    window_days: WindowDays = 7


class ReceivablesAgingRule(_Rule):
    """More than ``above_minor`` (in ``currency``) owed on invoices more than
    ``over_days`` days past their due date, as of the end of the window's day."""

    metric: Literal["receivables_aging"]
    over_days: int = Field(ge=1, le=365)
    above_minor: MinorUnits
    currency: CurrencyCode


class NpsDropRule(_Rule):
    """The NPS of the window fell by ``drop_points`` or more from the window before,
    and/or is below ``below_nps``; windows with fewer than ``min_responses`` responses
    say nothing."""

    metric: Literal["nps_drop"]
    window_days: WindowDays = 7
    drop_points: int | None = Field(default=None, ge=1, le=200)
    below_nps: int | None = Field(default=None, ge=-100, le=100)
    min_responses: MinCount = 5

    @model_validator(mode="after")
    def _a_threshold(self) -> NpsDropRule:
        if self.drop_points is None and self.below_nps is None:
            raise ValueError("give drop_points, below_nps or both")
        return self


class NoShowSpikeRule(_Rule):
    """The window's no-show rate is above ``rate_above_percent`` and/or above
    ``vs_baseline_factor`` times the rate of the ``baseline_windows`` windows before;
    fewer than ``min_appointments`` appointments in the window say nothing."""

    metric: Literal["no_show_spike"]
    window_days: WindowDays = 7
    rate_above_percent: Percent | None = None
    vs_baseline_factor: float | None = Field(default=None, gt=1, le=100)
    baseline_windows: int = Field(default=4, ge=1, le=12)
    min_appointments: MinCount = 10

    @model_validator(mode="after")
    def _a_threshold(self) -> NoShowSpikeRule:
        if self.rate_above_percent is None and self.vs_baseline_factor is None:
            raise ValueError("give rate_above_percent, vs_baseline_factor or both")
        return self


class StaleDataRule(_Rule):
    """Nothing recorded from ``source`` for ``hours`` hours (tenant-wide: a source's
    webhooks and syncs are not per branch, so ``branches`` only scopes who cares)."""

    metric: Literal["stale_data"]
    source: Source
    hours: int = Field(ge=1, le=720)


class DataQualityRule(_Rule):
    """More than ``above_count`` records of ``source`` quarantined and not resolved as of
    the end of the window's day: a state, so no window. Tenant-wide, as stale data."""

    metric: Literal["data_quality"]
    source: QuarantineSource
    above_count: int = Field(ge=0, le=1_000_000)


AnyRule = (
    LowUtilizationRule
    | ReceivablesAgingRule
    | NpsDropRule
    | NoShowSpikeRule
    | StaleDataRule
    | DataQualityRule
)
AlertRule = Annotated[AnyRule, Field(discriminator="metric")]

Figure = int | float | str | None


class Firing(BaseModel):
    """One thing that fired: ``subject`` is what it is about (``clinician:c1``,
    ``room:r1``, ``branch``, ``source:stripe``, ``quarantine:zoho``); ``reason`` says
    why in words with the numbers, ``figures`` gives them by name (and the threshold)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rule_id: Identifier
    metric: Metric
    branch_id: Identifier | Literal["*"]
    subject: Annotated[str, Field(min_length=1, max_length=200)]
    window_start: date
    window_end: date
    reason: Annotated[str, Field(min_length=1, max_length=1000)]
    figures: dict[str, Figure]

    @property
    def key(self) -> str:
        """What the same alert is: the same rule, window and subject."""
        return f"{self.branch_id}/{self.subject}"
