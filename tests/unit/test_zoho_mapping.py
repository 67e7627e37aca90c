"""The tenant's Zoho field mapping: loading, reading records, quarantine, the check.

All records here are synthetic."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from mymedic.integrations.zoho.mapping import (
    EXAMPLE_MAPPING,
    MappingError,
    TenantMapping,
    check_mapping,
    load_mapping,
    map_record,
    mapping_fields,
)
from mymedic.integrations.zoho.records import MappedRecord, Quarantined, ZohoRecord

EXAMPLE = EXAMPLE_MAPPING
MODIFIED = datetime(2026, 3, 2, 9, 15, tzinfo=UTC)
START_UTC = datetime(2026, 3, 10, 4, 30, tzinfo=UTC)  # 10:00 in Kolkata
APPOINTMENT_ID = "5725767000000901001"
PATIENT_ID = "5725767000000412001"


@pytest.fixture(scope="module")
def mapping() -> TenantMapping:
    return load_mapping(EXAMPLE)


def rest_appointment(**changes: Any) -> dict[str, Any]:
    """An Appointments record as the REST API returns it (JSON values, lookups)."""
    fields: dict[str, Any] = {
        "id": APPOINTMENT_ID,
        "Branch": "Pune Central",
        "Patient_Name": {"id": PATIENT_ID, "name": "Asha Rao"},
        "Clinician": "pune-central-mri-1-clinician",
        "Room": "pune-central-mri-1",
        "Modality": "MRI",
        "Procedure_Code": "MRI-BRAIN",
        "Appointment_Start": "2026-03-10T10:00:00+05:30",
        "Duration": 45,
        "Status": "Scheduled",
        "Amount": 8500.0,
        "Currency": "INR",
        "Referral": None,
        "GCLID": None,
        "Cancellation_Reason": None,
        "Modified_Time": "2026-03-02T14:45:00+05:30",
        "Created_Time": "2026-03-01T10:00:00+05:30",
    }
    fields.update(changes)
    return fields


def csv_appointment(**changes: Any) -> dict[str, Any]:
    """The same record as a Bulk Read CSV row: strings, "" for empty, lookups as ids."""
    fields = {
        "Id": APPOINTMENT_ID,
        "Branch": "Pune Central",
        "Patient_Name": PATIENT_ID,
        "Clinician": "pune-central-mri-1-clinician",
        "Room": "pune-central-mri-1",
        "Modality": "MRI",
        "Procedure_Code": "MRI-BRAIN",
        "Appointment_Start": "2026-03-10T10:00:00+05:30",
        "Duration": "45",
        "Status": "Scheduled",
        "Amount": "8500.00",
        "Currency": "INR",
        "Referral": "",
        "GCLID": "",
        "Cancellation_Reason": "",
        "Modified_Time": "2026-03-02T14:45:00+05:30",
        "Created_Time": "2026-03-01T10:00:00+05:30",
    }
    fields.update(changes)
    return fields


def rest_contact(**changes: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "id": PATIENT_ID,
        "Branch": "Pune Central",
        "Gender": "Female",
        "Full_Name": "Asha Rao",
        "Mobile": "+91 90000 00001",
        "Email": "asha.rao@example.com",
        "Date_of_Birth": "1985-04-12",
        "Mailing_Zip": "411001",
        "Modified_Time": "2026-03-02T14:45:00+05:30",
        "Created_Time": "2026-03-01T10:00:00+05:30",
    }
    fields.update(changes)
    return fields


def record(module: str, fields: dict[str, Any], record_id: str | None = None) -> ZohoRecord:
    record_id = record_id or str(fields.get("id") or fields.get("Id") or APPOINTMENT_ID)
    return ZohoRecord(module=module, record_id=record_id, modified_time=MODIFIED, fields=fields)


def mapped(mapping: TenantMapping, module: str, fields: dict[str, Any]) -> MappedRecord:
    result = map_record(mapping, record(module, fields))
    assert isinstance(result, MappedRecord), result
    return result


def quarantined(mapping: TenantMapping, module: str, fields: dict[str, Any]) -> Quarantined:
    result = map_record(mapping, record(module, fields))
    assert isinstance(result, Quarantined), result
    return result


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "mapping.toml"
    path.write_text(text, encoding="utf-8")
    return path


MINIMAL = """
tenant_id = "tenant-a"
version = 2
timezone = "Asia/Kolkata"

