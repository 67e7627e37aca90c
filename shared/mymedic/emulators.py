"""Starting and stopping Google's Pub/Sub and Firestore emulators and bqemulator.

For tests and for developers who want the GCP path on a laptop. Each emulator is a
process we start ourselves, directly (never through a wrapper that forks), so that the
PID we hold is the one to stop; each listens on a free loopback port.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

SDK_ROOT_HINTS = (
    "/usr/lib/google-cloud-sdk",
    "/usr/share/google-cloud-sdk",
    "/opt/google-cloud-sdk",
)


class EmulatorUnavailable(RuntimeError):
    """An emulator binary is missing or did not come up."""


@dataclass
class Emulator:
    name: str
    host_port: str
    process: subprocess.Popen[bytes]
    env: dict[str, str] = field(default_factory=dict)
    log_path: Path | None = None

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def sdk_root() -> Path:
    gcloud = shutil.which("gcloud")
    candidates = [Path(p) for p in SDK_ROOT_HINTS]
    if gcloud:
        candidates.insert(0, Path(gcloud).resolve().parent.parent)
    for candidate in candidates:
        if (candidate / "platform").is_dir():
            return candidate
    raise EmulatorUnavailable("the Google Cloud SDK (gcloud) is not installed")


def _require(path: Path, what: str) -> Path:
    if not path.exists():
        raise EmulatorUnavailable(f"{what} is not installed (looked for {path})")
    return path


def _spawn(
    name: str, argv: list[str], log_dir: Path, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[bytes], Path]:
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}.log"
    log = log_path.open("wb")
    # Its own session, so that stop() can signal the whole group it may have made.
    process = subprocess.Popen(  # noqa: S603 - fixed argv of our own choosing
        argv,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env={**os.environ, **(env or {})},
    )
    log.close()
    return process, log_path


def _wait_until(ready: Callable[[], bool], emulator: Emulator, timeout: float) -> Emulator:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if emulator.process.poll() is not None:
            break
        try:
            if ready():
                return emulator
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    emulator.stop()
    tail = emulator.log_path.read_text(errors="replace")[-2000:] if emulator.log_path else ""
    raise EmulatorUnavailable(f"{emulator.name} did not become ready:\n{tail}")


def start_pubsub(log_dir: Path, timeout: float = 60) -> Emulator:
    script = _require(
        sdk_root() / "platform" / "pubsub-emulator" / "bin" / "cloud-pubsub-emulator",
        "the Pub/Sub emulator (gcloud component pubsub-emulator)",
    )
    port = free_port()
    process, log_path = _spawn(
        "pubsub", [str(script), "--host=127.0.0.1", f"--port={port}"], log_dir
    )
    host_port = f"127.0.0.1:{port}"
    emulator = Emulator("pubsub", host_port, process, {"PUBSUB_EMULATOR_HOST": host_port}, log_path)
    return _wait_until(
        lambda: httpx.get(f"http://{host_port}/", timeout=1).status_code < 500, emulator, timeout
    )


def start_firestore(log_dir: Path, timeout: float = 60) -> Emulator:
    jar = _require(
        sdk_root() / "platform" / "cloud-firestore-emulator" / "cloud-firestore-emulator.jar",
        "the Firestore emulator (gcloud component cloud-firestore-emulator)",
    )
    java = shutil.which("java")
    if java is None:
        raise EmulatorUnavailable("java is not installed (the Firestore emulator needs it)")
    port = free_port()
    argv = [
        java,
        "-Duser.language=en",
        "-cp",
        str(jar),
        "com.google.cloud.datastore.emulator.firestore.CloudFirestore",
        "--host=127.0.0.1",
        f"--port={port}",
    ]
    process, log_path = _spawn("firestore", argv, log_dir)
    host_port = f"127.0.0.1:{port}"
    emulator = Emulator(
        "firestore", host_port, process, {"FIRESTORE_EMULATOR_HOST": host_port}, log_path
    )
    return _wait_until(
        lambda: httpx.get(f"http://{host_port}/", timeout=1).status_code == 200, emulator, timeout
    )


def start_bigquery(log_dir: Path, bqemulator: str | None = None, timeout: float = 60) -> Emulator:
    binary = bqemulator or shutil.which("bqemulator")
    if binary is None or not Path(binary).exists():
        raise EmulatorUnavailable(
            "bqemulator is not installed: run `make emulators` (it gets its own virtualenv)"
        )
    rest, grpc = free_port(), free_port()
    argv = [
        binary,
        "start",
        f"--rest-port={rest}",
        f"--grpc-port={grpc}",
        "--project=mymedic-test",
        "--log-level=warning",
    ]
    process, log_path = _spawn("bigquery", argv, log_dir)
    host_port = f"127.0.0.1:{rest}"
    emulator = Emulator(
        "bigquery",
        host_port,
        process,
        {"MYMEDIC_BIGQUERY_ENDPOINT": f"http://{host_port}"},
        log_path,
    )

    def ready() -> bool:
        response = httpx.get(
            f"http://{host_port}/bigquery/v2/projects/mymedic-test/datasets", timeout=1
        )
        return response.status_code == 200

    return _wait_until(ready, emulator, timeout)


def reset_firestore(host_port: str, project: str) -> None:
    httpx.delete(
        f"http://{host_port}/emulator/v1/projects/{project}/databases/(default)/documents",
        timeout=10,
    ).raise_for_status()
