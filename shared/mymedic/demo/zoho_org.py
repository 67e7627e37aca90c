"""The seeded chain as each tenant's Zoho CRM would hold it: what the clinic's staff
would have entered in the CRM for the same history the demo sends as commands.

:func:`zoho_orgs` turns the demo's commands into one :class:`ZohoOrg` per tenant: its
records module by module (Branches, Users, Rooms, Products, Referrers, Leave, Contacts,
Referrals, Appointments, Invoices, Payments, Refunds, Surveys), with Zoho's own record
ids, ``Created_Time`` and ``Modified_Time``, REST-shaped values (lookups as ``{"id",
"name"}``, picklists by their display value, multi-select picklists as lists, money in
major units), and every change as a :class:`Change` in time order. ``sunrise-imaging``
keeps its branches in a Branches module; ``harbour-clinics`` names them by a picklist
(its mapping's ``[branches]`` table). Each tenant's mapping is bundled beside this
module (``zoho/<tenant>.toml``).

What stays MyMedic's own on this path, never the CRM's: the cancellation policy (tenant
configuration, a command) and marketing touches (captured by the booking form, commands):
:data:`MYMEDIC_COMMANDS`. Follow-up scheduling is left out (MyMedic's follow-up queue,
which no report reads; a follow-up booked in the CRM is a booking like any other).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from mymedic.demo.generator import DemoCommand

MAPPINGS = Path(__file__).resolve().parent / "zoho"
HARBOUR = "harbour-clinics"  # the tenant whose branches are a picklist
# The commands a Zoho-sourced tenant still sends to MyMedic itself.
MYMEDIC_COMMANDS = frozenset({"set_cancellation_policy", "record_marketing_touch"})
NOT_IN_ZOHO = frozenset({"schedule_follow_up"})
MODALITY = {"MRI": "MRI", "CT": "CT Scan", "XRAY": "X-Ray", "USG": "Ultrasound"}
MODALITY["CONSULT"] = "Consultation"
STATUS = {
    "booked": "Scheduled",
    "arrived": "Checked In",
    "completed": "Completed",
    "cancelled": "Cancelled",
    "no_show": "No Show",
}
CHANNEL = {"portal": "Online Portal", "phone": "Phone", "console": "Front Desk"}
GENDER = {"female": "Female", "male": "Male", "other": "Other", "unknown": "Prefer not to say"}
REFERRER_TYPE = {
    "gp": "GP",
    "consultant": "Consultant",
    "insurer": "Insurer",
    "corporate": "Corporate",
    "self": "Self Referral",
    "other": "Other",
}
PAYER = {"self_pay": "Self Pay", "insurer": "Insurance", "corporate": "Corporate"}
PAYER["government"] = "Government"
KIND = {"deposit": "Deposit", "payment": "Payment"}
MODE = {"upi": "UPI", "card": "Card", "cash": "Cash"}
GATEWAY = {"razorpay": "Razorpay", "stripe": "Stripe", "cash": "Cash", "console": "Front Desk"}
EQUIPMENT = {
    "mr-1-5t": "MAGNETOM 1.5T",
    "mr-knee-coil": "Knee coil",
    "ct-64-slice": "CT 64-slice",
    "dr-digital": "Digital radiography",
    "us-console": "Ultrasound console",
    "us-linear-probe": "Linear probe",
}
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
# Module order of record ids (each module's ids are its own range, as in a real org).
MODULES = (
    "Branches",
    "Users",
    "Rooms",
    "Products",
    "Referrers",
    "Leave",
    "Contacts",
    "Referrals",
    "Appointments",
    "Invoices",
    "Payments",
    "Refunds",
    "Surveys",
)
_ID_BASE = 4_150_868_000_000_000_000


@dataclass(frozen=True)
class Change:
    """One record as saved at ``at`` (created, or edited): the whole record then."""

    at: datetime
    module: str
    record_id: str
    operation: str  # "create" | "edit"
    record: dict[str, Any]


@dataclass
class ZohoOrg:
    tenant_id: str
    zone: ZoneInfo
    branches_module: bool  # branches as Branches records, else a picklist
    changes: list[Change] = field(default_factory=list)
    _records: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    _ids: dict[str, dict[str, str]] = field(default_factory=dict)  # module -> our id -> zoho
    _names: dict[str, str] = field(default_factory=dict)  # zoho id -> display name
    _counters: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def zoho_id(self, module: str, our_id: str) -> str:
        return self._ids[module][our_id]

    def knows(self, module: str, our_id: str) -> bool:
        return our_id in self._ids.get(module, {})

    def lookup(self, module: str, our_id: str) -> dict[str, str]:
        zoho = self.zoho_id(module, our_id)
        return {"id": zoho, "name": self._names[zoho]}

    def create(self, at: datetime, module: str, our_id: str, name: str, **fields: Any) -> str:
        self._counters[module] += 1
        zoho = str(_ID_BASE + MODULES.index(module) * 10**9 + self._counters[module])
        self._ids.setdefault(module, {})[our_id] = zoho
        self._names[zoho] = name
        stamp = self.stamp(at)
        record = {"id": zoho, "Created_Time": stamp, "Modified_Time": stamp, **fields}
        if module == "Users":  # the Users API spells it created_time
            record["created_time"] = record.pop("Created_Time")
        self._records.setdefault(module, {})[zoho] = record
        self.changes.append(Change(at, module, zoho, "create", dict(record)))
        return zoho

    def edit(self, at: datetime, module: str, our_id: str, **fields: Any) -> None:
        zoho = self.zoho_id(module, our_id)
        record = self._records[module][zoho]
        if all(record.get(key) == value for key, value in fields.items()):
            return  # nothing changed: Zoho keeps the version
        record.update(fields, Modified_Time=self.stamp(at))
        self.changes.append(Change(at, module, zoho, "edit", dict(record)))

    def stamp(self, at: datetime) -> str:
        """Zoho's date-times: the org's zone, to the second."""
        return at.astimezone(self.zone).replace(microsecond=0).isoformat()

    def records(self, module: str) -> list[dict[str, Any]]:
        """The module's records as they stand after every change."""
        return list(self._records.get(module, {}).values())

    def as_of(self, cut: datetime) -> dict[str, list[dict[str, Any]]]:
        """Every record as it stood at ``cut`` (those created by then), by module."""
        latest: dict[tuple[str, str], dict[str, Any]] = {}
        for change in self.changes:
            if change.at <= cut:
                latest[(change.module, change.record_id)] = change.record
        found: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for (module, _), record in latest.items():
            found[module].append(record)
        return dict(found)

    def after(self, cut: datetime) -> list[Change]:
        return [change for change in self.changes if change.at > cut]


