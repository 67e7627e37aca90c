"""What the alerts need in the warehouse, part of the warehouse facts projection: the
rules themselves (``cfg_alert_rule``), clinicians' working hours per registration
(``hist_working_hours``), NPS responses (``fct_nps_response``) and when each
integration last delivered (``source_activity``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import time

from mymedic.domain import events as e
from mymedic.domain.envelope import EventEnvelope
from mymedic.ports import WarehouseUnitOfWork

RULES = "cfg_alert_rule"
WORKING_HOURS = "hist_working_hours"
NPS = "fct_nps_response"
ACTIVITY = "source_activity"
ALERT_TABLES = (RULES, WORKING_HOURS, NPS, ACTIVITY)

_GATEWAY_CATEGORIES = frozenset({"gateway", "settlement"})
_SOURCE_OF_CATEGORY = {"zoho": "zoho", "ad_cost": "google_ads", "ad_clicks": "google_ads"}
CATEGORIES = (
    frozenset({e.AlertRuleSet.category, e.NpsResponseRecorded.category, "clinician"})
    | _GATEWAY_CATEGORIES
    | frozenset(_SOURCE_OF_CATEGORY)
)


def source_of(event: EventEnvelope) -> str | None:
    """The integration an event came from, or None."""
    if event.category in _GATEWAY_CATEGORIES:
        provider = event.payload.get("provider")
        return provider if isinstance(provider, str) else None
    return _SOURCE_OF_CATEGORY.get(event.category)


def prefetch_alert_facts(uow: WarehouseUnitOfWork, events: Sequence[EventEnvelope]) -> None:
    keys = {(ev.tenant_id, source) for ev in events if (source := source_of(ev)) is not None}
    if keys:
        uow.prefetch(ACTIVITY, keys)


def apply_alert_facts(uow: WarehouseUnitOfWork, event: EventEnvelope) -> None:
    """Called for every event the facts projection reads, besides its other tables."""
    source = source_of(event)
    if source is not None:
        _record_activity(uow, event, source)
        return
    data = event.data()
    match data:
        case e.AlertRuleSet():
            uow.put_row(
                RULES,
                {
                    "tenant_id": event.tenant_id,
                    "rule_id": data.rule.rule_id,
                    "metric": data.rule.metric,
                    "enabled": data.rule.enabled,
                    "removed": False,
                    "rule_json": data.rule.model_dump_json(),
                    "updated_at": event.recorded_at,
                    "last_event_id": event.event_id,
                },
            )
        case e.AlertRuleRemoved():
            uow.put_row(
                RULES,
                {
                    "tenant_id": event.tenant_id,
                    "rule_id": data.rule_id,
                    "metric": None,
                    "enabled": False,
                    "removed": True,
                    "rule_json": None,
                    "updated_at": event.recorded_at,
                    "last_event_id": event.event_id,
                },
            )
        case e.ClinicianRegistered():
            for hours in data.working_hours:
                uow.put_row(
                    WORKING_HOURS,
                    {
                        "tenant_id": event.tenant_id,
                        "branch_id": data.branch_id,
                        "clinician_id": data.clinician_id,
                        "valid_from": event.occurred_at,
                        "weekday": hours.weekday,
                        "start_minute": _minute(hours.start),
                        "end_minute": _minute(hours.end),
                        "last_event_id": event.event_id,
                    },
                )
        case e.NpsResponseRecorded():
            uow.put_row(
                NPS,
                {
                    "tenant_id": event.tenant_id,
                    "branch_id": event.branch_id if event.branch_id != "*" else None,
                    "response_id": data.response_id,
                    "patient_id": data.patient_id,
                    "appointment_id": data.appointment_id,
                    "score": data.score,
                    "responded_at": event.occurred_at,
                    "last_event_id": event.event_id,
                },
            )


def _minute(moment: time) -> int:
    return moment.hour * 60 + moment.minute


def _record_activity(uow: WarehouseUnitOfWork, event: EventEnvelope, source: str) -> None:
    previous = uow.get_row(ACTIVITY, (event.tenant_id, source))
    if previous is not None and previous["last_recorded_at"] >= event.recorded_at:
        return
    uow.put_row(
        ACTIVITY,
        {
            "tenant_id": event.tenant_id,
            "source": source,
            "last_recorded_at": event.recorded_at,
            "last_event_id": event.event_id,
        },
    )
