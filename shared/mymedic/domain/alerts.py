"""Alert rules checked against figures, without I/O: given a rule, the window's last
day and the figures, what fired (a list of :class:`Firing`), or nothing.

Windows: a rule with ``window_days`` W looks at the W days ending on the window's day
D, both included (the branch's calendar); "the window before" is the W days before
that. Receivables are as of the end of D. Stale data and quarantined records are as of
the end of D (00:00 UTC the day after) or now, whichever is earlier. Ratios are of sums
over the window, never averages of daily ratios.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from mymedic.domain.alert_rules import (
    ALL_BRANCHES,
    AnyRule,
    DataQualityRule,
    Firing,
    LowUtilizationRule,
    NoShowSpikeRule,
    NpsDropRule,
    ReceivablesAgingRule,
    StaleDataRule,
)
from mymedic.domain.money import minor_unit_exponent


@dataclass(frozen=True)
class UtilizationDay:
    branch_id: str
    subject: str  # room | clinician
    subject_id: str
    day: date
    available_minutes: int
    booked_minutes: int


@dataclass(frozen=True)
class NoShowDay:
    branch_id: str
    day: date
    appointments: int
    no_shows: int


@dataclass(frozen=True)
class NpsDay:
    branch_id: str
    day: date
    responses: int
    promoters: int
    detractors: int


@dataclass(frozen=True)
class ReceivableMovement:
    branch_id: str
    currency: str
    invoice_id: str
    due_on: date
    on_date: date
    amount_minor: int


@dataclass(frozen=True)
class QuarantinedRecord:
    """A record an integration could not ingest, at its latest quarantine."""

    source: str
    module: str
    quarantined_at: datetime
    resolved_at: datetime | None


@dataclass(frozen=True)
class Figures:
    """A tenant's figures around the window; each rule reads the ones of its metric."""

    utilization: tuple[UtilizationDay, ...] = ()
    no_shows: tuple[NoShowDay, ...] = ()
    nps: tuple[NpsDay, ...] = ()
    receivables: tuple[ReceivableMovement, ...] = ()
    # The last time each source (zoho, stripe, razorpay, google_ads) delivered anything.
    last_seen: dict[str, datetime] = field(default_factory=dict)
    quarantined: tuple[QuarantinedRecord, ...] = ()


def window(days: int, end: date, back: int = 0) -> tuple[date, date]:
    """The ``days`` days ending on ``end``, or ``back`` such windows before it."""
    last = end - timedelta(days=days * back)
    return last - timedelta(days=days - 1), last


def evaluate(rule: AnyRule, end: date, figures: Figures, now: datetime) -> list[Firing]:
    match rule:
        case LowUtilizationRule():
            return low_utilization(rule, end, figures.utilization)
        case ReceivablesAgingRule():
            return receivables_aging(rule, end, figures.receivables)
        case NpsDropRule():
            return nps_drop(rule, end, figures.nps)
        case NoShowSpikeRule():
            return no_show_spike(rule, end, figures.no_shows)
        case StaleDataRule():
            return stale_data(rule, end, figures.last_seen, now)
        case DataQualityRule():
            return data_quality(rule, end, figures.quarantined, now)


def low_utilization(
    rule: LowUtilizationRule, end: date, days: Iterable[UtilizationDay]
) -> list[Firing]:
    """Fires for each room or clinician whose booked minutes over the window are below
    ``below_percent`` of its available minutes (none available: nothing to say)."""
    start, end = window(rule.window_days, end)
    minutes: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for row in days:
        if row.subject == rule.subject and start <= row.day <= end and rule.covers(row.branch_id):
            totals = minutes[(row.branch_id, row.subject_id)]
            totals[0] += row.booked_minutes
            totals[1] += row.available_minutes
    firings = []
    for (branch_id, subject_id), (booked, available) in sorted(minutes.items()):
        if available <= 0 or booked * 100 >= rule.below_percent * available:
            continue
        percent = round(100 * booked / available, 1)
        firings.append(
            _firing(
                rule,
                branch_id,
                subject=f"{rule.subject}:{subject_id}",
                start=start,
                end=end,
                reason=f"{rule.subject} {subject_id} at branch {branch_id} was booked {booked} of "
                f"{available} available minutes ({percent:g}%) from {start} to {end}, "
                f"below {rule.below_percent:g}%",
                booked_minutes=booked,
                available_minutes=available,
                utilization_percent=percent,
                below_percent=rule.below_percent,
            )
        )
    return firings


