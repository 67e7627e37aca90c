"""What ``mymedic zoho mapping init`` reads of a Zoho org: its modules
(``/settings/modules``), each API-supported module's fields (``/settings/fields``:
types, picklist values, lookups, formulas) and the CRM users (the Users API, which has
no field metadata: the keys of the users listed, never their values, and the time zone
most of them work in)."""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from mymedic.integrations.zoho.client import USERS, ZohoClient, ZohoRequestError

log = logging.getLogger(__name__)

_API_NAME = re.compile(r"^[A-Za-z0-9_]+$")
USERS_PER_PAGE = 200


@dataclass(frozen=True)
class FieldMeta:
    api_name: str
    label: str
    data_type: str
    picklist: tuple[str, ...] = ()  # actual values, as records carry them
    lookup_module: str | None = None  # a lookup's module API name
    formula_type: str | None = None  # a formula field's return type

    @property
    def is_formula(self) -> bool:
        return self.data_type == "formula"

    @property
    def value_type(self) -> str:
        """The type of the values a record holds: a formula's is its return type."""
        if self.is_formula and self.formula_type:
            return {"string": "text", "decimal": "double"}.get(self.formula_type, self.formula_type)
        return self.data_type


@dataclass(frozen=True)
class ModuleMeta:
    api_name: str
    singular_label: str
    plural_label: str
    custom: bool
    fields: tuple[FieldMeta, ...]

    def field(self, api_name: str) -> FieldMeta | None:
        return next((item for item in self.fields if item.api_name == api_name), None)


@dataclass(frozen=True)
class OrgMetadata:
    modules: tuple[ModuleMeta, ...]
    users: ModuleMeta | None  # None: no user listed
    time_zone: str | None  # the CRM users' most common time zone
    skipped: tuple[str, ...] = ()  # modules whose fields Zoho would not list


def read_metadata(client: ZohoClient, api_version: str) -> OrgMetadata:
    body = _object(client.get(f"/crm/{api_version}/settings/modules").json())
    modules: list[ModuleMeta] = []
    skipped: list[str] = []
    for item in _list(body.get("modules")):
        name = item.get("api_name")
        if item.get("api_supported") is False or not isinstance(name, str):
            continue
        if not _API_NAME.match(name) or name == USERS:
            continue
        try:
            fields = _fields(client, api_version, name)
        except ZohoRequestError as exc:
            log.info("Zoho lists no fields for %s (%s)", name, exc.code)
            skipped.append(name)
            continue
        modules.append(
            ModuleMeta(
                api_name=name,
                singular_label=str(item.get("singular_label") or name),
                plural_label=str(item.get("plural_label") or item.get("module_name") or name),
                custom=item.get("generated_type") == "custom",
                fields=fields,
            )
        )
    users, time_zone = _users(client, api_version)
    return OrgMetadata(tuple(modules), users, time_zone, tuple(skipped))


def _fields(client: ZohoClient, api_version: str, module: str) -> tuple[FieldMeta, ...]:
    response = client.get(f"/crm/{api_version}/settings/fields", {"module": module})
    if response.status_code == 204:
        return ()
    found: list[FieldMeta] = []
    for item in _list(_object(response.json()).get("fields")):
        name = item.get("api_name")
        if not isinstance(name, str) or not _API_NAME.match(name):
            continue
        formula = _object(item.get("formula"))
        found.append(
            FieldMeta(
                api_name=name,
                label=str(item.get("field_label") or item.get("display_label") or name),
                data_type=str(item.get("data_type") or item.get("json_type") or "text"),
                picklist=_picklist(item.get("pick_list_values")),
                lookup_module=_lookup_module(item.get("lookup")),
                formula_type=str(formula["return_type"]) if formula.get("return_type") else None,
            )
        )
    return tuple(found)


def _picklist(values: Any) -> tuple[str, ...]:
    actual = [
        str(value.get("actual_value") or value.get("display_value") or "")
        for value in _list(values)
    ]
    return tuple(value for value in dict.fromkeys(actual) if value and value != "-None-")


def _lookup_module(lookup: Any) -> str | None:
    """``lookup.module.api_name`` (v3 and later), or ``lookup.module`` as a name (v2)."""
    if not isinstance(lookup, dict):
        return None
    module = lookup.get("module")
    if isinstance(module, dict):
        module = module.get("api_name")
    return module if isinstance(module, str) and _API_NAME.match(module) else None


def _users(client: ZohoClient, api_version: str) -> tuple[ModuleMeta | None, str | None]:
    """The keys the listed users carry (their values are read for nothing but the time
    zone), as the fields of module Users."""
    response = client.get(
        f"/crm/{api_version}/users",
        {"type": "AllUsers", "page": "1", "per_page": str(USERS_PER_PAGE)},
    )
    if response.status_code == 204:
        return None, None
    keys: dict[str, str] = {}
    zones: Counter[str] = Counter()
    for user in _list(_object(response.json()).get("users")):
        zone = user.get("time_zone")
        if isinstance(zone, str) and zone:
            zones[zone] += 1
        for key, value in user.items():
            if _API_NAME.match(key):
                keys.setdefault(key, _json_type(value))
    if not keys:
        return None, None
    fields = tuple(FieldMeta(api_name=key, label=key, data_type=kind) for key, kind in keys.items())
    module = ModuleMeta(USERS, "User", "Users", custom=False, fields=fields)
    return module, (zones.most_common(1)[0][0] if zones else None)


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "double"
    if isinstance(value, list):
        return "jsonarray"
    if isinstance(value, dict):
        return "userlookup" if "id" in value else "jsonobject"
    return "text"


def _object(body: Any) -> dict[str, Any]:
    return body if isinstance(body, dict) else {}


def _list(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []
