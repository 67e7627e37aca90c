from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mymedic.bootstrap import BackendUnavailable, bootstrap
from mymedic.settings import Settings


def test_settings_come_from_mymedic_variables(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MYMEDIC_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("MYMEDIC_SQLITE_SYNCHRONOUS", "NORMAL")
    monkeypatch.setenv("MYMEDIC_STRIPE_WEBHOOK_SECRET", "whsec_synthetic")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.event_store_path == tmp_path / "events.sqlite"
    assert settings.sqlite_synchronous == "NORMAL"
    assert settings.stripe_webhook_secret is not None
    assert "whsec_synthetic" not in repr(settings)


def test_an_unavailable_backend_is_refused_clearly(tmp_path: Path) -> None:
    settings = Settings(backend="gcp", data_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]
    with pytest.raises(BackendUnavailable, match="gcp"):
        bootstrap(settings)


def test_importing_the_package_touches_nothing(tmp_path: Path) -> None:
    modules = [
        "mymedic.bootstrap",
        "mymedic.entrypoints",
        "mymedic.cli",
        "mymedic.server",
        "mymedic.adapters.local.event_store",
        "mymedic.adapters.local.warehouse",
    ]
    code = "import importlib\n" + "\n".join(f"importlib.import_module({m!r})" for m in modules)
    subprocess.run([sys.executable, "-c", code], cwd=tmp_path, check=True)
    assert list(tmp_path.iterdir()) == []
