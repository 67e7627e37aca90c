"""``POST /jobs/alerts?tenant=&window=``: check every enabled alert rule and e-mail what
fired, once per rule, window and subject.

``tenant``: one tenant, or every tenant with rules. ``window``: the window's last day
(ISO date), by default yesterday in UTC (the platform's clock): a rule looks at the
days ending on it (see ``domain.alerts``). The job first brings the warehouse up to
date, then reads the rules (``cfg_alert_rule``) and their figures from it.

Each rule's firings not yet sent for the window go in one e-mail; then ``alert.sent``
lists them on ``alert:{rule_id}:{window}`` (at the version read before sending, with an
event id derived from what it sent), so that a second run for the window sends
nothing. A send still failing after the mailer's retries appends
``alert.delivery_failed`` on ``alert_failure:{rule_id}:{window}`` and the job goes on
with the other rules; nothing is marked sent, so a later run sends it.

Answers: 200 (``sent``, ``already_sent``, ``failed`` empty); 502 when any e-mail failed,
listing them (Cloud Scheduler retries); 503 ``not_configured`` without SMTP settings,
``unavailable`` when a backend is; 400 ``invalid_date`` for a malformed window.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4, uuid5

from mymedic.app.alerts.figures import load_figures, load_rules
from mymedic.app.alerts.message import alert_message
from mymedic.app.http import HttpResponse, error_response
from mymedic.bootstrap import Platform
from mymedic.domain import events as e
from mymedic.domain.alert_rules import AnyRule, Firing
from mymedic.domain.alerts import evaluate
from mymedic.domain.envelope import Metadata, build_envelope
from mymedic.notify.mailer import MailDeliveryFailed, Mailer, MailNotConfigured, SmtpMailer
from mymedic.ports import ConcurrencyConflict, EventIdReused, TransientBackendError

JOB = "alerts"
# Namespace of the ids of ``alert.sent`` events (fixed: ids must not change).
ALERT_NAMESPACE = UUID("0c6f4d1e-8a52-4b7f-9e0b-5d3a2c1f7e64")


def handle_alerts_job(
    platform: Platform, query: Callable[[str], str | None], *, mailer: Mailer | None = None
) -> HttpResponse:
    """``mailer``: the SMTP mailer of the platform's settings unless given."""
    now = platform.clock()
    raw = query("window")
    try:
        end = date.fromisoformat(raw) if raw else now.date() - timedelta(days=1)
    except ValueError:
        return error_response(400, "invalid_date", "window must be a date like 2026-01-31")
    if mailer is None:
        try:
            mailer = SmtpMailer.from_settings(platform.settings)
        except MailNotConfigured as exc:
            return error_response(503, "not_configured", str(exc))
    run = _Run(platform, mailer, end, now)
    try:
        platform.catch_up()
        for tenant, rules in sorted(load_rules(platform.warehouse, query("tenant")).items()):
            figures = load_figures(platform.warehouse, tenant, rules, end)
            for rule in sorted(rules, key=lambda rule: rule.rule_id):
                run.alert(tenant, rule, evaluate(rule, end, figures, now))
    except TransientBackendError as exc:
        return error_response(503, "unavailable", str(exc), **run.report())
    finally:
        platform.relay.drain()
    if run.failed:
        message = f"{len(run.failed)} alert e-mail(s) could not be sent"
        return error_response(502, "delivery_failed", message, **run.report())
    return HttpResponse(200, run.report())


class _Run:
    def __init__(self, platform: Platform, mailer: Mailer, end: date, now: datetime) -> None:
        self._platform = platform
        self._mailer = mailer
        self._end = end
        self._now = now
        self.sent: list[dict[str, Any]] = []
        self.already_sent: list[dict[str, Any]] = []
        self.failed: list[dict[str, Any]] = []

    def report(self) -> dict[str, Any]:
        return {
            "job": JOB,
            "window": self._end.isoformat(),
            "sent": self.sent,
            "already_sent": self.already_sent,
            "failed": self.failed,
        }

    def alert(self, tenant: str, rule: AnyRule, firings: list[Firing]) -> None:
        if not firings:
            return
        store = self._platform.store
        stream = e.stream_id("alert", f"{rule.rule_id}:{self._end.isoformat()}")
        history = store.read_stream(tenant, stream)
        done = {
            firing.key
            for event in history
            if isinstance(data := event.data(), e.AlertSent)
            for firing in data.firings
        }
        new = [firing for firing in firings if firing.key not in done]
        what = {"tenant": tenant, "rule_id": rule.rule_id, "metric": rule.metric}
        if not new:
            self.already_sent.append(what)
            return
        settings = self._platform.settings
        message = alert_message(
            tenant,
            rule,
            new,
            self._end,
            base_url=settings.report_base_url,
            looker_urls=settings.looker_report_urls,
        )
        try:
            self._mailer.send(message)
        except MailDeliveryFailed as exc:
            self._record_failure(tenant, rule, str(exc), len(new))
            self.failed.append({**what, "reason": str(exc)})
            return
        sent = e.AlertSent(
            rule_id=rule.rule_id, window=self._end, firings=new, recipients=len(rule.recipients)
        )
        keys = "\x1f".join(sorted(firing.key for firing in new))
        event_id = str(uuid5(ALERT_NAMESPACE, f"{tenant}\x1f{stream}\x1f{keys}"))
        # A run racing this one may have recorded it meanwhile (and sent it too).
        with suppress(ConcurrencyConflict, EventIdReused):
            self._append(tenant, sent, len(history), event_id)
        self.sent.append({**what, "firings": len(new), "subject": message["Subject"]})

    def _record_failure(self, tenant: str, rule: AnyRule, reason: str, subjects: int) -> None:
        attempts = getattr(self._mailer, "attempts", 1)
        failed = e.AlertDeliveryFailed(
            rule_id=rule.rule_id,
            window=self._end,
            reason=reason[:1000],
            attempts=attempts,
            subjects=subjects,
        )
        version = self._platform.store.stream_version(tenant, failed.stream_id())
        self._append(tenant, failed, version, str(uuid4()))

    def _append(self, tenant: str, payload: e.EventPayload, version: int, event_id: str) -> None:
        metadata = Metadata(tenant_id=tenant, actor=f"job:{JOB}", source=f"job:{JOB}")
        envelope = build_envelope(
            payload,
            metadata=metadata,
            branch_id="*",
            stream_version=version + 1,
            occurred_at=self._now,
            recorded_at=self._now,
            event_id=event_id,
        )
        self._platform.store.append(tenant, payload.stream_id(), version, [envelope])
