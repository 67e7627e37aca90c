"""Typed settings from ``MYMEDIC_*`` environment variables and an optional ``.env``.

Only ``bootstrap`` and the entry points build a ``Settings``; nothing reads the
environment at import time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from mymedic.integrations.zoho.config import DataCentre


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="MYMEDIC_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    backend: Literal["local", "gcp"] = "local"
    data_dir: Path = Path("var")
    default_tenant_id: str = "demo-clinics"
    default_currency: str = Field(default="INR", pattern=r"^[A-Z]{3}$")
    # SQLite durability: FULL fsyncs the WAL at every commit (nothing acknowledged is
    # lost on power failure); NORMAL may lose the last commits on power loss.
    sqlite_synchronous: Literal["FULL", "NORMAL"] = "FULL"
    # Deliveries of one event that may fail before it is moved to the dead letters.
    max_delivery_attempts: int = Field(default=5, ge=1, le=100)

    gcp_project: str | None = None
    firestore_database: str = "(default)"
    pubsub_topic: str = "mymedic-events"
    bigquery_dataset: str = Field(default="mymedic", pattern=r"^[A-Za-z0-9_]{1,1024}$")
    bigquery_location: str | None = None
    # Only for bqemulator: the REST endpoint to use instead of Google's.
    bigquery_endpoint: str | None = None
    # Every call to a Google API carries this deadline, so an outage fails fast with a
    # retryable error instead of hanging a function until its own timeout.
    gcp_timeout_seconds: float = Field(default=10.0, gt=0, le=300)

    jwt_secret: SecretStr | None = None
    jwt_algorithm: Literal["HS256", "RS256"] = "HS256"
    jwt_issuer: str = "mymedic"
    jwt_audience: str = "mymedic-api"
    jwt_public_key: str | None = None  # PEM text (RS256 with a static key)
    jwt_jwks_url: str | None = None  # RS256 through the identity provider's JWKS
    jwt_leeway_seconds: int = Field(default=30, ge=0, le=300)
    jwt_jwks_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    stripe_webhook_secret: SecretStr | None = None
    razorpay_webhook_secret: SecretStr | None = None
    # API credentials of the gateways, for the settlement-detail job (the lines of a
    # settlement: Razorpay's settlement recon, the balance transactions of a Stripe
    # payout). A restricted Stripe key needs read access to balance transactions.
    stripe_api_key: SecretStr | None = None
    razorpay_key_id: SecretStr | None = None
    razorpay_key_secret: SecretStr | None = None
    # The tenant of the gateway account: gateway facts whose payment names no tenant
    # (and the index that finds a payment's tenant) go there; None: default_tenant_id.
    payments_tenant_id: str | None = None
    zoho_webhook_token: SecretStr | None = None
    # Zoho CRM (read-only ingestion). The tenant the Zoho org feeds; the channel token
    # of Notifications API callbacks (above) and the shared secret workflow-rule webhooks
    # send in X-Zoho-Webhook-Secret; the OAuth client (self client) and refresh token.
    zoho_tenant_id: str | None = None
    zoho_workflow_secret: SecretStr | None = None
    zoho_client_id: str | None = None
    zoho_client_secret: SecretStr | None = None
    zoho_refresh_token: SecretStr | None = None
    zoho_data_centre: DataCentre = "in"
    zoho_accounts_url: str | None = None
    zoho_api_domain: str | None = None
    # Where ``<tenant>.toml`` field mappings live; None: the mappings bundled with the
    # package (mymedic/integrations/zoho/mappings).
    zoho_mapping_dir: Path | None = None
    # The public URL of the zoho_webhook function: where the Notifications API channel
    # (kept alive by the zoho-renew-channels job) sends its callbacks.
    zoho_notify_url: str | None = None
    # Outgoing e-mail (alerts and report snapshots): an SMTP relay with STARTTLS.
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str | None = None
    smtp_starttls: bool = True
    # Where alert e-mails link the dashboard page behind an alert. First the Looker Studio
    # report of each dashboard of looker/dashboards (its name), or of one page of it
    # ("revenue/leakage": Looker Studio gives pages ids of its own, so copy the page's
    # URL), as JSON: MYMEDIC_LOOKER_REPORT_URLS='{"operations":
    # "https://lookerstudio.google.com/reporting/<id>"}'. Else the public base URL of
    # `mymedic serve`, which serves the preview: <base>/dashboards/<dashboard>?tenant=T
    # #<page>. With neither, the e-mail gives the command that shows it.
    looker_report_urls: dict[str, str] = Field(default_factory=dict)
    report_base_url: str | None = None
    # Google Ads (read-only cost and click sync): the API developer token, the OAuth
    # client and refresh token of a user with access to the accounts, the manager
    # account to log in through (10 digits), and each tenant's ad accounts, as JSON:
    # MYMEDIC_GOOGLE_ADS_CUSTOMERS='{"tenant-a": ["1234567890"]}'.
    google_ads_developer_token: SecretStr | None = None
    google_ads_client_id: str | None = None
    google_ads_client_secret: SecretStr | None = None
    google_ads_refresh_token: SecretStr | None = None
    google_ads_login_customer_id: str | None = None
    google_ads_customers: dict[str, list[str]] = Field(default_factory=dict)

    @field_validator("looker_report_urls")
    @classmethod
    def _dashboards_and_pages(cls, urls: dict[str, str]) -> dict[str, str]:
        from mymedic.dashboards.model import load_dashboards

        pages = {d.name: {p.id for p in d.pages} for d in load_dashboards()}
        for key, url in urls.items():
            dashboard, _, page = key.partition("/")
            if dashboard not in pages or (page and page not in pages[dashboard]):
                known = sorted(pages) + sorted(f"{d}/{p}" for d, ids in pages.items() for p in ids)
                raise ValueError(f"{key!r} is no dashboard or page: one of {', '.join(known)}")
            if not url.startswith("https://"):
                raise ValueError(f"{key}: the Looker Studio URL must start with https://")
        return urls

    @property
    def event_store_path(self) -> Path:
        return self.data_dir / "events.sqlite"

    @property
    def read_model_path(self) -> Path:
        return self.data_dir / "read_models.sqlite"

    @property
    def warehouse_path(self) -> Path:
        return self.data_dir / "warehouse.duckdb"

    @property
    def secrets_dir(self) -> Path:
        """Tenants' secrets on the embedded default (one 0600 file per tenant)."""
        return self.data_dir / "secrets"

    @property
    def zoho_dir(self) -> Path:
        """Where each Zoho tenant's ``<tenant>.toml`` mapping and
        ``<tenant>.connection.toml`` live: MYMEDIC_ZOHO_MAPPING_DIR, else ``zoho/`` in
        the data folder."""
        return self.zoho_mapping_dir or self.data_dir / "zoho"
