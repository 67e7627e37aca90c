"""How to reach one tenant's Zoho org: the non-secret part in
``<tenant>.connection.toml`` beside its mapping (data centre, OAuth client id, the API
domain Zoho answered with, the scopes granted), the secrets in the tenant's secret store
(client secret, refresh token, the notification channel's token, the workflow webhooks'
shared secret). ``mymedic zoho connect`` writes both.

A one-tenant install may instead keep everything in settings (MYMEDIC_ZOHO_*): those are
the default tenant's (MYMEDIC_ZOHO_TENANT_ID) when it has no connection file.
"""

from __future__ import annotations

import os
import tempfile
import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from mymedic.domain.types import AwareDatetime, Identifier
from mymedic.integrations.zoho.config import DataCentre, ZohoConfig
from mymedic.ports import SecretStore
from mymedic.settings import Settings

CLIENT_SECRET = "zoho_client_secret"  # noqa: S105 - a secret's name, not a secret
REFRESH_TOKEN = "zoho_refresh_token"  # noqa: S105 - a secret's name
CHANNEL_TOKEN = "zoho_channel_token"  # noqa: S105 - a secret's name
WORKFLOW_SECRET = "zoho_workflow_secret"  # noqa: S105 - a secret's name
CONNECTION_SUFFIX = ".connection.toml"


class ConnectionError_(ValueError):  # noqa: N801 - not the builtin ConnectionError
    """A connection file that cannot be used."""


class ZohoConnection(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    tenant_id: Identifier
    data_centre: DataCentre
    client_id: str = Field(min_length=1, max_length=200)
    # The base of API calls, as Zoho's token response named it; the accounts server
    # of the data centre unless overridden (a fake, a proxy).
    api_domain: str | None = None
    accounts_url: str | None = None
    scopes: list[str] = []
    connected_at: AwareDatetime | None = None


def connection_path(folder: Path, tenant_id: str) -> Path:
    return folder / f"{tenant_id}{CONNECTION_SUFFIX}"


def load_connection(folder: Path, tenant_id: str) -> ZohoConnection | None:
    path = connection_path(folder, tenant_id)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConnectionError_(f"{path.name}: cannot read the connection: {exc}") from exc
    try:
        found = ZohoConnection.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ConnectionError_(f"{path.name}: {where}: {first['msg']}") from None
    if found.tenant_id != tenant_id:
        raise ConnectionError_(f"{path.name} connects tenant {found.tenant_id}, not {tenant_id}")
    return found


def save_connection(folder: Path, connection: ZohoConnection) -> Path:
    """Write the connection file atomically (it holds no secret)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = connection_path(folder, connection.tenant_id)
    lines = [
        "# Written by `mymedic zoho connect`. No secret is kept here: the client secret,",
        "# the refresh token and the webhook tokens are in the tenant's secret store.",
        f'tenant_id = "{connection.tenant_id}"',
        f'data_centre = "{connection.data_centre}"',
        f'client_id = "{connection.client_id}"',
    ]
    if connection.api_domain:
        lines.append(f'api_domain = "{connection.api_domain}"')
    if connection.accounts_url:
        lines.append(f'accounts_url = "{connection.accounts_url}"')
    lines.append("scopes = [" + ", ".join(f'"{scope}"' for scope in connection.scopes) + "]")
    if connection.connected_at is not None:
        lines.append(f'connected_at = "{connection.connected_at.isoformat()}"')
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".connection-")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")
    os.replace(temporary, path)
    return path


class NotConnected(RuntimeError):
    """The tenant has no usable Zoho credentials (HTTP 503)."""


def zoho_config(
    settings: Settings,
    secrets: SecretStore | None,
    tenant_id: str,
    folder: Path,
    *,
    default: bool,
) -> ZohoConfig:
    """The client's configuration for ``tenant_id``: its connection file and secrets,
    else (``default``: the tenant of a one-tenant install) the MYMEDIC_ZOHO_* settings."""
    connection = load_connection(folder, tenant_id)
    if connection is not None:
        if secrets is None:
            raise NotConnected(f"tenant {tenant_id}: no secret store for its Zoho credentials")
        client_secret = secrets.get(tenant_id, CLIENT_SECRET)
        refresh_token = secrets.get(tenant_id, REFRESH_TOKEN)
        missing = [
            name
            for name, value in ((CLIENT_SECRET, client_secret), (REFRESH_TOKEN, refresh_token))
            if value is None
        ]
        if missing or client_secret is None or refresh_token is None:
            raise NotConnected(
                f"tenant {tenant_id} has no {', '.join(missing)} in its secret store: "
                f"run `mymedic zoho connect --tenant {tenant_id}`"
            )
        return ZohoConfig(
            data_centre=connection.data_centre,
            client_id=connection.client_id,
            client_secret=client_secret,
            refresh_token=refresh_token,
            accounts_url=connection.accounts_url,
            api_domain=connection.api_domain,
        )
    if not default:
        raise NotConnected(
            f"tenant {tenant_id} is not connected to Zoho: run "
            f"`mymedic zoho connect --tenant {tenant_id}`"
        )
    missing = [
        name
        for name, value in (
            ("MYMEDIC_ZOHO_CLIENT_ID", settings.zoho_client_id),
            ("MYMEDIC_ZOHO_CLIENT_SECRET", settings.zoho_client_secret),
            ("MYMEDIC_ZOHO_REFRESH_TOKEN", settings.zoho_refresh_token),
        )
        if not value
    ]
    if missing or not settings.zoho_client_id:
        raise NotConnected(f"Zoho API access is not configured: set {', '.join(missing)}")
    assert settings.zoho_client_secret and settings.zoho_refresh_token  # noqa: S101 - checked
    return ZohoConfig(
        data_centre=settings.zoho_data_centre,
        client_id=settings.zoho_client_id,
        client_secret=settings.zoho_client_secret,
        refresh_token=settings.zoho_refresh_token,
        accounts_url=settings.zoho_accounts_url,
        api_domain=settings.zoho_api_domain,
    )


def tenant_secret(
    settings: Settings, secrets: SecretStore | None, tenant_id: str, name: str, *, default: bool
) -> SecretStr | None:
    """A webhook token of the tenant: its own, else (``default``: the tenant of a
    one-tenant install) the setting."""
    own = secrets.get(tenant_id, name) if secrets is not None else None
    if own is not None:
        return own
    if not default:
        return None
    return settings.zoho_webhook_token if name == CHANNEL_TOKEN else settings.zoho_workflow_secret
