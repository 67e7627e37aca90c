"""End-to-end throughput on the GCP emulators beside the local backend.

The same commands (N appointments, each booked, rescheduled and completed, with every
rule check on: the directory, registered first and untimed, working hours, the price
list and double booking) go through the command HTTP function; the clock stops when the
clinic calendar read model shows every appointment completed: on the local backend the
in-process bus delivers after each commit; on the emulators each event goes Firestore →
Pub/Sub push → projection function (functions-framework on loopback) → Firestore.
Prints one JSON object.

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
from datetime import datetime, timedelta, timezone
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


IST = timezone(timedelta(hours=5, minutes=30))
SLOTS_PER_DAY = 32  # 15-minute slots from 09:00 to 17:00, branch time


def directory() -> list[tuple[str, dict[str, Any]]]:
    """The branch, its X-ray radiographer (every day 08:00-18:00), five X-ray rooms and
    a price list in force since yesterday: registered before the clock starts."""
    base = {"tenant_id": TENANT, "branch_id": BRANCH}
    hours = [{"weekday": day, "start": "08:00", "end": "18:00"} for day in range(7)]
    out: list[tuple[str, dict[str, Any]]] = [
        (
            "register_branch",
            {
                **base,
                "display_name": "Bench Branch",
                "city": "Pune",
                "timezone": "Asia/Kolkata",
                "currency": "INR",
            },
        ),
        (
            "register_clinician",
            {
                **base,
                "clinician_id": "c1",
                "display_name": "Radiographer 1",
                "modalities": ["XRAY"],
                "working_hours": hours,
            },
        ),
    ]
    for room in range(5):
        out.append(
            (
                "register_room",
                {
                    **base,
                    "room_id": f"r{room}",
                    "display_name": f"Room {room}",
                    "modalities": ["XRAY"],
                },
            )
        )
    since = (datetime.now(IST) - timedelta(days=1)).date().isoformat()
    price = {
        "procedure_code": "XR-CHEST",
        "modality": "XRAY",
        "price_minor": 60000,
        "currency": "INR",
        "duration_minutes": 15,
    }
    out.append(("update_price_list", {**base, "effective_from": since, "prices": [price]}))
    return out


def commands(appointments: int) -> list[tuple[str, dict[str, Any]]]:
    """Book N back to back (one clinician, 32 a day), move each to the same time on a
    day after the last booking, complete each."""
    # Ahead of the real clock: bookings must start after they are made.
    start = (datetime.now(IST) + timedelta(days=30)).replace(
        hour=9, minute=0, second=0, microsecond=0
    )
    days = -(-appointments // SLOTS_PER_DAY)

    def slot(i: int) -> datetime:
        return start + timedelta(days=i // SLOTS_PER_DAY, minutes=15 * (i % SLOTS_PER_DAY))

    base = {"tenant_id": TENANT, "branch_id": BRANCH}
    out: list[tuple[str, dict[str, Any]]] = []
    for i in range(appointments):
        ref = {**base, "appointment_id": f"apt-{i}"}
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
                    "start_at": slot(i).isoformat(),
                    "duration_minutes": 15,
                    "channel": "portal",
                },
            )
        )
    for i in range(appointments):
        at = slot(i) + timedelta(days=days)
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
    for name, body in directory():  # untimed
        response = client.post(f"/{name}", json=body)
        if response.status_code != 201:
            raise RuntimeError(f"{name}: {response.status_code} {response.get_json()}")
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