def zoho_orgs(commands: list[DemoCommand]) -> dict[str, ZohoOrg]:
    """The tenants' orgs, from the demo's commands in time order."""
    orgs: dict[str, ZohoOrg] = {}
    builder = _Builder(orgs)
    for command in commands:
        if command.name == "register_patient":
            builder.patients[(command.body["tenant_id"], command.body["patient_id"])] = command
    for command in sorted(commands, key=lambda c: c.at):
        if command.name not in MYMEDIC_COMMANDS | NOT_IN_ZOHO:
            builder.apply(command)
    return orgs


def mapping_text(tenant_id: str) -> str:
    """The tenant's bundled Zoho mapping."""
    return (MAPPINGS / f"{tenant_id}.toml").read_text(encoding="utf-8")


def _money(minor: int) -> float:
    """Zoho's currency fields: major units, as the REST API gives them."""
    return float(Decimal(minor) / 100)


def working_hours_text(hours: list[dict[str, Any]]) -> str:
    """``Mon-Sat 08:00-19:00``: consecutive weekdays with the same hours as a range."""
    by_interval: dict[tuple[str, str], list[int]] = defaultdict(list)
    for entry in hours:
        by_interval[(str(entry["start"])[:5], str(entry["end"])[:5])].append(entry["weekday"])
    groups: list[str] = []
    for (start, end), days in sorted(by_interval.items(), key=lambda item: min(item[1])):
        runs: list[list[int]] = []
        for day in sorted(days):
            if runs and runs[-1][-1] == day - 1:
                runs[-1].append(day)
            else:
                runs.append([day])
        spans = [
            WEEKDAYS[run[0]] if len(run) == 1 else f"{WEEKDAYS[run[0]]}-{WEEKDAYS[run[-1]]}"
            for run in runs
        ]
        groups.append(f"{','.join(spans)} {start}-{end}")
    return "; ".join(groups)