[modules.Referrals]
entity = "referral"
#MODULE
[modules.Referrals.fields]
id = "referral_id"
Branch = "branch_id"
Patient_Name = "patient_id"
Referrer = "referrer_id"
Referrer_Type = "referrer_type"
"""


# --- loading ---------------------------------------------------------------------------


def test_the_example_mapping_loads(mapping: TenantMapping) -> None:
    assert mapping.tenant_id == "example-clinic"
    assert mapping.version == 1
    assert mapping.timezone == "Asia/Kolkata"
    assert {name: module.entity for name, module in mapping.modules.items()} == {
        "Contacts": "patient",
        "Appointments": "appointment",
        "Referrals": "referral",
    }
    status = mapping.modules["Appointments"].value_maps["status"]
    assert status == {
        "Scheduled": "booked",
        "Checked In": "arrived",
        "Completed": "completed",
        "Cancelled": "cancelled",
        "No Show": "no_show",
    }


def test_the_example_mapping_passes_its_own_check_on_clean_samples(
    mapping: TenantMapping,
) -> None:
    report = check_mapping(
        mapping,
        {
            "Appointments": [
                rest_appointment(Referral={"id": "5725767000000777001", "name": "R-1"}),
                csv_appointment(
                    GCLID="Cj0KCQ-synthetic",
                    Status="Cancelled",
                    Cancellation_Reason="Patient travelling",
                ),
            ],
            "Contacts": [rest_contact()],
            "Referrals": [
                {
                    "id": "5725767000000777001",
                    "Branch": "Mumbai West",
                    "Patient_Name": {"id": PATIENT_ID, "name": "Asha Rao"},
                    "Referrer": {"id": "5725767000000555001", "name": "Dr Synthetic"},
                    "Referrer_Type": "GP",
                    "Created_Time": "2026-03-01T10:00:00+05:30",
                }
            ],
        },
    )
    assert report.ok, report.to_text()
    assert "OK" in report.to_text().splitlines()[0]


def test_mapping_fields_request_every_mapped_field_and_the_times_but_no_id(
    mapping: TenantMapping,
) -> None:
    contacts = mapping_fields(mapping, "Contacts")
    assert contacts[-1] == "Modified_Time"
    assert "id" not in contacts
    assert "Id" not in contacts
    assert set(contacts) == {
        "Branch",
        "Gender",
        "Full_Name",
        "Mobile",
        "Email",
        "Date_of_Birth",
        "Mailing_Zip",
        "Created_Time",  # created_at: the registration's moment
        "Modified_Time",
    }
    appointments = mapping_fields(mapping, "Appointments")
    assert appointments.count("Modified_Time") == 1
    assert "Appointment_Start" in appointments
    with pytest.raises(MappingError, match="'Deals' is not in the Zoho mapping"):
        mapping_fields(mapping, "Deals")


def test_a_minimal_mapping_loads(tmp_path: Path) -> None:
    loaded = load_mapping(write(tmp_path, MINIMAL))
    assert loaded.version == 2
    assert mapping_fields(loaded, "Referrals") == [
        "Branch",
        "Patient_Name",
        "Referrer",
        "Referrer_Type",
        "Created_Time",
        "Modified_Time",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tenant_id = ", "not valid TOML"),
        (MINIMAL.replace('timezone = "Asia/Kolkata"', 'timezone = "Mars/Olympus"'), "timezone"),
        (MINIMAL.replace("version = 2", "version = 0"), "version"),
        (MINIMAL.replace('entity = "referral"', 'entity = "order"'), "modules.Referrals.entity"),
        (
            MINIMAL.replace('entity = "referral"', 'entity = "invoice"'),
            "fields.Patient_Name maps to 'patient_id', not a invoice field",
        ),
        (MINIMAL.replace("[modules.Referrals.fields]", "[modules.Referrals.feilds]"), "feilds"),
        (MINIMAL.replace("#MODULE", 'colour = "blue"'), "modules.Referrals.colour: Extra inputs"),
        (MINIMAL + 'colour = "blue"\n', "fields.colour maps to 'blue', not a referral field"),
        (MINIMAL + 'Source = "referrer_name"\n', "fields.Source maps to 'referrer_name'"),
        (MINIMAL + 'Other_Patient = "patient_id"\n', "both map to 'patient_id'"),
        (
            MINIMAL.replace('Referrer_Type = "referrer_type"\n', ""),
            "'referrer_type' is needed: map a Zoho field to it, give it a default, or map the "
            "referrer module",
        ),
        (
            MINIMAL + '[modules.Referrals.value_maps.referrer_type]\nGP = "doctor"\n',
            "value_maps.referrer_type.'GP'",
        ),
        (MINIMAL + "[modules.Referrals.defaults]\nreferral_id = 'r1'\n", "defaults.referral_id"),
        (MINIMAL + "[modules.Referrals.defaults]\nbranch_id = 'a b'\n", "defaults.branch_id"),
        (MINIMAL.replace("#MODULE", "required = ['nothing']"), "required: 'nothing'"),
        (MINIMAL.replace('tenant_id = "tenant-a"', ""), "tenant_id"),
    ],
)
def test_a_bad_mapping_is_refused_naming_the_bad_key(
    tmp_path: Path, text: str, expected: str
) -> None:
    # Keys appended to MINIMAL land in [modules.Referrals.fields]: a stray one is a field.
    path = write(tmp_path, text)
    with pytest.raises(MappingError) as raised:
        load_mapping(path)
    message = str(raised.value)
    assert str(path) in message
    assert expected in message


def test_a_missing_mapping_file_is_a_mapping_error(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match="cannot read"):
        load_mapping(tmp_path / "absent.toml")


def test_value_maps_only_apply_to_text_and_picklists(tmp_path: Path) -> None:
    text = """
