"""An alert rule's state, folded from its stream: the rule in force, or None once
removed."""

from __future__ import annotations

from dataclasses import dataclass

from mymedic.domain import events as e
from mymedic.domain.alert_rules import AnyRule


@dataclass(frozen=True)
class AlertRuleState:
    rule: AnyRule | None


def evolve_alert_rule(event: e.EventPayload) -> AlertRuleState | None:
    """The next state of an alert rule stream, or None when ``event`` is not one of its
    events."""
    match event:
        case e.AlertRuleSet():
            return AlertRuleState(event.rule)
        case e.AlertRuleRemoved():
            return AlertRuleState(None)
    return None
