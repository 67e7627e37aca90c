"""End-to-end throughput on the GCP emulators beside the local backend.

The same commands (N appointments, each booked, rescheduled and completed) go through
the command HTTP function; the clock stops when the clinic calendar read model shows
every appointment completed: on the local backend the in-process bus delivers after
each commit; on the emulators each event goes Firestore → Pub/Sub push → projection
function (functions-framework on loopback) → Firestore. Prints one JSON object.

    python scripts/bench_emulators.py [--appointments N]
"""

from __future__ import annotations

import argparse
import json
import os
import platform as host
import secrets
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from functions_framework import create_app

from mymedic import entrypoints
from mymedic.app.auth import Role, auth_config, issue_token
from mymedic.bootstrap import Platform, bootstrap
from mymedic.devstack import functions_source, start_stack
from mymedic.emulators import start_bigquery, start_firestore, start_pubsub
from mymedic.settings import Settings

TENANT, BRANCH = "bench", "branch-1"
SECRET = secrets.token_urlsafe(48)  # signs this run's tokens only


def commands(appointments: int) -> list[tuple[str, dict[str, Any]]]:
    # Ahead of the real clock: bookings must start after they are made.
    start = (datetime.now(UTC) + timedelta(days=30)).replace(
        hour=3, minute=30, second=0, microsecond=0
    )
    base = {"tenant_id": TENANT, "branch_id": BRANCH}
    out: list[tuple[str, dict[str, Any]]] = []
    for i in range(appointments):
        ref = {**base, "appointment_id": f"apt-{i}"}
        at = start + timedelta(minutes=15 * i)
        out.append(
            (
                "book_appointment",
                {
                    **ref,
                    "patient_id": f"pat-{i}",
                    "clinician_id": "c1",
                    "room_id": f"r{i % 5}",
                    "modality": "XRAY",
                    "procedure_code": "XR-CHEST",
                    "start_at": at.isoformat(),
                    "duration_minutes": 15,
                    "channel": "portal",
                    "price_minor": 60000,
                    "currency": "INR",
                },
            )
        )
    for i in range(appointments):
        at = start + timedelta(days=1, minutes=15 * i)
        out.append(
            (
                "reschedule_appointment",
                {**base, "appointment_id": f"apt-{i}", "start_at": at.isoformat()},
            )
        )
    for i in range(appointments):
        out.append(("complete_appointment", {**base, "appointment_id": f"apt-{i}"}))
    return out


def completed(platform: Platform) -> int:
    entries = platform.documents.query("calendar", TENANT, {"status": "completed"})
    return len(entries)


def run(platform: Platform, appointments: int, timeout: float = 600) -> dict[str, float]:
    entrypoints.use_platform(platform)
    client = create_app("commands", str(functions_source())).test_client()  # type: ignore[no-untyped-call]
    token = issue_token(
        auth_config(platform.settings),
        subject="bench",
        tenant_id=TENANT,
        role=Role.ADMIN,
        branches=None,
    )
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    work = commands(appointments)
    started = time.perf_counter()
    for name, body in work:
        response = client.post(f"/{name}", json=body)
        if response.status_code != 201:
            raise RuntimeError(f"{name}: {response.status_code} {response.get_json()}")
    accepted = time.perf_counter() - started
    deadline = time.monotonic() + timeout
    while completed(platform) < appointments:
        if time.monotonic() > deadline:
            raise RuntimeError("projections did not catch up in time")
        time.sleep(0.05)
    elapsed = time.perf_counter() - started
    entrypoints.use_platform(None)
    return {
        "events_per_s": round(len(work) / elapsed, 1),
        "commands_accepted_per_s": round(len(work) / accepted, 1),
        "seconds": round(elapsed, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--appointments", type=int, default=100)
    parser.add_argument("--keep-logs", action="store_true", help="Keep the work folder.")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="mymedic-bench-"))
    try:
        local = bootstrap(Settings(data_dir=workdir / "local", jwt_secret=SECRET, _env_file=None))
        ours_local = run(local, args.appointments)
        local.close()

        bq = os.environ.get("MYMEDIC_BQEMULATOR") or shutil.which("bqemulator")
        repo_bq = Path(".venv-bqemulator/bin/bqemulator")
        emulators = [
            start_pubsub(workdir / "logs"),
            start_firestore(workdir / "logs"),
            start_bigquery(workdir / "logs", bq or (str(repo_bq) if repo_bq.exists() else None)),
        ]
        env: dict[str, str] = {}
        for emulator in emulators:
            env.update(emulator.env)
        os.environ.update(env)
        stack = start_stack("bench-project", "bench", env, workdir / "logs")
        stack.emulators = emulators
        try:
            gcp = bootstrap(
                Settings(
                    backend="gcp",
                    gcp_project="bench-project",
                    bigquery_dataset="bench",
                    bigquery_endpoint=env["MYMEDIC_BIGQUERY_ENDPOINT"],
                    jwt_secret=SECRET,
                    _env_file=None,
                )
            )
            ours_gcp = run(gcp, args.appointments)
            gcp.close()
        finally:
            stack.stop()
    finally:
        if args.keep_logs:
            print(f"logs kept in {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print(
        json.dumps(
            {
                "end_to_end": {
                    "ours": ours_gcp["events_per_s"],
                    "peer": ours_local["events_per_s"],
                    "unit": "events/s",
                    "ratio": round(ours_gcp["events_per_s"] / ours_local["events_per_s"], 3),
                    "what": "commands → event store → bus → calendar read model, until every "
                    "appointment shows completed; ours = gcp backend on the emulators "
                    "(Firestore, Pub/Sub push to functions-framework on loopback), "
                    "peer = the local backend (SQLite, in-process bus)",
                    "gcp_emulators": ours_gcp,
                    "local": ours_local,
                    "appointments": args.appointments,
                    "machine": {
                        "nproc": os.cpu_count(),
                        "python": sys.version.split()[0],
                        "platform": host.platform(),
                    },
                }
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
