"""The tenant's Zoho Books settings: the ``[books]`` table of its Zoho mapping file.
OAuth (data centre, client, refresh token) is the CRM's :class:`ZohoConfig`."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from mymedic.domain.types import PayerType

CustomField = str  # a Books custom field's API name, e.g. cf_appointment_id


class BooksMapping(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    organization_id: str = Field(pattern=r"^[0-9]{1,30}$")
    appointment_field: CustomField = Field(default="cf_appointment_id", pattern=r"^cf_\w{1,100}$")
    branch_field: CustomField | None = Field(default="cf_branch_id", pattern=r"^cf_\w{1,100}$")
    payer_type: PayerType = PayerType.SELF_PAY
