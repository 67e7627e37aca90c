"""The alerts job end to end: rules set through the HTTP command handler, figures built
by the real pipeline (commands, events, warehouse), e-mails received by a real SMTP
server on loopback. The numbers are worked out by hand in the comments. All synthetic.

The test directory (tests/conftest.py): branch-1 in Pune (+05:30) registered on
2026-03-02, clinicians clin-1 and clin-2 working 07:00-21:00 every day (840 minutes),
rooms room-1 and room-2. The window is the 7 days 2026-03-03 to 2026-03-09.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from mymedic.app.alerts.job import handle_alerts_job
from mymedic.bootstrap import Platform
from mymedic.domain import events as e
from mymedic.domain.envelope import Metadata, build_envelope
from mymedic.notify.mailer import SmtpMailer
from mymedic.server import create_server
from tests.conftest import BRANCH, TENANT, StepClock, bearer, booking
from tests.smtp_server import LoopbackSmtpServer

WINDOW = "2026-03-09"
JOB_TIME = datetime(2026, 3, 10, 6, 0, tzinfo=UTC)
RECIPIENTS = ["manager@clinic.example", "ops@clinic.example"]


@pytest.fixture
def smtp() -> Iterator[LoopbackSmtpServer]:
    with LoopbackSmtpServer() as server:
        yield server


def _send(client: Any, name: str, body: dict[str, Any]) -> Any:
    return client.post(f"/commands/{name}", json=body, headers=bearer(TENANT))


def _ok(client: Any, name: str, **body: Any) -> None:
    response = _send(client, name, {"tenant_id": TENANT, "branch_id": BRANCH, **body})
    assert response.status_code == 201, (name, response.get_json())


def _rule(rule_id: str, metric: str, **parameters: Any) -> dict[str, Any]:
    return {
        "rule_id": rule_id,
        "metric": metric,
        "branches": ["*"],
        "recipients": RECIPIENTS,
        **parameters,
    }


RULES = [
    # Fire:
    _rule("util-clin", "low_utilization", subject="clinician", below_percent=5, window_days=7),
    _rule("util-room", "low_utilization", subject="room", below_percent=5, window_days=7),
    _rule("no-show-20", "no_show_spike", window_days=7, rate_above_percent=20, min_appointments=5),
    _rule("nps-drop", "nps_drop", window_days=7, drop_points=20, min_responses=3),
    _rule("aging-30", "receivables_aging", over_days=30, above_minor=250_000, currency="INR"),
    _rule("stale-razorpay", "stale_data", source="razorpay", hours=24),
    # Do not fire:
    _rule("util-1", "low_utilization", subject="clinician", below_percent=1, window_days=7),
    _rule("no-show-25", "no_show_spike", window_days=7, rate_above_percent=25, min_appointments=5),
    _rule("nps-below", "nps_drop", window_days=7, below_nps=-10, min_responses=3),
    _rule("aging-60", "receivables_aging", over_days=60, above_minor=250_000, currency="INR"),
    _rule("stale-stripe", "stale_data", source="stripe", hours=24),
]
FIRING = {"util-clin", "util-room", "no-show-20", "nps-drop", "aging-30", "stale-razorpay"}


def _book(client: Any, apt: str, clinician: str, room: str, start: str) -> None:
    body = booking(
        apt,
        clinician_id=clinician,
        room_id=room,
        patient_id=f"pat-{apt}",
        start_at=f"{start}+05:30",
        occurred_at="2026-03-01T09:00:00+05:30",
    )
    _ok(client, "book_appointment", **body)


def _gateway_fact(platform: Platform, provider: str, ref: str, recorded_at: datetime) -> None:
    payload = e.GatewayPaymentCaptured(
        provider=provider,  # type: ignore[arg-type]
        payment_ref=ref,
        provider_event_id=f"evt_{ref}",
        amount_minor=100_000,
        currency="INR",
    )
    envelope = build_envelope(
        payload,
        metadata=Metadata(tenant_id=TENANT, actor="webhook:test", source=f"webhook:{provider}"),
        branch_id=None,
        stream_version=1,
        occurred_at=recorded_at,
        recorded_at=recorded_at,
    )
    platform.store.append(TENANT, payload.stream_id(), 0, [envelope])


def _scenario(platform: Platform, rules: list[dict[str, Any]]) -> None:
    client = create_server().test_client()
    for rule in rules:
        _ok(client, "set_alert_rule", branch_id="*", rule=rule)
    # Utilization. clin-1 in room-1: one MRI (45 min) a day, 7 days: 315 of 7 x 840 =
    # 5880 available minutes, 5.36%: not below 5%. clin-2 in room-2: two (90 min; a
    # third, cancelled, does not count): 90 / 5880 = 1.53%, shown 1.5%. Rooms have the
    # branch's span, 07:00-21:00, the same 5880 minutes: room-2 1.5%, room-1 5.36%.
    for day in range(3, 10):
        _book(client, f"a{day}", "clin-1", "room-1", f"2026-03-0{day}T10:00:00")
    for day in (4, 5, 6):
        _book(client, f"b{day}", "clin-2", "room-2", f"2026-03-0{day}T11:00:00")
    _ok(client, "cancel_appointment", appointment_id="b6", reason="travel")
    # No-shows: 2 of the 9 appointments not cancelled: 22.2%, above 20, not above 25.
    for apt in ("a3", "a4"):
        _ok(client, "mark_no_show", appointment_id=apt, occurred_at=f"2026-03-0{apt[1]}T12:00:00Z")
    # NPS. The window before (02-24 to 03-02): 10, 10, 9: 3 promoters of 3 = 100. The
    # window: 10, 9, 6, 3: 2 promoters, 2 detractors of 4 = 0. Down 100 >= 20; 0 is not
    # below -10.
    scores = [("2026-02-25", 10), ("2026-02-27", 10), ("2026-03-02", 9)]
    scores += [("2026-03-04", 10), ("2026-03-05", 9), ("2026-03-07", 6), ("2026-03-09", 3)]
    for n, (day, score) in enumerate(scores):
        _ok(
            client,
            "record_nps_response",
            response_id=f"nps-{n}",
            patient_id=f"pat-{n}",
            score=score,
            occurred_at=f"{day}T18:00:00+05:30",
        )
    # Receivables: 500_000 due 2026-01-20, 200_000 paid on 02-01: 300_000 owed, 48 days
    # past due on 03-09: more than 30 (above 250_000), not more than 60.
    _ok(
        client,
        "issue_invoice",
        invoice_id="inv-1",
        appointment_id="old-1",
        patient_id="pat-old",
        payer_type="insurer",
        amount_minor=500_000,
        currency="INR",
        due_on="2026-01-20",
        occurred_at="2026-01-10T10:00:00+05:30",
    )
    _ok(
        client,
        "capture_payment",
        invoice_id="inv-1",
        payment_id="pay-1",
        amount_minor=200_000,
        currency="INR",
        mode="upi",
        provider="razorpay",
        occurred_at="2026-02-01T10:00:00+05:30",
    )
    # Stale data, as of the end of 03-09 (03-10 00:00 UTC, before the job's 06:00):
    # Stripe last 03-09 20:00 UTC, 4 h before; Razorpay last 03-07 12:00 UTC, 60 h.
    _gateway_fact(platform, "stripe", "pi_1", datetime(2026, 3, 9, 20, 0, tzinfo=UTC))
    _gateway_fact(platform, "razorpay", "pay_1", datetime(2026, 3, 7, 12, 0, tzinfo=UTC))


def _quarantine(
    platform: Platform, module: str, record: str, at: datetime, resolved: datetime | None = None
) -> None:
    """A record version quarantined at ``at`` (and a later one synced at ``resolved``), as
    Zoho ingestion records them; the raw record goes in the personal part."""
    metadata = Metadata(tenant_id=TENANT, actor="zoho:sync", source="zoho:webhook")
    modified = at - timedelta(minutes=5)
    quarantined = e.RecordQuarantined(
        module=module,
        record_id=record,
        modified_time=modified,
        reason="required field is empty",
        field="Last_Name",
    )
    events = [
        build_envelope(
            quarantined,
            metadata=metadata,
            branch_id="*",
            stream_version=1,
            occurred_at=at,
            recorded_at=at,
            personal=e.RawRecordPersonalData(fields={"First_Name": "Synthetic"}),
            subject_id=f"zoho:{record}",
        )
    ]
    if resolved is not None:
        synced = e.ZohoRecordSynced(
            module=module,
            record_id=record,
            modified_time=resolved,
            entity="patient",
            target_stream=f"patient:{record}",
            source="webhook",
            mapping_version=1,
        )
        events.append(
            build_envelope(
                synced,
                metadata=metadata,
                branch_id="*",
                stream_version=2,
                occurred_at=resolved,
                recorded_at=resolved,
            )
        )
    platform.store.append(TENANT, quarantined.stream_id(), 0, events)


def _configure(platform: Platform, smtp: LoopbackSmtpServer, **extra: Any) -> SmtpMailer:
    platform.settings = platform.settings.model_copy(update={**smtp.settings_update(), **extra})
    clock = platform.clock
    assert isinstance(clock, StepClock)
    clock.now = JOB_TIME
    mailer = SmtpMailer.from_settings(platform.settings)
    return SmtpMailer(
        mailer.host,
        mailer.port,
        sender=mailer.sender,
        starttls=False,
        attempts=2,
        sleep=lambda _: 0,
    )


def _args(**values: str) -> Any:
    return values.get


def _body(message: Any) -> tuple[str, str]:
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    return text, html


def test_each_rule_fires_or_not_by_hand_computed_figures(
    platform: Platform, smtp: LoopbackSmtpServer
) -> None:
    _scenario(platform, RULES)
    mailer = _configure(platform, smtp, report_base_url="https://reports.clinic.example/")

    first = handle_alerts_job(platform, _args(), mailer=mailer)  # window: yesterday
    assert first.status == 200, first.body
    assert first.body["window"] == WINDOW
    assert {sent["rule_id"] for sent in first.body["sent"]} == FIRING
    by_subject = {m["Subject"]: m for m in smtp.messages}
    assert set(by_subject) == {
        "[MyMedic] low_utilization branch-1 2026-03-03..2026-03-09",
        "[MyMedic] no_show_spike branch-1 2026-03-03..2026-03-09",
        "[MyMedic] nps_drop branch-1 2026-03-03..2026-03-09",
        "[MyMedic] receivables_aging branch-1 2026-03-09",
        "[MyMedic] stale_data all branches 2026-03-09",
    }
    assert len(smtp.messages) == 6  # the two utilization rules: one e-mail each
    for _, recipients in smtp.envelopes:
        assert sorted(recipients) == RECIPIENTS

    texts = [_body(m)[0] for m in smtp.messages]
    everything = "\n".join(texts)
    assert "clinician clin-2 at branch branch-1 was booked 90 of 5880 available minutes (1.5%)" in (
        everything
    )
    assert "room room-2 at branch branch-1 was booked 90 of 5880 available minutes (1.5%)" in (
        everything
    )
    assert "clin-1" not in everything and "room-1" not in everything
    assert "no-show rate of branch branch-1 was 22.2% (2 of 9 appointments)" in everything
    assert "NPS of branch branch-1 was 0 (2 promoters, 2 detractors of 4 responses)" in everything
    assert "down 100 points from 100 (3 responses, 2026-02-24 to 2026-03-02)" in everything
    assert "is owed INR 3,000.00 on 1 invoice(s) more than 30 days past due" in everything
    assert "nothing was received from razorpay for 60 hours" in everything
    assert "stripe" not in everything

    nps_text, nps_html = _body(by_subject["[MyMedic] nps_drop branch-1 2026-03-03..2026-03-09"])
    link = "https://reports.clinic.example/dashboards/operations?tenant=tenant-a#waiting"
    assert "No dashboard page shows NPS; the closest is Waiting time" in nps_text
    assert f"Dashboard: Operations, page Waiting time: {link}" in nps_text
    assert f'<a href="{link}">Operations, page Waiting time</a>' in nps_html
    figures = "mymedic report nps --tenant tenant-a --from 2026-02-24 --to 2026-03-09"
    assert f"The figures: run `{figures}`" in nps_text
    # The link is served: an analyst of the tenant gets the page it names.
    served = create_server().test_client()
    page = served.get(link.split("example", 1)[1], headers=bearer(TENANT, role="analyst"))
    assert page.status_code == 200
    assert '<section class="page" id="waiting">' in page.get_data(as_text=True)

    [sent] = [
        ev
        for ev in platform.store.read_stream(TENANT, "alert:util-clin:2026-03-09")
        if isinstance(ev.data(), e.AlertSent)
    ]
    data = sent.data()
    assert isinstance(data, e.AlertSent)
    assert data.recipients == 2
    assert [(f.subject, f.figures["booked_minutes"]) for f in data.firings] == [
        ("clinician:clin-2", 90)
    ]

    # The same window again: nothing is sent, nothing is written.
    head = platform.store.head_position()
    again = handle_alerts_job(platform, _args(window=WINDOW), mailer=mailer)
    assert again.status == 200
    assert again.body["sent"] == [] and len(again.body["already_sent"]) == 6
    assert len(smtp.messages) == 6
    assert platform.store.head_position() == head


def test_without_a_report_url_the_mail_gives_the_command_line(
    platform: Platform, smtp: LoopbackSmtpServer
) -> None:
    _scenario(platform, [RULES[0]])
    mailer = _configure(platform, smtp)
    assert handle_alerts_job(platform, _args(window=WINDOW), mailer=mailer).status == 200
    [message] = smtp.messages
    text, _ = _body(message)
    assert "No dashboard page shows utilization; the closest is Patient volume" in text
    assert (
        "Dashboard: Operations, page Patient volume: run `mymedic dashboard --open --tenant "
        "tenant-a`" in text
    )
    assert (
        "run `mymedic report utilization --tenant tenant-a --from 2026-03-03 --to 2026-03-09`"
        in text
    )


def test_with_looker_studio_the_mail_links_its_report(
    platform: Platform, smtp: LoopbackSmtpServer
) -> None:
    _scenario(platform, [RULES[4]])  # receivables aging: the revenue dashboard shows it
    report = "https://lookerstudio.google.com/reporting/revenue-report"
    mailer = _configure(
        platform,
        smtp,
        report_base_url="https://reports.clinic.example",
        looker_report_urls={"revenue": report},
    )
    assert handle_alerts_job(platform, _args(window=WINDOW), mailer=mailer).status == 200
    [message] = smtp.messages
    text, html = _body(message)
    assert (
        "Dashboard: Revenue, page Leakage and receivables (in Looker Studio: open its page "
        f"Leakage and receivables and choose tenant-a in its tenant control): {report}" in text
    )
    assert f'<a href="{report}">Revenue, page Leakage and receivables</a>' in html
    assert "No dashboard page" not in text and "reports.clinic.example" not in text


def test_a_refusing_server_gives_502_and_a_later_run_sends(
    platform: Platform, smtp: LoopbackSmtpServer
) -> None:
    _scenario(platform, [RULES[0]])
    mailer = _configure(platform, smtp)
    smtp.refuse_next(2)  # both of the mailer's attempts
    failed = handle_alerts_job(platform, _args(window=WINDOW), mailer=mailer)
    assert failed.status == 502
    assert failed.body["error"] == "delivery_failed"
    [failure] = failed.body["failed"]
    assert failure["rule_id"] == "util-clin" and "451" in failure["reason"]
    [recorded] = platform.store.read_stream(TENANT, "alert_failure:util-clin:2026-03-09")
    data = recorded.data()
    assert isinstance(data, e.AlertDeliveryFailed)
    assert (data.attempts, data.subjects) == (2, 1)
    assert platform.store.read_stream(TENANT, "alert:util-clin:2026-03-09") == []

    later = handle_alerts_job(platform, _args(window=WINDOW), mailer=mailer)
    assert later.status == 200 and [s["rule_id"] for s in later.body["sent"]] == ["util-clin"]
    assert len(smtp.messages) == 1


def test_a_removed_or_disabled_rule_is_not_checked(
    platform: Platform, smtp: LoopbackSmtpServer
) -> None:
    _scenario(platform, [RULES[0], {**RULES[1], "enabled": False}])
    client = create_server().test_client()
    _ok(client, "remove_alert_rule", branch_id="*", rule_id="util-clin")
    mailer = _configure(platform, smtp)
    answer = handle_alerts_job(platform, _args(window=WINDOW), mailer=mailer)
    assert answer.status == 200 and answer.body["sent"] == []
    assert smtp.messages == []
    gone = _send(client, "remove_alert_rule", {"tenant_id": TENANT, "rule_id": "util-clin"})
    assert gone.status_code == 404


def test_without_smtp_settings_the_job_is_not_configured(platform: Platform) -> None:
    answer = handle_alerts_job(platform, _args())
    assert (answer.status, answer.body["error"]) == (503, "not_configured")
    assert "MYMEDIC_SMTP_HOST" in answer.body["message"]
    bad = handle_alerts_job(platform, _args(window="yesterday"))
    assert (bad.status, bad.body["error"]) == (400, "invalid_date")


def test_data_quality_counts_unresolved_quarantined_records(
    platform: Platform, smtp: LoopbackSmtpServer
) -> None:
    rules = [
        _rule("dq-2", "data_quality", source="zoho", above_count=2),
        _rule("dq-3", "data_quality", source="zoho", above_count=3),
    ]
    client = create_server().test_client()
    for rule in rules:
        _ok(client, "set_alert_rule", branch_id="*", rule=rule)
    # As of the end of 03-09 (03-10 00:00 UTC): Contacts zq1 and zq3 and Deals zq4 are
    # unresolved; zq2 was synced again on 03-08 and zq5 quarantined only on 03-10, before
    # the job. 3 records (Contacts 2, Deals 1): more than 2, not more than 3.
    _quarantine(platform, "Contacts", "zq1", datetime(2026, 3, 5, 10, 0, tzinfo=UTC))
    _quarantine(
        platform,
        "Contacts",
        "zq2",
        datetime(2026, 3, 6, 10, 0, tzinfo=UTC),
        resolved=datetime(2026, 3, 8, 10, 0, tzinfo=UTC),
    )
    _quarantine(platform, "Contacts", "zq3", datetime(2026, 3, 7, 10, 0, tzinfo=UTC))
    _quarantine(platform, "Deals", "zq4", datetime(2026, 3, 8, 10, 0, tzinfo=UTC))
    _quarantine(platform, "Deals", "zq5", datetime(2026, 3, 10, 2, 0, tzinfo=UTC))
    mailer = _configure(platform, smtp)

    answer = handle_alerts_job(platform, _args(window=WINDOW), mailer=mailer)
    assert answer.status == 200, answer.body
    assert [sent["rule_id"] for sent in answer.body["sent"]] == ["dq-2"]
    [message] = smtp.messages
    assert message["Subject"] == "[MyMedic] data_quality all branches 2026-03-09"
    text, html = _body(message)
    assert (
        "3 zoho records were quarantined and not resolved as of 2026-03-10T00:00:00+00:00 "
        "(by module: Contacts 2, Deals 1), more than 2" in text
    )
    assert "run `mymedic zoho quarantine --tenant tenant-a`" in text
    assert "<code>mymedic zoho quarantine --tenant tenant-a</code>" in html
    # Counts and modules only: no record, its field or its values.
    for detail in ("zq1", "zq3", "zq4", "Last_Name", "Synthetic"):
        assert detail not in text and detail not in html

    [sent] = [
        ev
        for ev in platform.store.read_stream(TENANT, "alert:dq-2:2026-03-09")
        if isinstance(ev.data(), e.AlertSent)
    ]
    data = sent.data()
    assert isinstance(data, e.AlertSent)
    assert [(f.branch_id, f.subject, f.figures["unresolved"]) for f in data.firings] == [
        ("*", "quarantine:zoho", 3)
    ]


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        (_rule("r1", "high_utilization", below_percent=5), "rule"),
        (_rule("r2", "low_utilization", subject="room", below_percent=-5), "below_percent"),
        (_rule("r3", "low_utilization", subject="room", below_percent=100), "below_percent"),
        (_rule("r4", "receivables_aging", over_days=30, above_minor=-1, currency="INR"), "above"),
        (_rule("r5", "stale_data", source="stripe", hours=0), "hours"),
        (_rule("r6", "nps_drop", window_days=7), "rule.nps_drop"),
        ({**_rule("r7", "stale_data", source="stripe", hours=4), "recipients": ["x"]}, "recip"),
        (_rule("r8", "data_quality", source="stripe", above_count=1), "source"),
        (_rule("r9", "data_quality", source="zoho", above_count=-1), "above_count"),
        (_rule("r10", "data_quality", source="zoho", above_count=1, window_days=7), "window_days"),
    ],
)
def test_a_bad_rule_is_refused_naming_the_field(
    platform: Platform, rule: dict[str, Any], field: str
) -> None:
    client = create_server().test_client()
    response = _send(client, "set_alert_rule", {"tenant_id": TENANT, "rule": rule})
    assert response.status_code == 422
    body = response.get_json()
    assert body["error"] == "validation_failed"
    assert any(field in problem["field"] for problem in body["fields"]), body
    assert platform.store.read_stream(TENANT, f"alert_rule:{rule['rule_id']}") == []


def test_only_an_admin_sets_alert_rules(platform: Platform) -> None:
    client = create_server().test_client()
    body = {"tenant_id": TENANT, "rule": RULES[0]}
    staff = client.post(
        "/commands/set_alert_rule",
        json=body,
        headers=bearer(TENANT, role="staff", branches=frozenset({BRANCH})),
    )
    assert staff.status_code == 403
    assert _send(client, "set_alert_rule", body).status_code == 201


def test_low_utilization_does_not_fire_on_a_leave_day(
    platform: Platform, smtp: LoopbackSmtpServer
) -> None:
    """clin-2 is on leave on 03-09 and nothing is booked for them. Before blocked time
    was taken off, their 840 working minutes were all available, 0% booked: the rule
    fired for a clinician who was not there. A day of leave has 0 available minutes now,
    and there is nothing to say; clin-1, who worked, is still held to the rule (one MRI,
    45 of 840 minutes, 5.4%, below 10%)."""
    client = create_server().test_client()
    rule = _rule("util-day", "low_utilization", subject="clinician", below_percent=10)
    _ok(client, "set_alert_rule", branch_id="*", rule={**rule, "window_days": 1})
    _ok(
        client,
        "block_clinician_time",
        clinician_id="clin-2",
        block_id="leave-0309",
        start_at="2026-03-09T00:00:00+05:30",
        end_at="2026-03-10T00:00:00+05:30",
        reason="annual leave",
    )
    _book(client, "a9", "clin-1", "room-1", "2026-03-09T10:00:00")
    mailer = _configure(platform, smtp)

    result = handle_alerts_job(platform, _args(window=WINDOW), mailer=mailer)
    assert result.status == 200, result.body
    [message] = smtp.messages
    text, _ = _body(message)
    assert "clinician clin-1 at branch branch-1 was booked 45 of 840 available minutes" in text
    assert "clin-2" not in text
    [leave] = platform.warehouse.query(
        "rpt_utilization", {"tenant_id": TENANT, "subject_id": "clin-2", "day": date(2026, 3, 9)}
    )
    assert (leave["working_minutes"], leave["blocked_minutes"], leave["available_minutes"]) == (
        840,
        840,
        0,
    )
