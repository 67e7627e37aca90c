"""Tenant secrets in Secret Manager: secret ``mymedic-t-<tenant>-<name>`` (underscores
as hyphens), its latest version the current value. Setting one adds a version (the
secret is created first when new); the functions' service accounts may read (and the
onboarding account add versions to) only secrets with that prefix (terraform/)."""

from __future__ import annotations

import contextlib
import re
from typing import Any

from pydantic import SecretStr

from mymedic.adapters.gcp.errors import TRANSIENT
from mymedic.ports import SECRET_NAME, TransientBackendError

PREFIX = "mymedic-t-"
_NAME = re.compile(SECRET_NAME)


def secret_id(tenant_id: str, name: str) -> str:
    """Secret ids allow letters, digits, hyphens and underscores, up to 255."""
    if not _NAME.match(name):
        raise ValueError(f"{name!r} is not a secret name ({SECRET_NAME})")
    tenant = re.sub(r"[^A-Za-z0-9_-]", "-", tenant_id)
    return f"{PREFIX}{tenant}-{name.replace('_', '-')}"


class SecretManagerStore:
    def __init__(self, client: Any, project: str, timeout_seconds: float) -> None:
        self._client = client
        self._project = project
        self._timeout = timeout_seconds

    @staticmethod
    def client() -> Any:
        from google.cloud import secretmanager

        return secretmanager.SecretManagerServiceClient()

    def get(self, tenant_id: str, name: str) -> SecretStr | None:
        from google.api_core import exceptions

        path = f"projects/{self._project}/secrets/{secret_id(tenant_id, name)}/versions/latest"
        try:
            response = self._client.access_secret_version(
                request={"name": path}, timeout=self._timeout
            )
        except exceptions.NotFound:
            return None
        except TRANSIENT as exc:
            raise _unavailable(exc) from exc
        return SecretStr(response.payload.data.decode("utf-8"))

    def put(self, tenant_id: str, name: str, value: str) -> None:
        from google.api_core import exceptions

        parent = f"projects/{self._project}"
        secret = f"{parent}/secrets/{secret_id(tenant_id, name)}"
        try:
            with contextlib.suppress(exceptions.AlreadyExists):
                self._client.create_secret(
                    request={
                        "parent": parent,
                        "secret_id": secret_id(tenant_id, name),
                        "secret": {
                            "replication": {"automatic": {}},
                            "labels": {"tenant": _label(tenant_id), "managed-by": "mymedic"},
                        },
                    },
                    timeout=self._timeout,
                )
            self._client.add_secret_version(
                request={"parent": secret, "payload": {"data": value.encode("utf-8")}},
                timeout=self._timeout,
            )
        except TRANSIENT as exc:
            raise _unavailable(exc) from exc


def _unavailable(exc: BaseException) -> TransientBackendError:
    return TransientBackendError(f"Secret Manager unavailable: {type(exc).__name__}")


def _label(tenant_id: str) -> str:
    """Label values: lowercase letters, digits, underscores and hyphens, up to 63."""
    return re.sub(r"[^a-z0-9_-]", "-", tenant_id.lower())[:63]