tenant_id = "tenant-a"
version = 1
timezone = "UTC"
[modules.Appointments]
entity = "appointment"
defaults = { currency = "INR" }
[modules.Appointments.fields]
Patient = "patient_id"
Branch = "branch_id"
Clinician = "clinician_id"
Room = "room_id"
Modality = "modality"
Procedure = "procedure_code"
Start = "start_at"
Duration = "duration_minutes"
Status = "status"
Amount = "price_minor"
[modules.Appointments.value_maps.duration_minutes]
"Half hour" = "30"
"""
    with pytest.raises(MappingError, match=r"value_maps\.duration_minutes: value maps apply"):
        load_mapping(write(tmp_path, text))


# --- reading records -------------------------------------------------------------------


def test_rest_and_csv_shapes_map_to_the_same_record(mapping: TenantMapping) -> None:
    from_rest = mapped(mapping, "Appointments", rest_appointment())
    from_csv = mapped(mapping, "Appointments", csv_appointment())
    assert from_rest == from_csv
    assert from_rest.entity == "appointment"
    assert from_rest.mapping_version == 1
    assert from_rest.personal == {}
    assert from_rest.values == {
        "appointment_id": f"zoho-{APPOINTMENT_ID}",
        "branch_id": "pune-central",
        "patient_id": PATIENT_ID,
        "clinician_id": "pune-central-mri-1-clinician",
        "room_id": "pune-central-mri-1",
        "modality": "MRI",
        "procedure_code": "MRI-BRAIN",
        "start_at": START_UTC,
        "duration_minutes": 45,
        "status": "booked",
        "price_minor": 850_000,
        "currency": "INR",
        "referral_id": None,
        "gclid": None,
        "cancel_reason": None,
        "created_at": datetime.fromisoformat("2026-03-01T10:00:00+05:30"),
        "status_changed_at": None,
        "channel": None,
        "payer_type": None,
        "paid_minor": None,
        "payment_status": None,
        "payment_mode": None,
        "payment_reference": None,
    }


def test_a_lookup_gives_its_id_in_both_shapes(mapping: TenantMapping) -> None:
    rest = mapped(mapping, "Appointments", rest_appointment(Referral={"id": "5725767000000777001"}))
    csv = mapped(mapping, "Appointments", csv_appointment(Referral="5725767000000777001"))
    assert rest.values["referral_id"] == csv.values["referral_id"] == "5725767000000777001"


def test_a_contact_keeps_personal_data_apart(mapping: TenantMapping) -> None:
    patient = mapped(mapping, "Contacts", rest_contact())
    assert patient.entity == "patient"
    assert patient.values == {
        "patient_id": PATIENT_ID,
        "branch_id": "pune-central",
        "sex": "female",
        "created_at": datetime.fromisoformat("2026-03-01T10:00:00+05:30"),
    }
    assert patient.personal == {
        "full_name": "Asha Rao",
        "phone": "+91 90000 00001",
        "email": "asha.rao@example.com",
        "date_of_birth": date(1985, 4, 12),
        "postcode": "411001",
    }


def test_defaults_fill_what_the_record_lacks(mapping: TenantMapping) -> None:
    patient = mapped(mapping, "Contacts", rest_contact(Gender=None, Mobile="", Email=None))
    assert patient.values["sex"] == "unknown"
    assert patient.personal["phone"] is None
    appointment = mapped(mapping, "Appointments", csv_appointment(Currency=""))
    assert appointment.values["currency"] == "INR"


@pytest.mark.parametrize(
    ("amount", "minor"),
    [
        ("8500.00", 850_000),
        ("8500", 850_000),
        (8500.0, 850_000),
        (85.1, 8510),  # a float read through its exact repr, never 8509
        ("19.99", 1999),
        (Decimal("0.10"), 10),
        (0, 0),
        (" 1234.5 ", 123_450),
    ],
)
def test_money_becomes_minor_units_exactly(
    mapping: TenantMapping, amount: object, minor: int
) -> None:
    values = mapped(mapping, "Appointments", rest_appointment(Amount=amount)).values
    assert values["price_minor"] == minor
    assert isinstance(values["price_minor"], int)


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        ("2026-03-10T10:00:00+05:30", START_UTC),
        ("2026-03-10T04:30:00Z", START_UTC),
        ("2026-03-10T04:30:00+00:00", START_UTC),
        ("2026-03-10T10:00:00", START_UTC),  # no offset: the mapping's zone
        (datetime(2026, 3, 10, 10, 0), START_UTC),
    ],
)
def test_date_times_with_and_without_offset(
    mapping: TenantMapping, start: object, expected: datetime
) -> None:
    start_at = mapped(mapping, "Appointments", rest_appointment(Appointment_Start=start)).values[
        "start_at"
    ]
    assert start_at == expected
    assert start_at.utcoffset() is not None


def test_dates_read_in_the_mapping_zone(mapping: TenantMapping) -> None:
    at_midnight_utc = rest_contact(Date_of_Birth="1985-04-11T20:00:00+00:00")
    assert mapped(mapping, "Contacts", at_midnight_utc).personal["date_of_birth"] == date(
        1985, 4, 12
    )


def test_a_long_cancellation_reason_is_shortened_not_refused(mapping: TenantMapping) -> None:
    fields = rest_appointment(Status="Cancelled", Cancellation_Reason="x" * 500)
    reason = mapped(mapping, "Appointments", fields).values["cancel_reason"]
    assert len(reason) == 200
    assert reason.endswith("\u2026")


# --- quarantine ------------------------------------------------------------------------


def test_an_unknown_module_is_quarantined(mapping: TenantMapping) -> None:
    result = quarantined(mapping, "Deals", {"Deal_Name": "x"})
    assert result.module == "Deals"
    assert result.record_id == APPOINTMENT_ID
    assert result.modified_time == MODIFIED
    assert "'Deals' is not in the Zoho mapping" in result.reason
    assert result.field is None


@pytest.mark.parametrize("empty", [None, "", "   ", {}, {"id": None, "name": ""}, []])
def test_a_needed_field_missing_or_empty_is_quarantined(
    mapping: TenantMapping, empty: object
) -> None:
    fields = rest_appointment(Patient_Name=empty)
    if empty == {}:
        fields = rest_appointment()
        del fields["Patient_Name"]
    result = quarantined(mapping, "Appointments", fields)
    assert result.field == "patient_id"
    assert "patient_id (Zoho field Patient_Name) is missing or empty" in result.reason


def test_a_required_field_of_the_mapping_is_enforced(tmp_path: Path) -> None:
    text = MINIMAL.replace("#MODULE", 'required = ["branch_id"]')
    loaded = load_mapping(write(tmp_path, text))
    fields = {
        "Patient_Name": "1",
        "Referrer": "2",
        "Referrer_Type": "gp",
        "Branch": "",
    }
    result = map_record(loaded, record("Referrals", fields, "3"))
    assert isinstance(result, Quarantined)
    assert result.field == "branch_id"


def test_an_optional_field_made_required_is_enforced(tmp_path: Path) -> None:
    text = (EXAMPLE.read_text(encoding="utf-8")).replace(
        'entity = "appointment"', 'entity = "appointment"\nrequired = ["gclid"]'
    )
    loaded = load_mapping(write(tmp_path, text))
    assert quarantined(loaded, "Appointments", csv_appointment()).field == "gclid"
    assert mapped(loaded, "Appointments", csv_appointment(GCLID="Cj0-synthetic"))


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"Appointment_Start": "next Tuesday"}, "start_at", "cannot read 'next Tuesday'"),
        ({"Appointment_Start": "2026-02-30T10:00:00"}, "start_at", "as a date-time"),
        ({"Duration": "forty"}, "duration_minutes", "as a whole number"),
        ({"Duration": "30.5"}, "duration_minutes", "not a whole number"),
        ({"Amount": "85,00"}, "price_minor", "as an amount"),
        ({"Amount": "10.005"}, "price_minor", "more than two decimal places"),
        ({"Amount": "NaN"}, "price_minor", "not a finite number"),
        ({"Patient_Name": {"name": "Asha Rao"}}, "patient_id", "an object without an id"),
    ],
)
def test_an_unparsable_value_is_quarantined(
    mapping: TenantMapping, changes: dict[str, Any], field: str, reason: str
) -> None:
    result = quarantined(mapping, "Appointments", rest_appointment(**changes))
    assert result.field == field
    assert reason in result.reason


def test_an_unparsable_date_of_birth_is_quarantined(mapping: TenantMapping) -> None:
    result = quarantined(mapping, "Contacts", rest_contact(Date_of_Birth="12/04/1985"))
    assert result.field == "date_of_birth"
    assert "as a date" in result.reason


def test_a_picklist_value_without_a_value_map_entry_is_quarantined(
    mapping: TenantMapping,
) -> None:
    result = quarantined(mapping, "Appointments", csv_appointment(Status="Rescheduled"))
    assert result.field == "status"
    assert result.reason == (
        "Status: picklist value 'Rescheduled' has no entry in value_maps.status"
    )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"Clinician": "dr smith"}, "clinician_id"),
        ({"Room": "-room"}, "room_id"),
        ({"Procedure_Code": "X" * 65}, "procedure_code"),
        ({"Currency": "rupees"}, "currency"),
        ({"Duration": 2}, "duration_minutes"),
        ({"Duration": 1000}, "duration_minutes"),
        ({"Amount": "-10.00"}, "price_minor"),
    ],
)
def test_a_value_failing_canonical_constraints_is_quarantined(
    mapping: TenantMapping, changes: dict[str, Any], field: str
) -> None:
    result = quarantined(mapping, "Appointments", rest_appointment(**changes))
    assert result.field == field
    assert f"is not a valid {field}" in result.reason


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"Email": "not-an-email"}, "email"),
        ({"Mobile": "call me"}, "phone"),
        ({"Full_Name": "x" * 300}, "full_name"),
    ],
)
def test_invalid_personal_data_is_quarantined(
    mapping: TenantMapping, changes: dict[str, Any], field: str
) -> None:
    result = quarantined(mapping, "Contacts", rest_contact(**changes))
    assert result.field == field
    assert "not a valid" in result.reason


def test_a_record_without_created_time_is_quarantined(mapping: TenantMapping) -> None:
    """A booking's moment is its record's creation: never guessed from a later edit."""
    fields = rest_appointment()
    del fields["Created_Time"]
    result = quarantined(mapping, "Appointments", fields)
    assert (result.field, result.reason) == (
        "created_at",
        "created_at (Zoho field Created_Time) is missing or empty",
    )


def test_a_canonical_picklist_without_a_value_map_takes_canonical_values_only(
    tmp_path: Path,
) -> None:
    loaded = load_mapping(write(tmp_path, MINIMAL))
    fields = {
        "Patient_Name": "1",
        "Referrer": "2",
        "Branch": "b1",
        "Referrer_Type": "gp",
        "Created_Time": "2026-03-01T10:00:00Z",
    }
    assert isinstance(map_record(loaded, record("Referrals", fields, "3")), MappedRecord)
    fields["Referrer_Type"] = "GP"
    result = map_record(loaded, record("Referrals", fields, "3"))
    assert isinstance(result, Quarantined)
    assert result.field == "referrer_type"


# --- the check -------------------------------------------------------------------------


def test_the_check_reports_what_does_not_fit(mapping: TenantMapping) -> None:
    # Date_of_Birth is restricted from API access: Zoho returns it empty every time;
    # Mailing_Zip is not in this layout at all; Owner and Lead_Source are not mapped.
    contacts = [
        {
            **rest_contact(Date_of_Birth=None, Gender=gender),
            "Owner": {"id": "9", "name": "Desk"},
            "$editable": True,
        }
        for gender in ("Female", "Male", "Non-binary")
    ]
    for contact in contacts:
        del contact["Mailing_Zip"]
    contacts[1]["Lead_Source"] = "Google Ads"
    appointments = [
        csv_appointment(),
        csv_appointment(Status="Rescheduled"),
        csv_appointment(Status="Rescheduled"),
        csv_appointment(Appointment_Start="soon"),
    ]
    report = check_mapping(
        mapping, {"Contacts": contacts, "Appointments": appointments, "Deals": [{"x": "1"}]}
    )
    assert not report.ok

    patients = report.module("Contacts")
    assert patients.records == 3
    assert patients.unmapped == ("Lead_Source", "Owner")
    assert patients.unknown == ("Mailing_Zip",)
    assert patients.always_empty == ("Date_of_Birth",)
    assert patients.unmapped_values == {"sex": ("Non-binary",)}
    assert patients.quarantined_records == 1
    assert not patients.ok

    bookings = report.module("Appointments")
    assert bookings.unmapped == ()
    assert bookings.always_empty == ("Referral", "GCLID", "Cancellation_Reason")
    assert bookings.unmapped_values == {"status": ("Rescheduled",)}
    assert bookings.quarantined_records == 3
    assert [(q.kind, q.field, q.count) for q in bookings.quarantined] == [
        ("unmapped picklist value", "status", 2),
        ("unparsable value", "start_at", 1),
    ]

    deals = report.module("Deals")
    assert deals.entity is None
    assert deals.quarantined_records == 1
    assert any("'Deals' is in the samples but not in the mapping" in i for i in report.issues)
    assert report.warnings == ("no samples for Referrals: not checked",)

    text = report.to_text()
    assert text.startswith("Zoho mapping check, example-clinic version 1: PROBLEMS FOUND")
    assert "mapped but empty in every sample (restricted from API access?): Date_of_Birth" in text
    assert "mapped but never seen in the samples: Mailing_Zip" in text
    assert "status: picklist values with no value-map entry: 'Rescheduled'" in text
    assert "quarantined 2 x unmapped picklist value (status)" in text
    assert "seen but not mapped: Lead_Source, Owner" in text

    as_dict = json.loads(json.dumps(report.to_dict()))
    assert as_dict["ok"] is False
    assert as_dict["modules"]["Contacts"]["always_empty"] == ["Date_of_Birth"]
    assert as_dict["modules"]["Appointments"]["quarantined_records"] == 3


def test_the_check_flags_lookups_that_cannot_meet_generated_ids(tmp_path: Path) -> None:
    text = EXAMPLE.read_text(encoding="utf-8").replace('id = "patient_id"\n', "")
    loaded = load_mapping(write(tmp_path, text))
    report = check_mapping(loaded, {})
    assert not report.ok
    assert any(
        issue.startswith("Appointments.Patient_Name feeds patient_id, but Contacts maps no field")
        for issue in report.issues
    )
    # Without an id field, contacts become "zoho-<record id>".
    contact = mapped(loaded, "Contacts", rest_contact())
    assert contact.values["patient_id"] == f"zoho-{PATIENT_ID}"


def test_the_mapping_guide_documents_every_canonical_field() -> None:
    """mappings/README.md lists each entity's canonical fields, and only those."""
    from mymedic.integrations.zoho.mapping import CANONICAL, MAPPINGS_DIR

    guide = (MAPPINGS_DIR / "README.md").read_text(encoding="utf-8")
    sections = dict((part.split("\n", 1)[0].strip(), part) for part in guide.split("\n### ")[1:])
    assert set(sections) == set(CANONICAL)
    for entity, fields in CANONICAL.items():
        documented = [
            line.split("`")[1] for line in sections[entity].splitlines() if line.startswith("| `")
        ]
        assert documented == list(fields), entity