def receivables_aging(
    rule: ReceivablesAgingRule, end: date, movements: Iterable[ReceivableMovement]
) -> list[Firing]:
    """Fires for each branch whose invoices more than ``over_days`` past due (end - due_on
    > over_days) still have more than ``above_minor`` owing as of the end of ``end``."""
    balances: dict[tuple[str, str], int] = defaultdict(int)
    for row in movements:
        overdue = (end - row.due_on).days > rule.over_days
        if (
            overdue
            and row.on_date <= end
            and row.currency == rule.currency
            and rule.covers(row.branch_id)
        ):
            balances[(row.branch_id, row.invoice_id)] += row.amount_minor
    owed: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for (branch_id, _), balance in balances.items():
        if balance > 0:
            owed[branch_id][0] += balance
            owed[branch_id][1] += 1
    firings = []
    for branch_id, (total, invoices) in sorted(owed.items()):
        if total <= rule.above_minor:
            continue
        firings.append(
            _firing(
                rule,
                branch_id,
                subject="branch",
                start=end,
                end=end,
                reason=f"branch {branch_id} is owed {money(total, rule.currency)} on {invoices} "
                f"invoice(s) more than {rule.over_days} days past due as of {end}, above "
                f"{money(rule.above_minor, rule.currency)}",
                outstanding_minor=total,
                invoices=invoices,
                currency=rule.currency,
                over_days=rule.over_days,
                above_minor=rule.above_minor,
            )
        )
    return firings


def nps(promoters: int, detractors: int, responses: int) -> float:
    return round(100 * (promoters - detractors) / responses, 1)


def nps_drop(rule: NpsDropRule, end: date, days: Iterable[NpsDay]) -> list[Firing]:
    """Fires for each branch whose NPS over the window (at least ``min_responses``) is
    ``drop_points`` or more below the window before's (also at least ``min_responses``),
    or below ``below_nps``."""
    start, end = window(rule.window_days, end)
    before_start, before_end = window(rule.window_days, end, back=1)
    counts: dict[tuple[str, bool], list[int]] = defaultdict(lambda: [0, 0, 0])
    for row in days:
        if not rule.covers(row.branch_id):
            continue
        if start <= row.day <= end:
            current = True
        elif before_start <= row.day <= before_end:
            current = False
        else:
            continue
        totals = counts[(row.branch_id, current)]
        totals[0] += row.responses
        totals[1] += row.promoters
        totals[2] += row.detractors
    firings = []
    for branch_id in sorted({branch for branch, _ in counts}):
        responses, promoters, detractors = counts.get((branch_id, True), [0, 0, 0])
        if responses < rule.min_responses:
            continue
        score = nps(promoters, detractors, responses)
        before_responses, before_promoters, before_detractors = counts.get(
            (branch_id, False), [0, 0, 0]
        )
        before = (
            nps(before_promoters, before_detractors, before_responses)
            if before_responses >= rule.min_responses
            else None
        )
        reasons = []
        drop = rule.drop_points
        if drop is not None and before is not None and before - score >= drop:
            reasons.append(
                f"down {before - score:g} points from {before:g} ({before_responses} "
                f"responses, {before_start} to {before_end}), a drop of "
                f"{drop} or more"
            )
        if rule.below_nps is not None and score < rule.below_nps:
            reasons.append(f"below {rule.below_nps}")
        if not reasons:
            continue
        firings.append(
            _firing(
                rule,
                branch_id,
                subject="branch",
                start=start,
                end=end,
                reason=f"NPS of branch {branch_id} was {score:g} ({promoters} promoters, "
                f"{detractors} detractors of {responses} responses) from {start} to {end}: "
                + "; ".join(reasons),
                nps=score,
                responses=responses,
                promoters=promoters,
                detractors=detractors,
                previous_nps=before,
                previous_responses=before_responses,
                drop_points=rule.drop_points,
                below_nps=rule.below_nps,
            )
        )
    return firings


