-- Alert rules, tenant configuration, at their latest event: the rule as set (rule_json,
-- the alert_rule.set payload's rule; null once removed). The alerts job reads every
-- tenant's rules here after bringing the warehouse up to date, so that the rules and
-- the figures they are checked against are as of the same position in the event log.
-- key: tenant_id, rule_id
create table if not exists cfg_alert_rule (
    tenant_id string not null,
    rule_id string not null,
    metric string,
    enabled bool not null,
    removed bool not null,
    rule_json string,
    updated_at timestamp not null,
    last_event_id string not null
)
cluster by tenant_id
