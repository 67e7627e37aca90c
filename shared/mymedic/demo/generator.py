"""Generate a synthetic, seeded clinic chain as a time-ordered list of commands.

Every name, phone number and e-mail address is made up from small word lists and a
seeded random generator: no real person's data is involved.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

FIRST_NAMES = (
    "Asha",
    "Ravi",
    "Meera",
    "Kiran",
    "Anil",
    "Divya",
    "Sanjay",
    "Leela",
    "Arjun",
    "Nisha",
    "Vikram",
    "Pooja",
    "Rahul",
    "Sunita",
    "Dev",
    "Farah",
    "Imran",
    "Tara",
)
LAST_NAMES = (
    "Rao",
    "Shah",
    "Iyer",
    "Menon",
    "Gupta",
    "Das",
    "Khan",
    "Nair",
    "Patel",
    "Reddy",
    "Bose",
    "Joshi",
    "Pillai",
    "Verma",
    "Kapoor",
    "Sethi",
)


@dataclass(frozen=True)
class Modality:
    code: str
    procedures: tuple[tuple[str, int], ...]  # (procedure code, price in minor units)
    duration_minutes: int


MODALITIES = (
    Modality("MRI", (("MRI-BRAIN", 850_000), ("MRI-KNEE", 700_000), ("MRI-SPINE", 900_000)), 45),
    Modality("CT", (("CT-CHEST", 450_000), ("CT-ABDOMEN", 550_000)), 30),
    Modality("XRAY", (("XR-CHEST", 60_000), ("XR-LIMB", 50_000)), 15),
    Modality("USG", (("USG-ABDOMEN", 150_000), ("USG-PELVIS", 140_000)), 20),
    Modality("CONSULT", (("CONSULT-RADIOLOGY", 100_000),), 20),
)


@dataclass(frozen=True)
class TenantSpec:
    tenant_id: str
    currency: str
    utc_offset: timedelta
    branches: tuple[str, ...]


TENANTS = (
    TenantSpec(
        "sunrise-imaging",
        "INR",
        timedelta(hours=5, minutes=30),
        ("pune-central", "mumbai-west", "bengaluru-north"),
    ),
    TenantSpec(
        "harbour-clinics", "INR", timedelta(hours=5, minutes=30), ("kochi-port", "chennai-south")
    ),
)


@dataclass(frozen=True)
class DemoCommand:
    at: datetime
    name: str
    body: dict[str, Any]


@dataclass
class _TenantState:
    spec: TenantSpec
    patients: list[str] = field(default_factory=list)
    counter: int = 0

    def next_id(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}-{self.counter:06d}"


def generate(
    seed: int = 7, appointments: int = 3000, end: date = date(2026, 10, 31), months: int = 14
) -> list[DemoCommand]:
    """About ``appointments`` bookings spread over ``months`` months up to ``end``, with
    registrations, referrals, ad clicks, reschedules, cancellations, no-shows,
    completions, invoices, payments, refunds and NPS responses, in time order."""
    rng = random.Random(seed)
    start = end - timedelta(days=30 * months)
    now = datetime.combine(end, time(18, 0), UTC)
    days = [start + timedelta(days=d) for d in range((end - start).days + 1)]
    working_days = [d for d in days if d.weekday() != 6]
    branches = [(t, b) for t in TENANTS for b in t.branches]
    per_day = appointments / (len(working_days) * len(branches))
    states = {t.tenant_id: _TenantState(t) for t in TENANTS}
    # Intervals taken ahead of time by reschedules, per room and day: later bookings
    # of that day are placed around them, so no room or clinician is double booked.
    taken: Taken = {}
    out: list[DemoCommand] = []
    for day in working_days:
        for tenant, branch in branches:
            state = states[tenant.tenant_id]
            zone = timezone(tenant.utc_offset)
            rooms_free: dict[str, datetime] = {}
            for _ in range(_daily_count(rng, per_day)):
                modality = rng.choices(MODALITIES, weights=(3, 3, 5, 4, 2))[0]
                room = f"{branch}-{modality.code.lower()}-1"
                slot = rooms_free.get(room, datetime.combine(day, time(9, 0), zone))
                length = timedelta(minutes=modality.duration_minutes)
                slot = _first_free(taken.get((room, day), []), slot, length)
                if slot.hour >= 18:
                    continue
                rooms_free[room] = slot + length
                out.extend(
                    _appointment_story(
                        rng,
                        state,
                        branch=branch,
                        modality=modality,
                        room=room,
                        start_at=slot,
                        now=now,
                        taken=taken,
                    )
                )
    out.sort(key=lambda c: c.at)
    return out


Taken = dict[tuple[str, date], list[tuple[datetime, datetime]]]


def _first_free(
    taken: list[tuple[datetime, datetime]], start: datetime, length: timedelta
) -> datetime:
    """The earliest start at or after ``start`` clear of every taken interval."""
    moved = True
    while moved:
        moved = False
        for begin, end in taken:
            if begin < start + length and start < end:
                start, moved = end, True
    return start


def _daily_count(rng: random.Random, mean: float) -> int:
    """A whole number of bookings whose expectation is ``mean``, with some spread."""
    spread = min(1.0, mean / 2)
    value = mean + rng.uniform(-spread, spread)
    whole = int(value)
    return whole + (1 if rng.random() < value - whole else 0)


def _appointment_story(
    rng: random.Random,
    state: _TenantState,
    *,
    branch: str,
    modality: Modality,
    room: str,
    start_at: datetime,
    now: datetime,
    taken: Taken,
) -> list[DemoCommand]:
    tenant = state.spec
    base = {"tenant_id": tenant.tenant_id, "branch_id": branch}
    booked_at = start_at - timedelta(
        days=rng.choice((0, 1, 2, 3, 5, 7, 10, 14, 21)), hours=rng.randint(1, 8)
    )
    story: list[DemoCommand] = []

    def add(at: datetime, name: str, **fields: Any) -> None:
        story.append(DemoCommand(at, name, {**base, "occurred_at": at.isoformat(), **fields}))

    if state.patients and rng.random() < 0.35:
        patient = rng.choice(state.patients)
    else:
        patient = state.next_id("pat")
        state.patients.append(patient)
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        add(
            booked_at - timedelta(minutes=30),
            "register_patient",
            patient_id=patient,
            sex=rng.choice(("female", "male")),
            channel=rng.choice(("portal", "phone", "console")),
            personal={
                "full_name": f"{first} {last}",
                "phone": f"+91 9{rng.randint(100000000, 999999999)}",
                "email": f"{first.lower()}.{last.lower()}{rng.randint(1, 999)}@example.com",
                "date_of_birth": date(
                    rng.randint(1940, 2015), rng.randint(1, 12), rng.randint(1, 28)
                ).isoformat(),
                "postcode": f"{rng.randint(400001, 699999)}",
            },
        )
    referral_id = gclid = None
    if rng.random() < 0.3:
        referral_id = state.next_id("ref")
        add(
            booked_at - timedelta(minutes=20),
            "record_referral",
            referral_id=referral_id,
            patient_id=patient,
            referrer_id=f"dr-{rng.randint(1, 12):02d}",
            referrer_type=rng.choice(("gp", "consultant", "consultant", "insurer")),
        )
    if rng.random() < 0.2:
        gclid = f"Cj0KCQ{rng.getrandbits(64):016x}"
        add(
            booked_at - timedelta(minutes=10),
            "record_marketing_touch",
            touch_id=state.next_id("touch"),
            gclid=gclid,
            source="google",
            medium="cpc",
            campaign=f"{modality.code.lower()}-{branch}",
            keyword=f"{modality.code.lower()} scan",
            landing_page=f"https://clinic.example/{modality.code.lower()}",
            patient_id=patient,
            booking_flag=True,
        )
    appointment = state.next_id("apt")
    procedure, price = rng.choice(modality.procedures)
    clinician = f"{room}-clinician"  # each modality room has its own radiographer
    add(
        booked_at,
        "book_appointment",
        appointment_id=appointment,
        patient_id=patient,
        clinician_id=clinician,
        room_id=room,
        modality=modality.code,
        procedure_code=procedure,
        start_at=start_at.isoformat(),
        duration_minutes=modality.duration_minutes,
        channel=rng.choice(("portal", "phone", "console")),
        price_minor=price,
        currency=tenant.currency,
        referral_id=referral_id,
        gclid=gclid,
    )
    ref = {"appointment_id": appointment}
    length = timedelta(minutes=modality.duration_minutes)
    later = start_at + timedelta(days=7)
    if (
        rng.random() < 0.07
        and booked_at + timedelta(hours=2) < start_at
        and _first_free(taken.get((room, later.date()), []), later, length) == later
    ):
        # Moved a week on, to an interval held free for it on that day.
        taken.setdefault((room, later.date()), []).append((later, later + length))
        add(
            booked_at + timedelta(hours=1),
            "reschedule_appointment",
            **ref,
            start_at=(start_at + timedelta(days=7)).isoformat(),
            reason="patient request",
        )
        start_at += timedelta(days=7)
    end_at = start_at + timedelta(minutes=modality.duration_minutes)
    if end_at > now:
        return story
    roll = rng.random()
    if roll < 0.10:
        add(
            start_at - timedelta(hours=rng.randint(1, 30))
            if start_at - timedelta(hours=30) > booked_at
            else booked_at + timedelta(minutes=5),
            "cancel_appointment",
            **ref,
            reason=rng.choice(("patient unwell", "travel", "booked elsewhere")),
        )
        return story
    if roll < 0.18:
        add(end_at, "mark_no_show", **ref)
        return story
    add(end_at, "complete_appointment", **ref)
    invoice = state.next_id("inv")
    payer = rng.choices(("self_pay", "insurer", "corporate"), weights=(7, 2, 1))[0]
    add(
        end_at + timedelta(minutes=5),
        "issue_invoice",
        invoice_id=invoice,
        appointment_id=appointment,
        patient_id=patient,
        payer_type=payer,
        amount_minor=price,
        currency=tenant.currency,
        due_on=(end_at + timedelta(days=30)).date().isoformat(),
    )
    if rng.random() < 0.9:
        payment = state.next_id("pay")
        mode = rng.choice(("upi", "upi", "card", "cash"))
        add(
            end_at + timedelta(minutes=10),
            "capture_payment",
            invoice_id=invoice,
            payment_id=payment,
            amount_minor=price,
            currency=tenant.currency,
            mode=mode,
            provider="cash" if mode == "cash" else "razorpay",
        )
        if rng.random() < 0.03:
            add(
                end_at + timedelta(days=2),
                "refund_payment",
                invoice_id=invoice,
                refund_id=state.next_id("rfd"),
                payment_id=payment,
                amount_minor=price // 2,
                currency=tenant.currency,
                reason="partial service",
            )
    if rng.random() < 0.3:
        add(
            end_at + timedelta(days=1),
            "record_nps_response",
            response_id=state.next_id("nps"),
            patient_id=patient,
            appointment_id=appointment,
            score=rng.choice((6, 7, 8, 9, 9, 10, 10)),
        )
    return story
