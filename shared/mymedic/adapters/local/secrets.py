"""Tenant secrets on the embedded default: one JSON file per tenant, readable by this
user only (0600, in a 0700 folder), replaced atomically so a crash mid-write never
leaves a half-written file."""

from __future__ import annotations

import os
import re
import tempfile
import threading
from pathlib import Path

import orjson
from pydantic import SecretStr

from mymedic.ports import SECRET_NAME

_TENANT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")
_NAME = re.compile(SECRET_NAME)


class FileSecretStore:
    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self._lock = threading.Lock()

    def _path(self, tenant_id: str) -> Path:
        if not _TENANT.match(tenant_id) or tenant_id.startswith("."):
            raise ValueError("not a tenant id")
        return self._folder / f"{tenant_id}.json"

    def _read(self, path: Path) -> dict[str, str]:
        try:
            data = orjson.loads(path.read_bytes())
        except FileNotFoundError:
            return {}
        return {str(key): str(value) for key, value in dict(data).items()}

    def get(self, tenant_id: str, name: str) -> SecretStr | None:
        value = self._read(self._path(tenant_id)).get(name)
        return SecretStr(value) if value is not None else None

    def put(self, tenant_id: str, name: str, value: str) -> None:
        if not _NAME.match(name):
            raise ValueError(f"{name!r} is not a secret name ({SECRET_NAME})")
        path = self._path(tenant_id)
        with self._lock:
            self._folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.chmod(self._folder, 0o700)
            secrets = self._read(path)
            secrets[name] = value
            handle, temporary = tempfile.mkstemp(dir=self._folder, prefix=".secrets-")
            try:
                os.fchmod(handle, 0o600)
                with os.fdopen(handle, "wb") as out:
                    out.write(orjson.dumps(secrets, option=orjson.OPT_SORT_KEYS))
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(temporary, path)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