def no_show_spike(rule: NoShowSpikeRule, end: date, days: Iterable[NoShowDay]) -> list[Firing]:
    """Fires for each branch with at least ``min_appointments`` in the window whose
    no-show rate is above ``rate_above_percent``, or above ``vs_baseline_factor`` times
    the rate of the ``baseline_windows`` windows before, pooled (the baseline needs
    ``min_appointments`` too)."""
    start, end = window(rule.window_days, end)
    baseline_start, _ = window(rule.window_days, end, back=rule.baseline_windows)
    counts: dict[tuple[str, bool], list[int]] = defaultdict(lambda: [0, 0])
    for row in days:
        if not rule.covers(row.branch_id) or not baseline_start <= row.day <= end:
            continue
        totals = counts[(row.branch_id, row.day >= start)]
        totals[0] += row.appointments
        totals[1] += row.no_shows
    firings = []
    for branch_id in sorted({branch for branch, _ in counts}):
        appointments, no_shows = counts.get((branch_id, True), [0, 0])
        if appointments < rule.min_appointments:
            continue
        rate = 100 * no_shows / appointments
        base_appointments, base_no_shows = counts.get((branch_id, False), [0, 0])
        baseline = (
            100 * base_no_shows / base_appointments
            if base_appointments >= rule.min_appointments
            else None
        )
        reasons = []
        if rule.rate_above_percent is not None and rate > rule.rate_above_percent:
            reasons.append(f"above {rule.rate_above_percent:g}%")
        factor = rule.vs_baseline_factor
        if factor is not None and baseline is not None and rate > factor * baseline:
            reasons.append(
                f"more than {factor:g} times the {round(baseline, 1):g}% "
                f"({base_no_shows} of {base_appointments}) of the {rule.baseline_windows} "
                f"windows before, from {baseline_start}"
            )
        if not reasons:
            continue
        firings.append(
            _firing(
                rule,
                branch_id,
                subject="branch",
                start=start,
                end=end,
                reason=f"no-show rate of branch {branch_id} was {round(rate, 1):g}% ({no_shows} of "
                f"{appointments} appointments) from {start} to {end}: " + "; ".join(reasons),
                no_show_percent=round(rate, 1),
                no_shows=no_shows,
                appointments=appointments,
                baseline_percent=round(baseline, 1) if baseline is not None else None,
                baseline_appointments=base_appointments,
                rate_above_percent=rule.rate_above_percent,
                vs_baseline_factor=rule.vs_baseline_factor,
            )
        )
    return firings


def stale_data(
    rule: StaleDataRule, end: date, last_seen: dict[str, datetime], now: datetime
) -> list[Firing]:
    """Fires when nothing came from the source for more than ``hours`` hours (or ever)
    as of the end of ``end`` or now, whichever is earlier. Tenant-wide."""
    as_of = end_of_day_or_now(end, now)
    last = last_seen.get(rule.source)
    if last is not None and as_of - last <= timedelta(hours=rule.hours):
        return []
    silent = (
        f"for {round((as_of - last).total_seconds() / 3600, 1):g} hours (last at "
        f"{last.astimezone(UTC).isoformat()})"
        if last is not None
        else "ever"
    )
    return [
        _firing(
            rule,
            ALL_BRANCHES,
            subject=f"source:{rule.source}",
            start=end,
            end=end,
            reason=f"nothing was received from {rule.source} {silent} as of "
            f"{as_of.isoformat()}, more than {rule.hours} hours",
            last_recorded_at=last.astimezone(UTC).isoformat() if last is not None else None,
            silent_hours=(
                round((as_of - last).total_seconds() / 3600, 1) if last is not None else None
            ),
            hours=rule.hours,
        )
    ]


def data_quality(
    rule: DataQualityRule, end: date, records: Iterable[QuarantinedRecord], now: datetime
) -> list[Firing]:
    """Fires when more than ``above_count`` records of the source were quarantined and not
    resolved as of the end of ``end`` or now, whichever is earlier: quarantined before
    that moment and resolved at or after it, or not at all. Tenant-wide."""
    as_of = end_of_day_or_now(end, now)
    modules = Counter(
        record.module
        for record in records
        if record.source == rule.source
        and record.quarantined_at < as_of
        and (record.resolved_at is None or record.resolved_at >= as_of)
    )
    unresolved = sum(modules.values())
    if unresolved <= rule.above_count:
        return []
    listed = ", ".join(f"{module} {count}" for module, count in sorted(modules.items()))
    return [
        _firing(
            rule,
            ALL_BRANCHES,
            subject=f"quarantine:{rule.source}",
            start=end,
            end=end,
            reason=f"{unresolved} {rule.source} records were quarantined and not resolved as "
            f"of {as_of.isoformat()} (by module: {listed}), more than {rule.above_count}",
            unresolved=unresolved,
            modules=listed,
            above_count=rule.above_count,
        )
    ]


def end_of_day_or_now(end: date, now: datetime) -> datetime:
    """The end of ``end`` (00:00 UTC the day after) or ``now``, whichever is earlier."""
    return min(now, datetime.combine(end + timedelta(days=1), time(), tzinfo=UTC))


def money(amount_minor: int, currency: str) -> str:
    exponent = minor_unit_exponent(currency)
    major, minor = divmod(amount_minor, 10**exponent)
    return f"{currency} {major:,}" + (f".{minor:0{exponent}d}" if exponent else "")


def _firing(
    rule: AnyRule,
    branch_id: str,
    *,
    subject: str,
    start: date,
    end: date,
    reason: str,
    **figures: int | float | str | None,
) -> Firing:
    return Firing(
        rule_id=rule.rule_id,
        metric=rule.metric,
        branch_id=branch_id,
        subject=subject,
        window_start=start,
        window_end=end,
        reason=reason,
        figures=figures,
    )
