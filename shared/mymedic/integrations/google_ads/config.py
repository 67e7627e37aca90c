"""How to reach Google Ads: the developer token, the OAuth client and refresh token,
the manager account to log in through, and which ad accounts feed which tenant.

Secrets are :class:`~pydantic.SecretStr`: they never show in ``repr``, logs or errors.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, SecretStr, ValidationError

from mymedic.settings import Settings

# The Google Ads API version the installed client serves (google-ads 34.x: v23-v26).
# Bump it with the google-ads pin in pyproject.toml.
API_VERSION = "v26"


def _digits_only(value: Any) -> Any:
    """The UI shows customer ids as 123-456-7890; the API takes 1234567890."""
    return value.replace("-", "").strip() if isinstance(value, str) else value


CustomerId = Annotated[str, BeforeValidator(_digits_only), Field(pattern=r"^\d{10}$")]


class GoogleAdsNotConfigured(Exception):
    """What is missing to sync a tenant's Google Ads accounts (HTTP 503)."""


class GoogleAdsConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    developer_token: SecretStr
    client_id: str = Field(min_length=1)
    client_secret: SecretStr
    refresh_token: SecretStr
    login_customer_id: CustomerId | None = None
    # tenant id -> the ad accounts whose cost and clicks are the tenant's
    customers: dict[str, tuple[CustomerId, ...]] = Field(default_factory=dict)
    max_attempts: int = Field(default=5, ge=1, le=20)
    max_backoff_seconds: float = Field(default=60, ge=0, le=3600)

    def customers_of(self, tenant_id: str) -> tuple[str, ...]:
        customers = self.customers.get(tenant_id)
        if not customers:
            raise GoogleAdsNotConfigured(
                f"no Google Ads accounts for tenant {tenant_id}: "
                "add them to MYMEDIC_GOOGLE_ADS_CUSTOMERS"
            )
        return customers

    def client_dict(self) -> dict[str, Any]:
        """What ``GoogleAdsClient.load_from_dict`` takes."""
        settings: dict[str, Any] = {
            "developer_token": self.developer_token.get_secret_value(),
            "client_id": self.client_id,
            "client_secret": self.client_secret.get_secret_value(),
            "refresh_token": self.refresh_token.get_secret_value(),
            "use_proto_plus": True,
        }
        if self.login_customer_id:
            settings["login_customer_id"] = self.login_customer_id
        return settings


def google_ads_config(settings: Settings) -> GoogleAdsConfig:
    """The configuration from settings; GoogleAdsNotConfigured names what is missing."""
    missing = [
        name
        for name, value in (
            ("MYMEDIC_GOOGLE_ADS_DEVELOPER_TOKEN", settings.google_ads_developer_token),
            ("MYMEDIC_GOOGLE_ADS_CLIENT_ID", settings.google_ads_client_id),
            ("MYMEDIC_GOOGLE_ADS_CLIENT_SECRET", settings.google_ads_client_secret),
            ("MYMEDIC_GOOGLE_ADS_REFRESH_TOKEN", settings.google_ads_refresh_token),
        )
        if not value
    ]
    if missing:
        raise GoogleAdsNotConfigured(
            f"Google Ads API access is not configured: set {', '.join(missing)}"
        )
    try:
        return GoogleAdsConfig(
            developer_token=settings.google_ads_developer_token,
            client_id=settings.google_ads_client_id,
            client_secret=settings.google_ads_client_secret,
            refresh_token=settings.google_ads_refresh_token,
            login_customer_id=settings.google_ads_login_customer_id or None,
            customers={tenant: tuple(ids) for tenant, ids in settings.google_ads_customers.items()},
        )
    except ValidationError as exc:
        fields = sorted({".".join(str(p) for p in err["loc"]) for err in exc.errors()})
        raise GoogleAdsNotConfigured(
            f"Google Ads settings are invalid ({', '.join(fields)}): customer ids are 10 digits"
        ) from None
