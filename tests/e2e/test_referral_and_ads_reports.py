"""Report 2 (rpt_referral_source) and report 9 (rpt_google_ads) checked against figures
worked out by hand. Bookings, payments, refunds and referrals go through the HTTP
command handler, Google Ads days through the real sync against a fake account. One
branch in Pune (INR, +05:30). All synthetic."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

import pytest

from mymedic.app.facts import WarehouseFactsProjection
from mymedic.bootstrap import Platform
from mymedic.domain import events as e
from mymedic.domain.envelope import EventEnvelope, Metadata, build_envelope
from mymedic.integrations.google_ads.source import Account
from mymedic.integrations.google_ads.sync import AdsCostSync
from mymedic.server import create_server
from tests.conftest import bearer, booking, post_directory

TENANT = "t1"
BRANCH = "b1"
CUSTOMER = "1234567890"
D4, D5 = date(2025, 3, 4), date(2025, 3, 5)


def _at(local: str) -> str:
    return f"{local}+05:30"


class Clinic:
    def __init__(self, client: Any) -> None:
        self.client = client

    def send(self, name: str, **body: Any) -> None:
        body = {"tenant_id": TENANT, "branch_id": BRANCH, **body}
        response = self.client.post(f"/commands/{name}", json=body, headers=bearer(TENANT))
        assert response.status_code == 201, (name, response.get_json())

    def book(
        self, apt: str, patient: str, procedure: str, start: str, at: str, **extra: Any
    ) -> None:
        modality = {"MRI": "MRI", "CT": "CT", "XR": "XRAY"}[procedure.partition("-")[0]]
        body = booking(
            apt,
            tenant_id=TENANT,
            branch_id=BRANCH,
            patient_id=patient,
            modality=modality,
            procedure_code=procedure,
            start_at=_at(start),
            occurred_at=_at(at),
            **extra,
        )
        del body["duration_minutes"]
        self.send("book_appointment", **body)

    def on(self, apt: str, command: str, at: str, **extra: Any) -> None:
        self.send(command, appointment_id=apt, occurred_at=_at(at), **extra)

    def pay(self, apt: str, payment: str, amount: int, at: str, kind: str = "payment") -> None:
        self.on(
            apt,
            "take_payment",
            at,
            payment_id=payment,
            kind=kind,
            amount_minor=amount,
            currency="INR",
            mode="cash",
            provider="cash",
        )

    def refund(self, apt: str, refund: str, payment: str, amount: int, at: str) -> None:
        self.on(
            apt,
            "refund_appointment_payment",
            at,
            refund_id=refund,
            payment_id=payment,
            amount_minor=amount,
            currency="INR",
            reason="goodwill",
        )

    def referral(self, referral: str, patient: str, referrer: str, kind: str, at: str) -> None:
        self.send(
            "record_referral",
            referral_id=referral,
            patient_id=patient,
            referrer_id=referrer,
            referrer_type=kind,
            occurred_at=_at(at),
        )


def _referrals(clinic: Clinic) -> None:
    # Weeks (ISO, from Monday): 24 Feb-2 Mar, 3-9 Mar, ..., 31 Mar-6 Apr.
    # p1 is referred on Saturday the 1st and again on Sunday the 2nd: one patient that week.
    clinic.referral("r1", "p1", "dr-a", "gp", "2025-03-01T10:00:00")
    clinic.referral("r3", "p1", "dr-a", "gp", "2025-03-02T16:00:00")
    # r2 arrives at 00:15 local on Monday the 3rd, still Sunday the 2nd in UTC: it is
    # the new week's (3 March), not the week of 24 February.
    clinic.referral("r2", "p2", "dr-a", "gp", "2025-03-03T00:15:00")
    clinic.referral("r4", "p3", "cons-b", "consultant", "2025-03-02T09:00:00")
    # p3's first scan, without a referral: the referred scan of 5 March is not new.
    clinic.book("a0", "p3", "XR-CHEST", "2025-02-10T10:00:00", "2025-02-01T09:00:00")
    clinic.on("a0", "complete_appointment", "2025-02-10T10:15:00")
    booked = "2025-03-02T12:00:00"
    clinic.book("a1", "p1", "MRI-BRAIN", "2025-03-05T10:00:00", booked, referral_id="r1")
    clinic.on("a1", "complete_appointment", "2025-03-05T10:45:00")
    clinic.pay("a1", "pa1", 850_000, "2025-03-05T11:00:00")
    # p2 cancels a2 and rebooks it as a3: one scan. a3's refund comes after month end.
    r2_booked = "2025-03-03T09:00:00"  # once r2 has arrived
    clinic.book("a2", "p2", "CT-CHEST", "2025-03-06T10:00:00", r2_booked, referral_id="r2")
    clinic.on("a2", "cancel_appointment", "2025-03-03T10:00:00", reason="unwell")
    clinic.book(
        "a3", "p2", "CT-CHEST", "2025-03-08T10:00:00", "2025-03-03T10:05:00", referral_id="r2"
    )
    clinic.pay("a3", "da3", 100_000, "2025-03-03T10:06:00", kind="deposit")
    clinic.on("a3", "complete_appointment", "2025-03-08T10:30:00")
    clinic.pay("a3", "pa3", 350_000, "2025-03-08T10:40:00")
    clinic.refund("a3", "ra3", "pa3", 50_000, "2025-04-05T10:00:00")
    clinic.book("a4", "p3", "XR-CHEST", "2025-03-05T12:00:00", booked, referral_id="r4")
    clinic.on("a4", "complete_appointment", "2025-03-05T12:15:00")
    clinic.pay("a4", "pa4", 60_000, "2025-03-05T12:20:00")
    # Sunday 6 April, its week's last day: the week's trailing 30 days reach back to
    # Saturday 8 March (a3), not to Wednesday 5 March (a1).
    clinic.book("a5", "p1", "MRI-KNEE", "2025-04-06T10:00:00", booked, referral_id="r1")
    clinic.on("a5", "complete_appointment", "2025-04-06T10:45:00")


def _ad_bookings(clinic: Clinic) -> None:
    # G1 books twice; G2 books at 00:20 local on the 5th (the 4th in UTC); G3's first
    # booking is cancelled and rebooked; nothing knows G-UNKNOWN.
    clinic.book("g1", "pg1", "MRI-BRAIN", "2025-03-12T10:00:00", "2025-03-04T11:00:00", gclid="G1")
    clinic.on("g1", "complete_appointment", "2025-03-12T10:45:00")
    clinic.pay("g1", "pg1", 850_000, "2025-03-12T11:00:00")
    clinic.book("g2", "pg2", "CT-CHEST", "2025-03-12T12:00:00", "2025-03-04T15:00:00", gclid="G1")
    clinic.on("g2", "complete_appointment", "2025-03-12T12:30:00")
    clinic.pay("g2", "pg2", 450_000, "2025-03-12T12:40:00")
    clinic.refund("g2", "rg2", "pg2", 50_000, "2025-04-02T10:00:00")
    clinic.book("g3", "pg3", "XR-CHEST", "2025-03-13T10:00:00", "2025-03-05T00:20:00", gclid="G2")
    clinic.book("g4", "pg4", "XR-CHEST", "2025-03-14T10:00:00", "2025-03-04T09:00:00", gclid="G3")
    clinic.on("g4", "cancel_appointment", "2025-03-04T09:30:00", reason="wrong day")
    clinic.book("g5", "pg4", "XR-CHEST", "2025-03-14T11:00:00", "2025-03-04T09:40:00", gclid="G3")
    clinic.on("g5", "complete_appointment", "2025-03-14T11:15:00")
    clinic.pay("g5", "pg5", 60_000, "2025-03-14T11:20:00")
    clinic.book(
        "g6", "pg6", "MRI-KNEE", "2025-03-15T10:00:00", "2025-03-04T12:00:00", gclid="G-UNKNOWN"
    )
    clinic.pay("g6", "dg6", 100_000, "2025-03-04T12:01:00", kind="deposit")
    clinic.send(
        "record_marketing_touch",
        touch_id="tc1",
        gclid="G1",
        source="google",
        medium="cpc",
        campaign="Brand",
        patient_id="pg1",
        booking_flag=True,
        occurred_at=_at("2025-03-04T10:55:00"),
    )


def _keyword(keyword: int, text: str, **metrics: int) -> e.AdCostRow:
    return e.AdCostRow(
        campaign_id=11,
        campaign_name="Brand",
        ad_group_id=21,
        ad_group_name="MRI",
        keyword_id=keyword,
        keyword_text=text,
        match_type="EXACT",
        **metrics,
    )


def _pmax(**metrics: int) -> e.AdCostRow:
    return e.AdCostRow(campaign_id=12, campaign_name="PMax", **metrics)


def _click(gclid: str, keyword: int | None) -> e.AdClick:
    if keyword is None:
        return e.AdClick(gclid=gclid, campaign_id=12, campaign_name="PMax")
    texts = {31: "mri scan pune", 32: "brain mri"}
    return e.AdClick(
        gclid=gclid,
        campaign_id=11,
        campaign_name="Brand",
        ad_group_id=21,
        ad_group_name="MRI",
        keyword_id=keyword,
        keyword_text=texts[keyword],
    )


class FakeAds:
    """One INR account in Asia/Kolkata whose cost Google restates between two syncs."""

    def __init__(self) -> None:
        self.cost: dict[date, list[e.AdCostRow]] = {
            D4: [
                _keyword(
                    31, "mri scan pune", cost_micros=1_000_000_000, clicks=10, impressions=100
                ),
                _keyword(32, "brain mri", cost_micros=500_000_000, clicks=5, impressions=50),
                _pmax(cost_micros=200_000_000, clicks=2, impressions=40),
            ],
            D5: [_keyword(31, "mri scan pune", cost_micros=800_000_000, clicks=8, impressions=80)],
        }
        self.click_rows = {D4: [_click("G1", 31), _click("G2", 32), _click("G3", None)]}

    def account(self, customer_id: str) -> Account:
        return Account(currency="INR", time_zone="Asia/Kolkata")

    def cost_rows(self, customer_id: str, start: date, end: date) -> dict[date, list[e.AdCostRow]]:
        return {day: rows for day, rows in self.cost.items() if start <= day <= end}

    def clicks(self, customer_id: str, day: date) -> list[e.AdClick]:
        return self.click_rows.get(day, [])


def _sync_ads(platform: Platform) -> None:
    ads = FakeAds()
    sync = AdsCostSync(platform.store, ads, clock=lambda: datetime(2025, 3, 6, 6, tzinfo=UTC))
    first = sync.run(TENANT, [CUSTOMER], D4, D5)
    assert (first.cost_days_recorded, first.click_days_recorded) == (2, 1)
    # Google restates the 4th: keyword 32 is gone, keyword 31 and PMax cost more.
    ads.cost[D4] = [
        _keyword(31, "mri scan pune", cost_micros=1_200_000_000, clicks=12, impressions=120),
        _pmax(cost_micros=250_000_000, clicks=3, impressions=45),
    ]
    second = sync.run(TENANT, [CUSTOMER], D4, D5)
    assert (second.cost_days_recorded, second.cost_days_unchanged) == (1, 2)


@pytest.fixture
def scenario(platform: Platform, monkeypatch: pytest.MonkeyPatch) -> Platform:
    # Two rows an event: the 4th's first revisions come in two parts each.
    monkeypatch.setattr(e, "ADS_ROWS_PER_EVENT", 2)
    client = create_server().test_client()
    post_directory(client, TENANT, BRANCH, prefix="/commands")
    clinic = Clinic(client)
    _referrals(clinic)
    _ad_bookings(clinic)
    _sync_ads(platform)
    platform.catch_up()
    return platform


REFERRAL_COLUMNS = (
    "referrer_type",
    "referrer_id",
    "currency",
    "week",
    "referrals",
    "patients_referred",
    "scans",
    "new_patients",
    "revenue_minor",
    "trailing_30d_scans",
    "trailing_30d_new_patients",
    "trailing_30d_revenue_minor",
)
# One row a referrer and ISO week (its Monday) with referrals or scans. The trailing sums
# cover the 30 days ending on the week's Sunday: that Sunday and the 29 days before it.
REFERRAL_ROWS = [
    # r4 on Sunday 2 March; no scans in the 30 days to 2 March.
    ("consultant", "cons-b", "INR", date(2025, 2, 24), 1, 1, 0, 0, 0, 0, 0, 0),
    # a4 on the 5th: not new (p3's first scan is the unreferred a0 of 10 February),
    # 60,000 paid. The 30 days to Sunday 9 March (from 8 Feb) hold only a4.
    ("consultant", "cons-b", "INR", date(2025, 3, 3), 0, 0, 1, 0, 60_000, 1, 0, 60_000),
    # r1 (Sat) and r3 (Sun) both refer p1: 2 referrals, 1 patient. r2 (Monday 00:15
    # local) is not here. No scans in the 30 days to 2 March.
    ("gp", "dr-a", "INR", date(2025, 2, 24), 2, 1, 0, 0, 0, 0, 0, 0),
    # r2 (p2): 1 referral, 1 patient. Scans a1 (5th, p1's first: new, 850,000) and a3
    # (8th, p2's first: new; a2 cancelled does not count; 100,000 deposit + 350,000 -
    # 50,000 refunded on 5 April = 400,000): 2 scans, 2 new, 1,250,000. The 30 days to
    # Sunday 9 March (from 8 Feb) hold the same two scans.
    ("gp", "dr-a", "INR", date(2025, 3, 3), 1, 1, 2, 2, 1_250_000, 2, 2, 1_250_000),
    # a5 on Sunday 6 April: p1 is not new, nothing paid. The 30 days to 6 April start
    # on 8 March: a3 (1 scan, new, 400,000) and a5 (1 scan), not a1 of the 5th.
    ("gp", "dr-a", "INR", date(2025, 3, 31), 0, 0, 1, 0, 0, 2, 1, 400_000),
]

ADS_COLUMNS = (
    "day",
    "campaign_id",
    "campaign_name",
    "ad_group_id",
    "ad_group_name",
    "keyword_id",
    "keyword_text",
    "ads_currency",
    "cost_micros",
    "cost",
    "clicks",
    "impressions",
    "bookings",
    "cancelled_bookings",
    "paid_revenue_minor",
    "revenue_currency",
    "roas",
    "cost_per_booking",
)
BRAND = (11, "Brand", 21, "MRI")
# (day, campaign, ad group, keyword, ads_currency) -> (cost_micros, cost, clicks,
# impressions, bookings, cancelled_bookings, paid_revenue_minor, revenue_currency, roas,
# cost_per_booking)
ADS_ROWS = [
    # Revision 2 of the 4th: keyword 31 at 1,200 INR, PMax at 250, keyword 32 gone.
    # G1 booked twice: 850,000 + (450,000 - 50,000 refunded in April) = 1,250,000.
    (
        (D4, *BRAND, 31, "mri scan pune", "INR"),
        (1_200_000_000, 1200, 12, 120, 2, 0, 1_250_000, "INR", 10.4167, 600),
    ),
    # G3: one booking cancelled, its rebooking paid 60,000.
    (
        (D4, 12, "PMax", None, None, None, None, "INR"),
        (250_000_000, 250, 3, 45, 1, 1, 60_000, "INR", 2.4, 250),
    ),
    (
        (D4, None, "unattributed", None, None, None, None, None),
        (0, 0, 0, 0, 1, 0, 100_000, "INR", None, None),
    ),
    (
        (D5, *BRAND, 31, "mri scan pune", "INR"),
        (800_000_000, 800, 8, 80, 0, 0, 0, None, 0.0, None),
    ),
    # G2 booked at 00:20 on the 5th, its click (4th) named the keyword; no cost that day.
    ((D5, *BRAND, 32, "brain mri", "INR"), (0, 0, 0, 0, 1, 0, 0, "INR", None, 0)),
]


def _pick(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> list[tuple[Any, ...]]:
    return [tuple(row[c] for c in columns) for row in rows]


def _by_key(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    return sorted(rows, key=lambda r: (r[0], r[1] is None, r[1] or 0, r[5] or 0))


def test_referral_source_report(scenario: Platform) -> None:
    rows = scenario.warehouse.query("rpt_referral_source", {"tenant_id": TENANT})
    assert sorted(_pick(rows, REFERRAL_COLUMNS)) == REFERRAL_ROWS


def test_google_ads_report(scenario: Platform) -> None:
    rows = scenario.warehouse.query("rpt_google_ads", {"tenant_id": TENANT})
    got = _by_key(_pick(rows, ADS_COLUMNS))
    assert [(r[:8], r[8:-2]) for r in got] == [(key, m[:-2]) for key, m in ADS_ROWS]
    assert [r[-2:] for r in got] == [
        (None if m[-2] is None else pytest.approx(m[-2]), m[-1]) for _, m in ADS_ROWS
    ]


def test_unknown_tenant_has_no_rows(scenario: Platform) -> None:
    for report in ("rpt_referral_source", "rpt_google_ads"):
        assert scenario.warehouse.query(report, {"tenant_id": "t-unknown"}) == []


def test_marketing_touch_facts(scenario: Platform) -> None:
    rows = scenario.warehouse.query("fct_marketing_touch", {"tenant_id": TENANT})
    columns = ("touch_id", "branch_id", "gclid", "source", "medium", "campaign", "keyword")
    assert _pick(rows, columns) == [("tc1", BRANCH, "G1", "google", "cpc", "Brand", None)]
    assert _pick(rows, ("patient_id", "booking_flag", "touched_at")) == [
        ("pg1", True, datetime(2025, 3, 4, 5, 25, tzinfo=UTC))
    ]


def test_a_rebuild_gives_the_same_reports(scenario: Platform) -> None:
    before = {
        name: scenario.warehouse.query(name, {"tenant_id": TENANT})
        for name in ("rpt_referral_source", "rpt_google_ads", "fct_marketing_touch")
    }
    scenario.rebuild_projections()
    for name, rows in before.items():
        assert scenario.warehouse.query(name, {"tenant_id": TENANT}) == rows


# --- revisions arriving part by part, and directory versions ----------------------------

T0 = datetime(2025, 3, 6, 6, tzinfo=UTC)
METADATA = Metadata(tenant_id="t2", actor="test", source="test")


def _cost_event(revision: int, part: int, parts: int, micros: int, version: int) -> EventEnvelope:
    payload = e.AdCostRecorded(
        customer_id=CUSTOMER,
        day=D4,
        revision=revision,
        part=part,
        parts=parts,
        content_hash=f"{revision:064x}",
        currency="INR",
        rows=[_pmax(cost_micros=micros, clicks=1, impressions=1)],
    )
    return build_envelope(
        payload,
        metadata=METADATA,
        branch_id=None,
        stream_version=version,
        occurred_at=T0,
        recorded_at=T0,
    )


def _pmax_cost(platform: Platform) -> list[int]:
    rows = platform.warehouse.query("int_ad_cost", {"tenant_id": "t2"})
    return sorted(r["cost_micros"] for r in rows)


def test_a_revision_replaces_the_day_only_once_all_its_parts_arrived(platform: Platform) -> None:
    stream = f"ad_cost:{CUSTOMER}:{D4.isoformat()}"
    platform.store.append("t2", stream, 0, [_cost_event(1, 1, 1, 100, 1)])
    platform.store.append("t2", stream, 1, [_cost_event(2, 1, 2, 200, 2)])
    platform.catch_up()
    assert _pmax_cost(platform) == [100]
    platform.store.append("t2", stream, 2, [_cost_event(2, 2, 2, 200, 3)])
    platform.catch_up()
    assert _pmax_cost(platform) == [200]


def _registered(at: datetime, name: str) -> EventEnvelope:
    payload = e.ClinicianRegistered(
        clinician_id="c9",
        branch_id="b9",
        display_name=name,
        modalities=["MRI", "CT"],
        working_hours=[],
    )
    return build_envelope(
        payload,
        metadata=METADATA,
        branch_id="b9",
        stream_version=1,
        occurred_at=at,
        recorded_at=at,
    )


def test_dim_clinician_keeps_every_registration_as_a_version(platform: Platform) -> None:
    later = datetime(2025, 6, 1, tzinfo=UTC)
    events = [_registered(later, "Radiographer B"), _registered(T0, "Radiographer A")]
    projection = WarehouseFactsProjection()

    def apply(uow: Any) -> None:
        for event in events:  # delivered latest first: the versions come out the same
            projection.apply(uow, event)

    platform.warehouse.transact(apply)
    rows = platform.warehouse.query("dim_clinician", {"tenant_id": "t2"})
    columns = ("display_name", "modalities", "valid_from", "valid_to", "is_current")
    assert _pick(rows, columns) == [
        ("Radiographer A", "MRI,CT", T0, later, False),
        ("Radiographer B", "MRI,CT", later, None, True),
    ]
    platform.catch_up()  # the seeded directory's rooms
    rooms = platform.warehouse.query("dim_room", {"tenant_id": "tenant-a"})
    assert _pick(rooms, ("room_id", "modalities", "valid_to", "is_current")) == [
        ("room-1", "MRI,CT,XRAY", None, True),
        ("room-2", "MRI,CT,XRAY", None, True),
    ]