@dataclass
class _Pricing:
    # (effective_from, {procedure: (modality, price, currency, minutes)}) per branch
    lists: dict[str, list[tuple[date, dict[str, tuple[str, int, str, int]]]]] = field(
        default_factory=lambda: defaultdict(list)
    )

    def add(self, branch: str, effective: date, prices: list[dict[str, Any]]) -> None:
        entries = {
            p["procedure_code"]: (
                p["modality"],
                p["price_minor"],
                p["currency"],
                p["duration_minutes"],
            )
            for p in prices
        }
        self.lists[branch].append((effective, entries))
        self.lists[branch].sort(key=lambda item: item[0])

    def on(self, branch: str, day: date, procedure: str) -> tuple[str, int, str, int]:
        found = None
        for effective, entries in self.lists[branch]:
            if effective <= day and procedure in entries:
                found = entries[procedure]
        if found is None:
            raise ValueError(f"no price for {procedure} at {branch} on {day}")
        return found


@dataclass
class _Builder:
    orgs: dict[str, ZohoOrg]
    pricing: dict[str, _Pricing] = field(default_factory=lambda: defaultdict(_Pricing))
    zones: dict[tuple[str, str], ZoneInfo] = field(default_factory=dict)  # tenant, branch
    branch_names: dict[tuple[str, str], str] = field(default_factory=dict)
    # Each patient's registration: the chain may book a returning patient before the
    # registration it made for them comes round in time; a CRM's lookup can only name
    # a contact that exists, so the contact is created at the first reference.
    patients: dict[tuple[str, str], DemoCommand] = field(default_factory=dict)

    def org(self, command: DemoCommand) -> ZohoOrg:
        tenant = command.body["tenant_id"]
        found = self.orgs.get(tenant)
        if found is None:
            zone = ZoneInfo(command.body.get("timezone") or "Asia/Kolkata")
            found = self.orgs[tenant] = ZohoOrg(tenant, zone, branches_module=tenant != HARBOUR)
        return found

    def apply(self, command: DemoCommand) -> None:
        getattr(self, f"_{command.name}")(self.org(command), command.at, command.body)

    def _branch(self, org: ZohoOrg, branch: str) -> Any:
        """A record's branch: a lookup to Branches, or the picklist value."""
        if org.branches_module:
            return org.lookup("Branches", branch)
        return self.branch_names[(org.tenant_id, branch)]

    # --- the directory -----------------------------------------------------------------

    def _register_branch(self, org: ZohoOrg, at: datetime, body: dict[str, Any]) -> None:
        branch = body["branch_id"]
        self.zones[(org.tenant_id, branch)] = ZoneInfo(body["timezone"])
        self.branch_names[(org.tenant_id, branch)] = body["display_name"]
        if org.branches_module:
            org.create(
                at,
                "Branches",
                branch,
                body["display_name"],
                Name=body["display_name"],
                Branch_Code=branch,
                City=body["city"],
                Time_Zone=body["timezone"],
                Currency=body["currency"],
            )

    def _register_room(self, org: ZohoOrg, at: datetime, body: dict[str, Any]) -> None:
        org.create(
            at,
            "Rooms",
            body["room_id"],
            body["display_name"],
            Name=body["display_name"],
            Room_Code=body["room_id"],
            Branch=self._branch(org, body["branch_id"]),
            Modalities=[MODALITY[m] for m in body["modalities"]],
            Equipment=[EQUIPMENT[code] for code in body.get("equipment", [])],
        )

    def _register_clinician(self, org: ZohoOrg, at: datetime, body: dict[str, Any]) -> None:
        org.create(
            at,
            "Users",
            body["clinician_id"],
            body["display_name"],
            full_name=body["display_name"],
            email=f"{body['clinician_id']}@clinic.example",
            role={"name": "Radiographer", "id": "4150868000000015001"},
            profile={"name": "Standard", "id": "4150868000000015002"},
            status="active",
            Clinician_Code=body["clinician_id"],
            Branch=self.branch_names[(org.tenant_id, body["branch_id"])],
            Modalities=[MODALITY[m] for m in body["modalities"]],
            Working_Hours=working_hours_text(body["working_hours"]),
        )

    def _update_price_list(self, org: ZohoOrg, at: datetime, body: dict[str, Any]) -> None:
        """The clinic keeps one price per procedure in Products (the demo's branches
        price alike), with the date a price takes effect."""
        effective = date.fromisoformat(body["effective_from"])
        self.pricing[org.tenant_id].add(body["branch_id"], effective, body["prices"])
        for price in body["prices"]:
            code = price["procedure_code"]
            fields = {
                "Product_Code": code,
                "Product_Name": code.replace("-", " ").title(),
                "Product_Category": MODALITY[price["modality"]],
                "Duration_Minutes": price["duration_minutes"],
                "Unit_Price": _money(price["price_minor"]),
                "Currency": price["currency"],
                "Price_Effective_From": effective.isoformat(),
            }
            if org.knows("Products", code):
                org.edit(at, "Products", code, **fields)
            else:
                org.create(at, "Products", code, fields["Product_Name"], **fields)

    def _block_clinician_time(self, org: ZohoOrg, at: datetime, body: dict[str, Any]) -> None:
        org.create(
            at,
            "Leave",
            body["block_id"],
            body["block_id"],
            Name=body["block_id"],
            Clinician=org.lookup("Users", body["clinician_id"]),
            From=org.stamp(datetime.fromisoformat(body["start_at"])),
            To=org.stamp(datetime.fromisoformat(body["end_at"])),
            Reason=body["reason"],
            Status="Approved",
        )

    def _unblock_clinician_time(self, org: ZohoOrg, at: datetime, body: dict[str, Any]) -> None:
        org.edit(at, "Leave", body["block_id"], Status="Cancelled")

    # --- patients and visits ------------------------------------------------------------

    def _patient(self, org: ZohoOrg, at: datetime, patient_id: str) -> dict[str, str]:
        """The lookup to the patient's contact, created now if it does not exist yet."""
        if not org.knows("Contacts", patient_id):
            self._register_patient(org, at, self.patients[(org.tenant_id, patient_id)].body)
        return org.lookup("Contacts", patient_id)

    def _register_patient(self, org: ZohoOrg, at: datetime, body: dict[str, Any]) -> None:
        if org.knows("Contacts", body["patient_id"]):
            return  # created at an earlier reference
        personal = body["personal"]
        org.create(
            at,
            "Contacts",
            body["patient_id"],
            personal["full_name"],
            Patient_MRN=body["patient_id"],
            Full_Name=personal["full_name"],
            Mobile=personal.get("phone"),
            Email=personal.get("email"),
            Date_of_Birth=personal.get("date_of_birth"),
            Mailing_Zip=personal.get("postcode"),
            Gender=GENDER[body.get("sex", "unknown")],
            Branch=self._branch(org, body["branch_id"]),
        )

    def _record_referral(self, org: ZohoOrg, at: datetime, body: dict[str, Any]) -> None:
        referrer = body["referrer_id"]
        if not org.knows("Referrers", referrer):
            org.create(
                at,
                "Referrers",
                referrer,
                referrer,
                Name=referrer,
                Referrer_Code=referrer,
                Referrer_Type=REFERRER_TYPE[body["referrer_type"]],
            )
        org.create(
            at,
            "Referrals",
            body["referral_id"],
            body["referral_id"],
            Name=body["referral_id"],
            Referral_No=body["referral_id"],
            Patient=self._patient(org, at, body["patient_id"]),
            Referrer=org.lookup("Referrers", referrer),
            Referrer_Type=REFERRER_TYPE[body["referrer_type"]],
            Branch=self._branch(org, body["branch_id"]),
        )

    def _book_appointment(self, org: ZohoOrg, at: datetime, body: dict[str, Any]) -> None:
        branch = body["branch_id"]
        start = datetime.fromisoformat(body["start_at"])
        local_day = at.astimezone(self.zones[(org.tenant_id, branch)]).date()
        _, price, currency, _ = self.pricing[org.tenant_id].on(
            branch, local_day, body["procedure_code"]
        )
        org.create(
            at,
            "Appointments",
            body["appointment_id"],
            body["appointment_id"],
            Appointment_No=body["appointment_id"],
            Branch=self._branch(org, branch),
            Patient=self._patient(org, at, body["patient_id"]),
            Clinician=org.lookup("Users", body["clinician_id"]),
            Room=org.lookup("Rooms", body["room_id"]),
            Procedure=org.lookup("Products", body["procedure_code"]),
            Appointment_Start=org.stamp(start),
            Status=STATUS["booked"],
            Amount=_money(price),
            Currency=currency,
            Booking_Channel=CHANNEL[body["channel"]],
            Referral=(
                org.lookup("Referrals", body["referral_id"]) if body.get("referral_id") else None
            ),
            GCLID=body.get("gclid"),
            Cancellation_Reason=None,
        )

    def _reschedule_appointment(self, org: ZohoOrg, at: datetime, body: dict[str, Any]) -> None:
        start = datetime.fromisoformat(body["start_at"])
        org.edit(at, "Appointments", body["appointment_id"], Appointment_Start=org.stamp(start))

    def _cancel_appointment(self, org: ZohoOrg, at: datetime, body: dict[str, Any]) -> None:
        org.edit(
            at,
            "Appointments",
            body["appointment_id"],
            Status=STATUS["cancelled"],
            Cancellation_Reason=body["reason"],
        )

    def _mark_arrived(self, org: ZohoOrg, at: datetime, body: dict[str, Any]) -> None:
        org.edit(at, "Appointments", body["appointment_id"], Status=STATUS["arrived"])

    def _complete_appointment(self, org: ZohoOrg, at: datetime, body: dict[str, Any]) -> None:
        org.edit(at, "Appointments", body["appointment_id"], Status=STATUS["completed"])

    def _mark_no_show(self, org: ZohoOrg, at: datetime, body: dict[str, Any]) -> None:
        org.edit(at, "Appointments", body["appointment_id"], Status=STATUS["no_show"])

    def _record_nps_response(self, org: ZohoOrg, at: datetime, body: dict[str, Any]) -> None:
        org.create(
            at,
            "Surveys",
            body["response_id"],
            body["response_id"],
            Name=body["response_id"],
            Response_Id=body["response_id"],
            Patient=self._patient(org, at, body["patient_id"]),
            Appointment=(
                org.lookup("Appointments", body["appointment_id"])
                if body.get("appointment_id")
                else None
            ),
            Score=body["score"],
            Comment=body.get("comment"),
        )

    # --- money ---------------------------------------------------------------------------

    def _issue_invoice(self, org: ZohoOrg, at: datetime, body: dict[str, Any]) -> None:
        org.create(
            at,
            "Invoices",
            body["invoice_id"],
            body["invoice_id"],
            Subject=f"Invoice {body['invoice_id']}",
            Invoice_Number=body["invoice_id"],
            Appointment=org.lookup("Appointments", body["appointment_id"]),
            Contact_Name=self._patient(org, at, body["patient_id"]),
            Payer_Type=PAYER[body["payer_type"]],
            Invoice_Date=at.astimezone(org.zone).date().isoformat(),
            Due_Date=body["due_on"],
            Grand_Total=_money(body["amount_minor"]),
            Currency=body["currency"],
            Status="Created",
        )

    def _payment(self, org: ZohoOrg, at: datetime, body: dict[str, Any], **link: Any) -> None:
        org.create(
            at,
            "Payments",
            body["payment_id"],
            body["payment_id"],
            Name=body["payment_id"],
            Payment_Reference=body["payment_id"],
            Payment_Type=KIND[body.get("kind", "payment")],
            Amount=_money(body["amount_minor"]),
            Currency=body["currency"],
            Mode=MODE[body["mode"]],
            Gateway=GATEWAY[body["provider"]],
            Gateway_Reference=body.get("provider_reference"),
            **link,
        )

    def _take_payment(self, org: ZohoOrg, at: datetime, body: dict[str, Any]) -> None:
        link = {"Appointment": org.lookup("Appointments", body["appointment_id"])}
        self._payment(org, at, body, **link, Invoice=None)

    def _capture_payment(self, org: ZohoOrg, at: datetime, body: dict[str, Any]) -> None:
        link = {"Invoice": org.lookup("Invoices", body["invoice_id"])}
        self._payment(org, at, body, **link, Appointment=None)

    def _refund(self, org: ZohoOrg, at: datetime, body: dict[str, Any]) -> None:
        org.create(
            at,
            "Refunds",
            body["refund_id"],
            body["refund_id"],
            Name=body["refund_id"],
            Refund_Reference=body["refund_id"],
            Payment=org.lookup("Payments", body["payment_id"]),
            Amount=_money(body["amount_minor"]),
            Currency=body["currency"],
            Reason=body["reason"],
        )

    _refund_appointment_payment = _refund
    _refund_payment = _refund


