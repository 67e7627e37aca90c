"""Generate a synthetic, seeded clinic chain as a time-ordered list of commands.

Every name, phone number and e-mail address is made up from small word lists and a
seeded random generator: no real person's data is involved.

The chain first registers its directory (branches, one room per modality and its
radiographer, price lists, the cancellation policy), then books within the rules the
platform enforces: in the clinician's working hours, clear of blocked time and of other
bookings, after the moment of booking, at the price in force on the day of booking.
The generator keeps its own copy of those rules (prices, deposits, forfeits) to write
payments and refunds the platform accepts.
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
    procedures: tuple[tuple[str, int], ...]  # (procedure code, base price in minor units)
    duration_minutes: int


MODALITIES = (
    Modality("MRI", (("MRI-BRAIN", 850_000), ("MRI-KNEE", 700_000), ("MRI-SPINE", 900_000)), 45),
    Modality("CT", (("CT-CHEST", 450_000), ("CT-ABDOMEN", 550_000)), 30),
    Modality("XRAY", (("XR-CHEST", 60_000), ("XR-LIMB", 50_000)), 15),
    Modality("USG", (("USG-ABDOMEN", 150_000), ("USG-PELVIS", 140_000)), 20),
    Modality("CONSULT", (("CONSULT-RADIOLOGY", 100_000),), 20),
)


# The equipment in each modality's room (codes of synthetic scanner models).
EQUIPMENT: dict[str, tuple[str, ...]] = {
    "MRI": ("mr-1-5t", "mr-knee-coil"),
    "CT": ("ct-64-slice",),
    "XRAY": ("dr-digital",),
    "USG": ("us-console", "us-linear-probe"),
    "CONSULT": (),
}


@dataclass(frozen=True)
class TenantSpec:
    tenant_id: str
    currency: str
    utc_offset: timedelta  # of ``timezone``, which keeps no daylight saving time
    branches: tuple[str, ...]
    timezone: str = "Asia/Kolkata"


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

# Every radiographer works Monday to Saturday, 08:00-19:00 branch time; bookings start
# from 09:00 and before 18:00, so the longest (45 min) ends by 18:45.
WORKING_HOURS = tuple(
    {"weekday": weekday, "start": "08:00", "end": "19:00"} for weekday in range(6)
)
FIRST_START, LAST_START = time(9, 0), time(18, 0)
SUNDAY = 6
# The tenants' cancellation policy: a cancellation less than 24 h before the start, and
# a no-show, forfeit half of the deposit held.
FORFEIT_WITHIN_HOURS, FORFEIT_PERCENT = 24, 50
DEPOSIT_PERCENT = 20  # of the price, taken at booking by some portal bookings
# Mid-period, these procedures go up by 5 % at every branch.
PRICE_RISE_PERCENT = 5
PRICE_RISE = ("MRI-BRAIN", "CT-CHEST", "XR-CHEST", "USG-ABDOMEN")
# The directory is registered this long before the first day (bookings are made up to
# three weeks ahead).
LEAD_IN = timedelta(days=30)


@dataclass(frozen=True)
class DemoCommand:
    at: datetime
    name: str
    body: dict[str, Any]


@dataclass(frozen=True)
class PriceBook:
    """The price lists the generator registers, as the platform reads them: the base
    list in force from ``since``, and the rise of ``PRICE_RISE`` from ``rise_from``."""

    since: date
    rise_from: date

    @staticmethod
    def risen(price: int) -> int:
        return price + price * PRICE_RISE_PERCENT // 100

    def price_on(self, day: date, procedure: str) -> int:
        """The price in force on ``day`` (the branch's local day of booking)."""
        if day < self.since:
            raise ValueError(f"no price list in force on {day}")
        base = dict(p for m in MODALITIES for p in m.procedures)[procedure]
        return self.risen(base) if day >= self.rise_from and procedure in PRICE_RISE else base


@dataclass(frozen=True)
class FollowUp:
    appointment_id: str  # the appointment that scheduled it
    follow_up_id: str
    patient_id: str
    modality: Modality
    procedure: str


@dataclass
class _TenantState:
    spec: TenantSpec
    patients: list[str] = field(default_factory=list)
    counter: int = 0
    # Follow-ups to book, by branch and due day.
    follow_ups: dict[tuple[str, date], list[FollowUp]] = field(default_factory=dict)

    def next_id(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}-{self.counter:06d}"

    @property
    def zone(self) -> timezone:
        return timezone(self.spec.utc_offset)


# Intervals held ahead of time per room (and so its clinician) and day, by reschedules
# and by blocked clinician time: later bookings of that day are placed around them, so
# no room or clinician is double booked and nobody is booked into blocked time.
Taken = dict[tuple[str, date], list[tuple[datetime, datetime]]]


@dataclass
class _Chain:
    rng: random.Random
    now: datetime
    prices: PriceBook
    taken: Taken = field(default_factory=dict)


def generate(
    seed: int = 7, appointments: int = 3000, end: date = date(2026, 10, 31), months: int = 14
) -> list[DemoCommand]:
    """About ``appointments`` bookings spread over ``months`` months up to ``end``, in
    time order: first each tenant's directory (branches, rooms, clinicians, price lists,
    cancellation policy), then registrations, referrals, ad clicks, bookings, deposits,
    reschedules, blocked clinician time, cancellations (with forfeited deposits),
    no-shows, arrivals, completions, payments, invoices, refunds, follow-ups and NPS
    responses. Nothing happens after 18:00 UTC on ``end``."""
    rng = random.Random(seed)
    start = end - timedelta(days=30 * months)
    now = datetime.combine(end, time(18, 0), UTC)
    middle = start + (end - start) / 2
    since = start - LEAD_IN
    rise_from = max(date(middle.year, middle.month, 1), since + timedelta(days=1))
    prices = PriceBook(since=since, rise_from=rise_from)
    chain = _Chain(rng, now, prices)
    days = [start + timedelta(days=d) for d in range((end - start).days + 1)]
    working_days = [d for d in days if d.weekday() != SUNDAY]
    branches = [(t, b) for t in TENANTS for b in t.branches]
    per_day = appointments / (len(working_days) * len(branches))
    states = {t.tenant_id: _TenantState(t) for t in TENANTS}
    out: list[DemoCommand] = []
    for state in states.values():
        out.extend(_directory(state, prices))
        out.extend(_blocks(chain, state, working_days))
    for day in working_days:
        for tenant, branch in branches:
            out.extend(_branch_day(chain, states[tenant.tenant_id], branch, day, per_day))
    out.sort(key=lambda c: c.at)
    # Dropping everything after ``now`` keeps every story consistent: what a dropped
    # command would have enabled comes later still, and is dropped too.
    return [c for c in out if c.at <= now]


def _branch_day(
    chain: _Chain, state: _TenantState, branch: str, day: date, per_day: float
) -> list[DemoCommand]:
    """The bookings made for one branch's day, each with the rest of its story; the
    follow-ups due that day are booked first."""
    zone = state.zone
    close = datetime.combine(day, LAST_START, zone)
    due = state.follow_ups.pop((branch, day), [])
    rooms_free: dict[str, datetime] = {}
    out: list[DemoCommand] = []
    for _ in range(_daily_count(chain.rng, per_day)):
        follow_up = due.pop(0) if due else None
        if follow_up is not None:
            modality = follow_up.modality
        else:
            modality = chain.rng.choices(MODALITIES, weights=(3, 3, 5, 4, 2))[0]
        room = _room(branch, modality)
        slot = rooms_free.get(room, datetime.combine(day, FIRST_START, zone))
        length = timedelta(minutes=modality.duration_minutes)
        slot = _first_free(chain.taken.get((room, day), []), slot, length)
        if slot >= close:
            continue
        rooms_free[room] = slot + length
        out.extend(
            _appointment_story(
                chain, state, branch=branch, modality=modality, start_at=slot, follow_up=follow_up
            )
        )
    return out


def _room(branch: str, modality: Modality) -> str:
    return f"{branch}-{modality.code.lower()}-1"


def _clinician(room: str) -> str:
    return f"{room}-clinician"  # each modality room has its own radiographer


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


# --- the directory ------------------------------------------------------------------------


def _directory(state: _TenantState, prices: PriceBook) -> list[DemoCommand]:
    """Branches, rooms and clinicians, the base price list and the tenant's cancellation
    policy, one second apart before anything else; then the price rise, announced two
    weeks before it takes effect (a day after the rest, for a short period)."""
    tenant = state.spec
    at = datetime.combine(prices.since, time(7, 0), state.zone)
    out: list[DemoCommand] = []

    def add(branch: str, name: str, **fields: Any) -> None:
        moment = at + timedelta(seconds=len(out))
        body = {"tenant_id": tenant.tenant_id, "branch_id": branch}
        out.append(DemoCommand(moment, name, {**body, "occurred_at": moment.isoformat(), **fields}))

    def entry(modality: Modality, procedure: str, price: int) -> dict[str, Any]:
        return {
            "procedure_code": procedure,
            "modality": modality.code,
            "price_minor": price,
            "currency": tenant.currency,
            "duration_minutes": modality.duration_minutes,
        }

    for branch in tenant.branches:
        add(
            branch,
            "register_branch",
            display_name=branch.replace("-", " ").title(),
            city=branch.split("-")[0].title(),
            timezone=tenant.timezone,
            currency=tenant.currency,
        )
        for modality in MODALITIES:
            room = _room(branch, modality)
            add(
                branch,
                "register_room",
                room_id=room,
                display_name=f"{modality.code} room 1",
                modalities=[modality.code],
                equipment=list(EQUIPMENT[modality.code]),
            )
            add(
                branch,
                "register_clinician",
                clinician_id=_clinician(room),
                display_name=f"{modality.code} radiographer 1",
                modalities=[modality.code],
                working_hours=list(WORKING_HOURS),
            )
        add(
            branch,
            "update_price_list",
            effective_from=prices.since.isoformat(),
            prices=[entry(m, code, price) for m in MODALITIES for code, price in m.procedures],
        )
    add(
        "*",
        "set_cancellation_policy",
        forfeit_within_hours=FORFEIT_WITHIN_HOURS,
        forfeit_percent=FORFEIT_PERCENT,
        forfeit_on_no_show=True,
    )
    announced = max(prices.rise_from - timedelta(days=14), prices.since + timedelta(days=1))
    at = datetime.combine(announced, time(9, 0), state.zone)
    for branch in tenant.branches:
        add(
            branch,
            "update_price_list",
            effective_from=prices.rise_from.isoformat(),
            prices=[
                entry(m, code, prices.risen(price))
                for m in MODALITIES
                for code, price in m.procedures
                if code in PRICE_RISE
            ],
        )
    return out


def _blocks(chain: _Chain, state: _TenantState, working_days: list[date]) -> list[DemoCommand]:
    """Per branch, two Saturday afternoons of training and a day of leave for some
    radiographer, blocked four weeks ahead (before any booking for that day); the
    first tenant branch's leave is called off a few days later. The generator keeps
    every booking clear of blocked time, called off or not."""
    rng, zone = chain.rng, state.zone
    later = [d for d in working_days if d >= working_days[0] + timedelta(days=7)]
    saturdays = [d for d in later if d.weekday() == 5]
    weekdays = [d for d in later if d.weekday() < 5]
    out: list[DemoCommand] = []
    if not saturdays or not weekdays:
        return out
    for number, branch in enumerate(state.spec.branches):
        wanted = [
            (day, time(13, 0), timedelta(hours=6), "training")
            for day in sorted(rng.sample(saturdays, min(2, len(saturdays))))
        ]
        wanted.append((rng.choice(weekdays), time(0, 0), timedelta(days=1), "annual leave"))
        for day, begin, length, reason in wanted:
            room = _room(branch, rng.choice(MODALITIES))
            start_at = datetime.combine(day, begin, zone)
            end_at = start_at + length
            chain.taken.setdefault((room, day), []).append((start_at, end_at))
            at = datetime.combine(day - timedelta(days=28), time(10, 0), zone)
            block = state.next_id("blk")
            ids = {
                "tenant_id": state.spec.tenant_id,
                "branch_id": branch,
                "clinician_id": _clinician(room),
                "block_id": block,
            }
            out.append(
                DemoCommand(
                    at,
                    "block_clinician_time",
                    {
                        **ids,
                        "occurred_at": at.isoformat(),
                        "start_at": start_at.isoformat(),
                        "end_at": end_at.isoformat(),
                        "reason": reason,
                    },
                )
            )
            if number == 0 and reason == "annual leave":
                undo = at + timedelta(days=3)
                out.append(
                    DemoCommand(
                        undo, "unblock_clinician_time", {**ids, "occurred_at": undo.isoformat()}
                    )
                )
    return out


# --- one appointment's story ----------------------------------------------------------


@dataclass
class _Story:
    base: dict[str, Any]
    commands: list[DemoCommand] = field(default_factory=list)

    def add(self, at: datetime, name: str, **fields: Any) -> None:
        body = {**self.base, "occurred_at": at.isoformat(), **fields}
        self.commands.append(DemoCommand(at, name, body))


@dataclass
class _Booking:
    """What the generator knows of a booked appointment: the platform's own view."""

    appointment_id: str
    patient_id: str
    modality: Modality
    procedure: str
    room: str
    booked_at: datetime
    start_at: datetime
    price: int
    currency: str
    deposit_id: str | None = None
    deposit: int = 0
    forfeited: int = 0

    @property
    def end_at(self) -> datetime:
        return self.start_at + timedelta(minutes=self.modality.duration_minutes)

    @property
    def ref(self) -> dict[str, Any]:
        return {"appointment_id": self.appointment_id}

    def forfeit(self) -> None:
        """The policy's effect on a late cancellation or a no-show: part of the deposit
        held (nothing refunded or forfeited before) is kept."""
        self.forfeited += (self.deposit - self.forfeited) * FORFEIT_PERCENT // 100


def _appointment_story(
    chain: _Chain,
    state: _TenantState,
    *,
    branch: str,
    modality: Modality,
    start_at: datetime,
    follow_up: FollowUp | None,
) -> list[DemoCommand]:
    rng = chain.rng
    story = _Story({"tenant_id": state.spec.tenant_id, "branch_id": branch})
    booked_at = start_at - timedelta(
        days=rng.choice((0, 1, 2, 3, 5, 7, 10, 14, 21)), hours=rng.randint(1, 8)
    )
    if follow_up is not None:
        patient, procedure = follow_up.patient_id, follow_up.procedure
        referral_id = gclid = None
        channel = rng.choice(("phone", "console"))
    else:
        patient, referral_id, gclid = _lead_in(
            rng, state, story, branch=branch, modality=modality, booked_at=booked_at
        )
        procedure = rng.choice(modality.procedures)[0]
        channel = rng.choice(("portal", "phone", "console"))
    booking = _Booking(
        appointment_id=state.next_id("apt"),
        patient_id=patient,
        modality=modality,
        procedure=procedure,
        room=_room(branch, modality),
        booked_at=booked_at,
        start_at=start_at,
        # The price list in force on the branch's day of booking, as the platform reads it.
        price=chain.prices.price_on(booked_at.date(), procedure),
        currency=state.spec.currency,
    )
    story.add(
        booked_at,
        "book_appointment",
        **booking.ref,
        patient_id=patient,
        clinician_id=_clinician(booking.room),
        room_id=booking.room,
        modality=modality.code,
        procedure_code=procedure,
        start_at=start_at.isoformat(),
        channel=channel,
        referral_id=referral_id,
        gclid=gclid,
        **(
            {
                "follow_up_appointment_id": follow_up.appointment_id,
                "follow_up_id": follow_up.follow_up_id,
            }
            if follow_up is not None
            else {}
        ),
    )
    if channel == "portal" and rng.random() < 0.4:
        booking.deposit_id = state.next_id("pay")
        booking.deposit = booking.price * DEPOSIT_PERCENT // 100
        story.add(
            booked_at + timedelta(minutes=2),
            "take_payment",
            **booking.ref,
            payment_id=booking.deposit_id,
            kind="deposit",
            amount_minor=booking.deposit,
            currency=booking.currency,
            mode=rng.choice(("upi", "upi", "card")),
            provider="razorpay",
        )
    _maybe_reschedule(chain, story, booking)
    if booking.end_at <= chain.now:
        _outcome(chain, state, story, booking, branch)
    return story.commands


def _lead_in(
    rng: random.Random,
    state: _TenantState,
    story: _Story,
    *,
    branch: str,
    modality: Modality,
    booked_at: datetime,
) -> tuple[str, str | None, str | None]:
    """The patient (registered now, or one seen before), a referral and an ad click."""
    if state.patients and rng.random() < 0.35:
        patient = rng.choice(state.patients)
    else:
        patient = state.next_id("pat")
        state.patients.append(patient)
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        story.add(
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
        story.add(
            booked_at - timedelta(minutes=20),
            "record_referral",
            referral_id=referral_id,
            patient_id=patient,
            referrer_id=f"dr-{rng.randint(1, 12):02d}",
            referrer_type=rng.choice(("gp", "consultant", "consultant", "insurer")),
        )
    if rng.random() < 0.2:
        gclid = f"Cj0KCQ{rng.getrandbits(64):016x}"
        story.add(
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
    return patient, referral_id, gclid


def _maybe_reschedule(chain: _Chain, story: _Story, booking: _Booking) -> None:
    """Sometimes moved a week on (the same weekday and time: a working day, in working
    hours), to an interval held free for it on that day."""
    length = timedelta(minutes=booking.modality.duration_minutes)
    later = booking.start_at + timedelta(days=7)
    held = chain.taken.get((booking.room, later.date()), [])
    if (
        chain.rng.random() < 0.07
        and booking.booked_at + timedelta(hours=2) < booking.start_at
        and _first_free(held, later, length) == later
    ):
        chain.taken.setdefault((booking.room, later.date()), []).append((later, later + length))
        story.add(
            booking.booked_at + timedelta(hours=1),
            "reschedule_appointment",
            **booking.ref,
            start_at=later.isoformat(),
            reason="patient request",
        )
        booking.start_at = later


def _outcome(
    chain: _Chain, state: _TenantState, story: _Story, booking: _Booking, branch: str
) -> None:
    """Cancelled, missed or seen."""
    rng = chain.rng
    roll = rng.random()
    if roll < 0.10:
        start_at, booked_at = booking.start_at, booking.booked_at
        cancel_at = (
            start_at - timedelta(hours=rng.randint(1, 30))
            if start_at - timedelta(hours=30) > booked_at
            else booked_at + timedelta(minutes=5)
        )
        story.add(
            cancel_at,
            "cancel_appointment",
            **booking.ref,
            reason=rng.choice(("patient unwell", "travel", "booked elsewhere")),
        )
        if (start_at - cancel_at).total_seconds() / 3600 < FORFEIT_WITHIN_HOURS:
            booking.forfeit()
        if rng.random() < 0.8:
            _return_deposit(state, story, booking, cancel_at + timedelta(days=1), "cancelled")
        return
    if roll < 0.18:
        story.add(booking.end_at, "mark_no_show", **booking.ref)
        booking.forfeit()
        if rng.random() < 0.3:
            _return_deposit(state, story, booking, booking.end_at + timedelta(days=3), "goodwill")
        return
    if rng.random() < 0.6:
        story.add(
            booking.start_at - timedelta(minutes=rng.randint(5, 20)), "mark_arrived", **booking.ref
        )
    story.add(booking.end_at, "complete_appointment", **booking.ref)
    payer = rng.choices(("self_pay", "insurer", "corporate"), weights=(7, 2, 1))[0]
    if payer == "self_pay":
        _pay_at_desk(rng, state, story, booking)
    else:
        _invoice(rng, state, story, booking, payer)
    if rng.random() < 0.1:
        _follow_up(rng, state, story, booking, branch)
    if rng.random() < 0.3:
        response_id = state.next_id("nps")
        story.add(
            booking.end_at + timedelta(days=1),
            "record_nps_response",
            response_id=response_id,
            patient_id=booking.patient_id,
            appointment_id=booking.appointment_id,
            score=rng.choice((6, 7, 8, 9, 9, 10, 10)),
            **_nps_comment(response_id),
        )


NPS_COMMENTS = (
    "Quick and friendly, thank you",
    "The wait was longer than I was told",
    "Clear explanation of the scan",
    "Parking was hard to find",
)


def _nps_comment(response_id: str) -> dict[str, str]:
    """A free-text comment on some responses, drawn from the response's own id so that
    the chain's other draws stay as they were."""
    draw = random.Random(response_id)
    return {"comment": draw.choice(NPS_COMMENTS)} if draw.random() < 0.3 else {}


def _return_deposit(
    state: _TenantState, story: _Story, booking: _Booking, at: datetime, why: str
) -> None:
    """Refund what is left of the deposit: a forfeited part can no longer go back."""
    refundable = booking.deposit - booking.forfeited
    if booking.deposit_id is None or refundable <= 0:
        return
    kept = f", {booking.forfeited} kept under the cancellation policy" if booking.forfeited else ""
    story.add(
        at,
        "refund_appointment_payment",
        **booking.ref,
        refund_id=state.next_id("rfd"),
        payment_id=booking.deposit_id,
        amount_minor=refundable,
        currency=booking.currency,
        reason=f"deposit returned ({why}{kept})",
    )


def _pay_at_desk(rng: random.Random, state: _TenantState, story: _Story, booking: _Booking) -> None:
    """A self-paying patient pays the balance (price less deposit) after the visit."""
    if rng.random() >= 0.9:
        return  # still outstanding
    payment = state.next_id("pay")
    balance = booking.price - booking.deposit
    mode = rng.choice(("upi", "upi", "card", "cash"))
    story.add(
        booking.end_at + timedelta(minutes=10),
        "take_payment",
        **booking.ref,
        payment_id=payment,
        kind="payment",
        amount_minor=balance,
        currency=booking.currency,
        mode=mode,
        provider="cash" if mode == "cash" else "razorpay",
    )
    if rng.random() < 0.03:
        story.add(
            booking.end_at + timedelta(days=2),
            "refund_appointment_payment",
            **booking.ref,
            refund_id=state.next_id("rfd"),
            payment_id=payment,
            amount_minor=balance // 2,
            currency=booking.currency,
            reason="partial service",
        )


def _invoice(
    rng: random.Random, state: _TenantState, story: _Story, booking: _Booking, payer: str
) -> None:
    """An insurer or an employer is invoiced the balance (price less any deposit)."""
    invoice = state.next_id("inv")
    amount = booking.price - booking.deposit
    end_at = booking.end_at
    story.add(
        end_at + timedelta(minutes=5),
        "issue_invoice",
        invoice_id=invoice,
        appointment_id=booking.appointment_id,
        patient_id=booking.patient_id,
        payer_type=payer,
        amount_minor=amount,
        currency=booking.currency,
        due_on=(end_at + timedelta(days=30)).date().isoformat(),
    )
    if rng.random() >= 0.9:
        return
    payment = state.next_id("pay")
    mode = rng.choice(("upi", "upi", "card", "cash"))
    story.add(
        end_at + timedelta(minutes=10),
        "capture_payment",
        invoice_id=invoice,
        payment_id=payment,
        amount_minor=amount,
        currency=booking.currency,
        mode=mode,
        provider="cash" if mode == "cash" else "razorpay",
    )
    if rng.random() < 0.03:
        story.add(
            end_at + timedelta(days=2),
            "refund_payment",
            invoice_id=invoice,
            refund_id=state.next_id("rfd"),
            payment_id=payment,
            amount_minor=amount // 2,
            currency=booking.currency,
            reason="partial service",
        )


def _follow_up(
    rng: random.Random, state: _TenantState, story: _Story, booking: _Booking, branch: str
) -> None:
    """A follow-up due four to eight weeks on (never a Sunday); half of them are booked
    on their due day, with the same radiographer."""
    due = booking.end_at.date() + timedelta(days=rng.randint(28, 56))
    if due.weekday() == SUNDAY:
        due += timedelta(days=1)
    follow_up = FollowUp(
        booking.appointment_id,
        state.next_id("fup"),
        booking.patient_id,
        booking.modality,
        booking.procedure,
    )
    story.add(
        booking.end_at + timedelta(minutes=15),
        "schedule_follow_up",
        **booking.ref,
        follow_up_id=follow_up.follow_up_id,
        due_on=due.isoformat(),
        procedure_code=booking.procedure,
        modality=booking.modality.code,
        clinician_id=_clinician(booking.room),
    )
    if rng.random() < 0.5:
        state.follow_ups.setdefault((branch, due), []).append(follow_up)
