"""The names ``mymedic zoho mapping init`` recognises: modules by entity, fields by
canonical field, picklist values by canonical value. Names are compared as keys:
lower case, letters and digits only (``Date_of_Birth`` and "Date of Birth" are both
``dateofbirth``). The first name listed is the strongest guess."""

from __future__ import annotations

import re

from mymedic.integrations.zoho.mapping_canonical import Kind
from mymedic.integrations.zoho.records import Entity

# Module names (API name without ``__s``, plural or singular label), entity by entity,
# in the order entities choose their module (one module per entity).
ENTITY_NAMES: dict[Entity, tuple[str, ...]] = {
    "patient": ("patients", "contacts"),
    "appointment": ("appointments", "bookings", "visits", "scans"),
    "referral": ("referrals",),
    "invoice": ("invoices", "bills"),
    "payment": ("payments", "receipts"),
    "refund": ("refunds",),
    "procedure": ("procedures", "products", "services", "tests", "investigations"),
    "branch": ("branches", "locations", "centres", "centers", "clinics", "sites"),
    "room": ("rooms", "scanners", "machines"),
    "clinician": ("clinicians", "radiologists", "technicians", "practitioners"),
    "referrer": ("referrers", "doctors", "referring doctors", "physicians"),
    "block": ("leave", "leaves", "absences", "unavailability", "time off", "blocks"),
    "nps": ("nps", "nps responses", "surveys", "survey responses", "feedback"),
    "complaint": ("complaints", "cases", "grievances"),
}

# Field names per canonical field (any entity).
FIELD_NAMES: dict[str, tuple[str, ...]] = {
    "full_name": ("fullname", "patientname", "name"),
    "phone": ("mobile", "mobilenumber", "mobileno", "phone", "phonenumber", "contactnumber"),
    "email": ("email", "emailaddress", "emailid"),
    "date_of_birth": ("dateofbirth", "dob", "birthdate", "birthday"),
    "postcode": ("mailingzip", "zipcode", "zip", "postcode", "postalcode", "pincode"),
    "sex": ("gender", "sex"),
    "branch_id": ("branch", "branchname", "location", "centre", "center", "clinic", "site"),
    "patient_id": ("patient", "patientname", "contactname", "contact"),
    "clinician_id": ("clinician", "radiologist", "technician", "practitioner", "performedby"),
    "room_id": ("room", "scanner", "machine", "roomname"),
    "procedure_code": ("procedurecode", "procedure", "service", "product", "productname", "test"),
    "modality": ("modality", "modalitytype", "department"),
    "start_at": (
        "appointmentstart",
        "appointmentstarttime",
        "appointmentdatetime",
        "appointmenttime",
        "starttime",
        "startdatetime",
        "scheduledtime",
        "scheduledat",
        "from",
        "fromdate",
        "startdate",
        "leavefrom",
    ),
    "end_at": ("endtime", "enddatetime", "to", "todate", "enddate", "leaveto"),
    "duration_minutes": ("duration", "durationminutes", "durationmins", "appointmentduration"),
    "status": ("status", "appointmentstatus", "invoicestatus", "leavestatus", "complaintstatus"),
    "price_minor": ("amount", "price", "fee", "fees", "charges", "unitprice", "rate"),
    "amount_minor": ("amount", "grandtotal", "total", "amountpaid", "refundamount"),
    "currency": ("currency", "currencycode"),
    "referral_id": ("referral", "referralname"),
    "referrer_id": ("referrer", "referredby", "referringdoctor", "referringphysician", "doctor"),
    "referrer_type": ("referrertype", "referraltype", "type"),
    "gclid": ("gclid", "googleclickid"),
    "cancel_reason": ("cancellationreason", "cancelreason", "reasonforcancellation"),
    "channel": ("channel", "bookingchannel", "bookingsource"),
    "display_name": ("displayname", "name", "fullname", "productname", "branchname", "roomname"),
    "city": ("city", "mailingcity"),
    "timezone": ("timezone",),
    "appointment_id": ("appointment", "appointmentname"),
    "invoice_id": ("invoice", "invoicename"),
    "payment_id": ("payment", "paymentname"),
    "due_on": ("duedate", "dueon"),
    "payer_type": ("payertype", "payer"),
    "mode": ("paymentmode", "mode", "paymentmethod", "modeofpayment"),
    "kind": ("paymentkind", "kind"),
    "provider": ("provider", "gateway", "paymentgateway"),
    "provider_reference": ("reference", "transactionid", "referencenumber", "paymentreference"),
    "reason": ("reason", "refundreason", "leavereason"),
    "score": ("score", "npsscore", "rating"),
    "comment": ("comment", "comments", "feedback", "description"),
    "complaint_category": ("complaintcategory", "category", "complainttype", "type"),
    "modalities": ("modalities", "modality"),
    "equipment": ("equipment",),
    "working_hours": ("workinghours", "hours"),
    "effective_from": ("effectivefrom", "validfrom"),
    "paid_minor": ("amountpaid", "paidamount", "paid"),
    "payment_status": ("paymentstatus",),
    "payment_mode": ("paymentmode", "modeofpayment", "paymentmethod"),
    "payment_reference": ("paymentreference", "gatewayreference", "transactionid"),
    "status_changed_at": ("statuschangedat", "statuschangedtime"),
}