# --- the org's metadata (what /settings/modules and /settings/fields answer) --------------

_LOOKUPS = {
    ("Rooms", "Branch"): "Branches",
    ("Leave", "Clinician"): "Users",
    ("Contacts", "Branch"): "Branches",
    ("Referrals", "Branch"): "Branches",
    ("Referrals", "Patient"): "Contacts",
    ("Referrals", "Referrer"): "Referrers",
    ("Appointments", "Branch"): "Branches",
    ("Appointments", "Patient"): "Contacts",
    ("Appointments", "Room"): "Rooms",
    ("Appointments", "Procedure"): "Products",
    ("Appointments", "Referral"): "Referrals",
    ("Invoices", "Appointment"): "Appointments",
    ("Invoices", "Contact_Name"): "Contacts",
    ("Payments", "Appointment"): "Appointments",
    ("Payments", "Invoice"): "Invoices",
    ("Refunds", "Payment"): "Payments",
    ("Surveys", "Patient"): "Contacts",
    ("Surveys", "Appointment"): "Appointments",
}
_USER_LOOKUPS = {("Appointments", "Clinician"), ("Leave", "Clinician")}
_PICKLISTS: dict[tuple[str, str], tuple[str, ...]] = {
    ("Rooms", "Modalities"): tuple(MODALITY.values()),
    ("Rooms", "Equipment"): tuple(EQUIPMENT.values()),
    ("Products", "Product_Category"): tuple(MODALITY.values()),
    ("Referrers", "Referrer_Type"): tuple(REFERRER_TYPE.values()),
    ("Leave", "Status"): ("Approved", "Cancelled"),
    ("Contacts", "Gender"): tuple(GENDER.values()),
    ("Referrals", "Referrer_Type"): tuple(REFERRER_TYPE.values()),
    ("Appointments", "Status"): tuple(STATUS.values()),
    ("Appointments", "Booking_Channel"): tuple(CHANNEL.values()),
    ("Invoices", "Payer_Type"): tuple(PAYER.values()),
    ("Invoices", "Status"): ("Created", "Approved", "Delivered", "Cancelled"),
    ("Payments", "Payment_Type"): tuple(KIND.values()),
    ("Payments", "Mode"): tuple(MODE.values()),
    ("Payments", "Gateway"): tuple(GATEWAY.values()),
}
_MULTI = {("Rooms", "Modalities"), ("Rooms", "Equipment")}
_TYPES = {
    "Amount": "currency",
    "Unit_Price": "currency",
    "Grand_Total": "currency",
    "Appointment_Start": "datetime",
    "From": "datetime",
    "To": "datetime",
    "Date_of_Birth": "date",
    "Due_Date": "date",
    "Invoice_Date": "date",
    "Price_Effective_From": "date",
    "Duration_Minutes": "integer",
    "Score": "integer",
    "Mobile": "phone",
    "Email": "email",
    "Comment": "textarea",
    "Reason": "textarea",
    "Cancellation_Reason": "textarea",
}
_SKIPPED = {"id", "Created_Time", "Modified_Time", "created_time"}


