"""How to reach one tenant's Zoho CRM: data centre, OAuth client and refresh token,
and the client's patience (timeouts, retries).

Secrets are :class:`~pydantic.SecretStr`: they never show in ``repr``, logs or errors.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

DataCentre = Literal["com", "eu", "in", "com.au", "jp", "ca", "com.cn"]

# Zoho's accounts server per data centre; Canada alone lives under zohocloud.ca.
ACCOUNTS_URLS: dict[str, str] = {
    "com": "https://accounts.zoho.com",
    "eu": "https://accounts.zoho.eu",
    "in": "https://accounts.zoho.in",
    "com.au": "https://accounts.zoho.com.au",
    "jp": "https://accounts.zoho.jp",
    "ca": "https://accounts.zohocloud.ca",
    "com.cn": "https://accounts.zoho.com.cn",
}


class ZohoConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    data_centre: DataCentre = "in"
    client_id: str = Field(min_length=1)
    client_secret: SecretStr
    refresh_token: SecretStr
    api_version: str = Field(default="v6", pattern=r"^v\d+(\.\d+)?$")
    # Overrides (a fake server, a proxy); otherwise derived from the data centre and
    # from the token response's ``api_domain`` respectively.
    accounts_url: str | None = None
    api_domain: str | None = None
    timeout_seconds: float = Field(default=30, gt=0, le=600)
    max_attempts: int = Field(default=5, ge=1, le=20)
    max_backoff_seconds: float = Field(default=60, ge=0, le=3600)

    @property
    def resolved_accounts_url(self) -> str:
        """The accounts server to ask for access tokens, without a trailing slash."""
        return (self.accounts_url or ACCOUNTS_URLS[self.data_centre]).rstrip("/")

    @property
    def token_url(self) -> str:
        return f"{self.resolved_accounts_url}/oauth/v2/token"