# An entity's own code, when a field holds one (else the record's Zoho id).
OWN_ID_NAMES: dict[Entity, tuple[str, ...]] = {
    "procedure": ("procedurecode", "productcode", "code"),
    "branch": ("branchcode", "branchid", "code"),
    "room": ("roomcode", "roomid", "code"),
    "clinician": ("cliniciancode", "clinicianid", "code"),
    "referrer": ("referrercode", "code"),
}

# Picklist values per canonical value, beyond the value's own name.
VALUE_NAMES: dict[str, tuple[str, ...]] = {
    "booked": ("scheduled", "confirmed", "rescheduled"),
    "arrived": ("checkedin", "inprogress", "waiting"),
    "completed": ("done", "reported", "finished", "attended"),
    "cancelled": ("canceled",),
    "no_show": ("noshow", "didnotattend", "dna", "missed"),
    "female": ("f", "woman"),
    "male": ("m", "man"),
    "unknown": ("prefernottosay", "notspecified", "notknown", "undisclosed"),
    "gp": ("generalpractitioner", "familydoctor"),
    "consultant": ("specialist",),
    "self": ("selfreferral", "selfreferred", "walkin"),
    "insurer": ("insurance", "tpa"),
    "self_pay": ("self", "selfpay", "private", "cash"),
    "government": ("govt", "public"),
    "card": ("creditcard", "debitcard"),
    "upi": ("gpay", "googlepay", "phonepe", "paytm"),
    "paid": ("fullypaid",),
    "partially_paid": ("partial", "partlypaid"),
    "unpaid": ("pending", "due", "notpaid"),
    "deposit": ("advance",),
    "portal": ("website", "online", "web"),
    "phone": ("call", "telephone", "phonecall"),
    "console": ("walkin", "frontdesk", "reception"),
    "issued": ("sent", "open", "unpaid", "overdue", "paid"),
    "void": ("voided", "cancelled", "canceled"),
    "active": ("approved", "confirmed"),
    "open": ("new", "inprogress", "escalated", "reopened"),
    "resolved": ("solved", "fixed"),
}

# Zoho data types (a formula's return type for formula fields) each kind reads.
_TEXTUAL = ("text", "textarea", "picklist", "email", "phone", "autonumber", "website")
KIND_TYPES: dict[Kind, frozenset[str]] = {
    "id": frozenset({"text", "picklist", "autonumber", "integer", "bigint"}),
    "text": frozenset(_TEXTUAL),
    "choice": frozenset({"picklist", "text"}),
    "choices": frozenset({"multiselectpicklist", "picklist", "text", "jsonarray"}),
    "datetime": frozenset({"datetime", "date"}),
    "date": frozenset({"date", "datetime"}),
    "int": frozenset({"integer", "bigint", "double", "decimal"}),
    "money": frozenset({"currency", "double", "decimal", "integer", "bigint"}),
    "hours": frozenset({"text", "textarea"}),
    "timezone": frozenset({"text", "picklist"}),
}
LOOKUP_TYPES = frozenset({"lookup"})
USER_LOOKUP_TYPES = frozenset({"userlookup"})

_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


def key(name: str) -> str:
    """A name as compared: lower case, letters and digits only."""
    return _NOT_ALNUM.sub("", name.lower())


def module_names(api_name: str, *labels: str) -> set[str]:
    """A module's names as compared with ENTITY_NAMES: words in lower case, ``__s``
    (Zoho's suffix of system modules) and underscores gone."""
    names = {api_name.removesuffix("__s").replace("_", " "), *labels}
    return {" ".join(name.lower().split()) for name in names if name}