def metadata(org: ZohoOrg) -> tuple[list[dict[str, Any]], dict[str, list[dict[str, Any]]]]:
    """The org's modules and their fields in the metadata API's shapes, from its records
    (what ``mymedic zoho mapping init`` reads). Users have no field metadata in Zoho."""
    present = [module for module in MODULES if module != "Users" and org.records(module)]
    modules: list[dict[str, Any]] = [
        {
            "api_name": module,
            "module_name": module,
            "singular_label": module.rstrip("s"),
            "plural_label": module,
            "generated_type": "default" if module in _STANDARD else "custom",
            "api_supported": True,
            "id": str(_ID_BASE + index),
        }
        for index, module in enumerate(present)
    ]
    return modules, {module: _fields(module, org.records(module)) for module in present}


_STANDARD = frozenset({"Contacts", "Products", "Invoices"})


def _fields(module: str, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    names = list(dict.fromkeys(name for record in records for name in record))
    found: list[dict[str, Any]] = []
    for number, name in enumerate(name for name in names if name not in _SKIPPED):
        field: dict[str, Any] = {
            "api_name": name,
            "field_label": name.replace("_", " "),
            "data_type": _TYPES.get(name, "text"),
            "json_type": "string",
            "custom_field": module not in _STANDARD,
            "read_only": False,
            "id": str(_ID_BASE + 5 * 10**8 + number),
        }
        key = (module, name)
        if key in _LOOKUPS:
            target = _LOOKUPS[key]
            field.update(
                data_type="lookup",
                json_type="jsonobject",
                lookup={
                    "module": {"api_name": target, "id": str(_ID_BASE + MODULES.index(target))}
                },
            )
        elif key in _USER_LOOKUPS:
            field.update(data_type="userlookup", json_type="jsonobject")
        elif key in _PICKLISTS:
            multi = key in _MULTI
            field.update(
                data_type="multiselectpicklist" if multi else "picklist",
                json_type="jsonarray" if multi else "string",
                pick_list_values=[
                    {"display_value": value, "actual_value": value, "id": str(n)}
                    for n, value in enumerate(_PICKLISTS[key], start=1)
                ],
            )
        elif field["data_type"] in ("currency",):
            field["json_type"] = "double"
        elif field["data_type"] == "integer":
            field["json_type"] = "integer"
        found.append(field)
    return found
