"""The warehouse's ``fct_referral`` and ``fct_marketing_touch``: where patients come
from. Part of the warehouse facts projection; each row is keyed by the id its event
creates, so a replay writes the same rows in any order of streams."""

from __future__ import annotations

from mymedic.domain import events as e
from mymedic.domain.envelope import EventEnvelope
from mymedic.ports import WarehouseUnitOfWork

REFERRALS = "fct_referral"
TOUCHES = "fct_marketing_touch"
ACQUISITION_TABLES = (REFERRALS, TOUCHES)
CATEGORIES = frozenset({e.ReferralReceived.category, e.MarketingTouchRecorded.category})
EVENT_TYPES = frozenset({e.ReferralReceived.event_type, e.MarketingTouchRecorded.event_type})


def apply_acquisition(uow: WarehouseUnitOfWork, event: EventEnvelope) -> None:
    data = event.data()
    common = {
        "tenant_id": event.tenant_id,
        "branch_id": event.branch_id if event.branch_id != "*" else None,
        "updated_at": event.occurred_at,
        "last_event_id": event.event_id,
    }
    match data:
        case e.ReferralReceived():
            uow.put_row(
                REFERRALS,
                {
                    **common,
                    "referral_id": data.referral_id,
                    "patient_id": data.patient_id,
                    "referrer_id": data.referrer_id,
                    "referrer_type": data.referrer_type.value,
                    "received_at": event.occurred_at,
                },
            )
        case e.MarketingTouchRecorded():
            uow.put_row(
                TOUCHES,
                {
                    **common,
                    "touch_id": data.touch_id,
                    "gclid": data.gclid,
                    "session_id": data.session_id,
                    "source": data.source,
                    "medium": data.medium,
                    "campaign": data.campaign,
                    "ad_group": data.ad_group,
                    "keyword": data.keyword,
                    "landing_page": data.landing_page,
                    "patient_id": data.patient_id,
                    "booking_flag": data.booking_flag,
                    "touched_at": event.occurred_at,
                },
            )
