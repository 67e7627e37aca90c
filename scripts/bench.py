"""Benchmark our write path and projection replay beside the `eventsourcing` library.

Run from the repository root: ``python scripts/bench.py [--appointments N | --quick]``.
Prints exactly one JSON object on stdout; progress goes to stderr.

Workload (identical on both sides): N appointments, each booked, rescheduled and
completed by three separate commands, each its own transaction, on SQLite in WAL mode
with synchronous=FULL. Ours goes through ``CommandService.handle`` (pydantic command
validation from plain dicts included, no after-commit dispatch) with every rule check
on: the directory (branch, clinician and room registered, with the modality), the
clinician's working hours, the price list in force (bookings carry no price) and double
booking. Its directory (4 branches with a price list of 40 procedures, and about 3N/7
clinicians and rooms) is registered first, untimed. The peer loads its aggregate from
the repository, calls the method and saves; it checks no reference data and takes the
price from a plain dict.

Replay rebuilds the calendar read model from the whole log into a fresh SQLite file on
each side, each the way its own code does it: ours with ``mymedic.app.replay.replay`` and
its default batch size (one unit of work per batch); the peer with the library's
projection idiom (``Projection.process_event`` -> a ``SQLiteTrackingRecorder`` view, one
transaction per event with its tracking record). Both must end with the same documents.
"""

from __future__ import annotations

import argparse
import gc
import importlib.metadata
import inspect
import json
import os
import platform
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import bench_peer as peer
from mymedic.adapters.local.documents import SqliteDocumentStore
from mymedic.adapters.local.event_store import SqliteEventStore
from mymedic.adapters.local.sqlite import connect, write_transaction
from mymedic.adapters.local.warehouse import DuckDbWarehouse
from mymedic.app.calendar import CALENDAR, CalendarProjection
from mymedic.app.commands import CommandService
from mymedic.app.facts import WarehouseFactsProjection
from mymedic.app.projections import ProjectionRunner
from mymedic.app.replay import replay
from mymedic.domain.commands import (
    COMMANDS,
    BookAppointment,
    Command,
    CompleteAppointment,
    RescheduleAppointment,
)
from mymedic.domain.envelope import Metadata

TENANT = "t-bench"
# Our replay runs with the batch size our product code defaults to.
REPLAY_BATCH: int = inspect.signature(replay).parameters["batch_size"].default
WARMUP_APPOINTMENTS = 50
CHUNK = 250  # commands per side between switches in the write phase
COMMAND_MODELS: dict[str, type[Command]] = {
    "book_appointment": BookAppointment,
    "reschedule_appointment": RescheduleAppointment,
    "complete_appointment": CompleteAppointment,
}
Workload = list[tuple[str, dict[str, Any]]]


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- workload --------------------------------------------------------------------------


IST = timezone(timedelta(hours=5, minutes=30))
BRANCHES = 4
MODALITIES = ("mri", "ct", "xray", "usg")
PROCEDURES = 40
# One clinician (and one room) per branch for every 28 appointments: appointment i is at
# branch i % 4 on day i % 28 of the run, so each resource has at most one appointment a
# day and the double-booking rule is checked (its day streams read and written) but
# never refuses, as when every appointment had its own clinician and room.
GROUP = 28
WORKING_HOURS = [{"weekday": day, "start": "08:00", "end": "20:00"} for day in range(7)]


def procedure(k: int) -> tuple[str, str, int]:
    """Procedure ``k``: its code, modality (the one of branch k % 4) and price."""
    return f"PROC-{k:03d}", MODALITIES[k % 4], 250_000 + 100 * k


# The peer's price list: a plain dict it reads the booking's price from.
PEER_PRICES = {code: price for code, _, price in map(procedure, range(PROCEDURES))}


def _resources(i: int, prefix: str) -> tuple[str, str, str]:
    """Appointment i's branch, clinician and room."""
    branch = f"blr-{i % BRANCHES}"
    return (
        branch,
        f"{prefix}-clin-{i % BRANCHES}-{i // GROUP}",
        f"{prefix}-room-{i % BRANCHES}-{i // GROUP}",
    )


def make_directory(n: int, prefix: str) -> Workload:
    """What N appointments need registered: the branches (Asia/Kolkata, INR) and their
    price lists (in force since yesterday), and the clinicians (also each one's ``-b``
    twin, who takes the rescheduled appointments) and rooms."""
    since = (datetime.now(IST) - timedelta(days=1)).date().isoformat()
    prices = [
        {
            "procedure_code": code,
            "modality": modality,
            "price_minor": price,
            "currency": "INR",
            "duration_minutes": 30,
        }
        for code, modality, price in map(procedure, range(PROCEDURES))
    ]
    out: Workload = []
    for b in range(BRANCHES):
        base = {"tenant_id": TENANT, "branch_id": f"blr-{b}"}
        out.append(
            (
                "register_branch",
                {
                    **base,
                    "display_name": f"Bengaluru {b}",
                    "city": "Bengaluru",
                    "timezone": "Asia/Kolkata",
                    "currency": "INR",
                },
            )
        )
        out.append(("update_price_list", {**base, "effective_from": since, "prices": prices}))
    for i in range(n):
        if i % GROUP >= BRANCHES:
            continue  # a group's first appointment at each branch names its resources
        branch, clinician, room = _resources(i, prefix)
        base = {"tenant_id": TENANT, "branch_id": branch}
        for who in (clinician, f"{clinician}-b"):
            out.append(
                (
                    "register_clinician",
                    {
                        **base,
                        "clinician_id": who,
                        "display_name": f"Radiographer {who}",
                        "modalities": list(MODALITIES),
                        "working_hours": WORKING_HOURS,
                    },
                )
            )
        out.append(
            (
                "register_room",
                {
                    **base,
                    "room_id": room,
                    "display_name": f"Room {room}",
                    "modalities": list(MODALITIES),
                },
            )
        )
    return out


def make_workload(n: int, prefix: str) -> Workload:
    """Book all N, then reschedule all N, then complete all N: 3N plain dicts, as the
    HTTP layer would hand them over. Spread over 4 branches and 28 days, 09:00-17:45
    branch time (Asia/Kolkata, the offset both sides store)."""
    # Starts ahead of the real clock: bookings must start after they are made.
    base = (datetime.now(IST) + timedelta(days=30)).replace(
        hour=9, minute=0, second=0, microsecond=0
    )
    books: Workload = []
    moves: Workload = []
    completions: Workload = []
    for i in range(n):
        branch, clinician, room = _resources(i, prefix)
        ids = {
            "tenant_id": TENANT,
            "branch_id": branch,
            "appointment_id": f"{prefix}-apt-{i:06d}",
        }
        start = base + timedelta(days=i % 28, minutes=15 * (i % 32))
        code, modality, _ = procedure(i % PROCEDURES)
        books.append(
            (
                "book_appointment",
                {
                    **ids,
                    "patient_id": f"{prefix}-pat-{i:06d}",
                    "clinician_id": clinician,
                    "room_id": room,
                    "modality": modality,
                    "procedure_code": code,
                    "start_at": start.isoformat(),
                    "duration_minutes": 30,
                    "channel": "portal",
                },
            )
        )
        moves.append(
            (
                "reschedule_appointment",
                {
                    **ids,
                    "start_at": (start + timedelta(days=1, hours=1)).isoformat(),
                    "duration_minutes": 45,
                    "clinician_id": f"{clinician}-b",
                    "reason": "patient asked for a later slot",
                },
            )
        )
        completions.append(("complete_appointment", dict(ids)))
    return books + moves + completions


# --- measuring -------------------------------------------------------------------------


@dataclass
class WriteRun:
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)

    @property
    def per_second(self) -> float:
        return len(self.latencies) / self.seconds


def percentiles_ms(latencies: Sequence[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return round(cuts[49] * 1000, 3), round(cuts[98] * 1000, 3)


def by_command(run: WriteRun) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for kind in COMMAND_MODELS:
        lat = [t for t, k in zip(run.latencies, run.kinds, strict=True) if k == kind]
        p50, p99 = percentiles_ms(lat)
        mean = round(statistics.fmean(lat) * 1000, 3)
        out[kind] = {"p50_ms": p50, "p99_ms": p99, "mean_ms": mean}
    return out


def peak_rss_mb() -> float:
    # ru_maxrss is in KiB on Linux (bytes on macOS).
    scale = 1024 * 1024 if sys.platform == "darwin" else 1024
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale, 1)


def pragmas(conn: sqlite3.Connection) -> str:
    mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
    sync = int(conn.execute("PRAGMA synchronous").fetchone()[0])
    names = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}
    return f"journal_mode={mode} synchronous={names.get(sync, sync)}"


def timed_write(
    workload: Workload,
    handle: Callable[[str, dict[str, Any]], None],
    into: WriteRun | None = None,
) -> WriteRun:
    """Run the commands one by one, timing each; add to ``into`` when given."""
    run = into if into is not None else WriteRun()
    latencies = run.latencies
    clock = time.perf_counter
    began = clock()
    for kind, d in workload:
        t0 = clock()
        handle(kind, d)
        latencies.append(clock() - t0)
    run.seconds += clock() - began
    run.kinds.extend(kind for kind, _ in workload)
    return run


# --- ours ------------------------------------------------------------------------------


def ours_handler(store: SqliteEventStore) -> Callable[[str, dict[str, Any]], None]:
    service = CommandService(store)

    def handle(kind: str, d: dict[str, Any]) -> None:
        command = COMMAND_MODELS[kind].model_validate(d)
        service.handle(command, Metadata(tenant_id=d["tenant_id"], actor="bench", source="bench"))

    return handle


def register_directory(store: SqliteEventStore, n: int, prefix: str) -> int:
    """Register what N appointments need, untimed; returns the number of commands."""
    service = CommandService(store)
    directory = make_directory(n, prefix)
    for kind, d in directory:
        command = COMMANDS[kind].model_validate(d)
        service.handle(command, Metadata(tenant_id=TENANT, actor="bench", source="bench"))
    return len(directory)


def peer_handler(app: peer.ClinicApp) -> Callable[[str, dict[str, Any]], None]:
    """The peer's write path; a booking takes its price from the peer's own dict."""

    def handle(kind: str, d: dict[str, Any]) -> None:
        if kind == "book_appointment":
            d = {**d, "price_minor": PEER_PRICES[d["procedure_code"]], "currency": "INR"}
        peer.HANDLERS[kind](app, d)

    return handle


@dataclass
class ReplayRun:
    events: int
    seconds: float
    transactions: int = 0  # write transactions into the read model, where counted

    @property
    def per_second(self) -> float:
        return self.events / self.seconds


def ours_replay(
    store: SqliteEventStore,
    folder: Path,
    tag: str,
    *,
    calendar: bool,
    facts: bool,
    batch_size: int | None = None,
) -> tuple[ReplayRun, SqliteDocumentStore | None]:
    """One replay of the whole store into fresh read models (files in ``folder``), with
    ``replay``'s own default batch size unless a diagnostic asks for another."""
    documents = SqliteDocumentStore(folder / f"read_models_{tag}.sqlite", "FULL")
    warehouse = DuckDbWarehouse(folder / f"warehouse_{tag}.duckdb")
    warehouse.ensure_schema()
    runners: list[ProjectionRunner[Any]] = []
    if calendar:
        runners.append(ProjectionRunner(CalendarProjection(), documents, store))
    if facts:
        runners.append(ProjectionRunner(WarehouseFactsProjection(), warehouse, store))
    batches = 0

    def count_batch(_: int) -> None:
        nonlocal batches
        batches += 1

    began = time.perf_counter()
    if batch_size is None:
        report = replay(store, runners, progress=count_batch)
    else:
        report = replay(store, runners, batch_size=batch_size, progress=count_batch)
    seconds = time.perf_counter() - began
    warehouse.close()
    # Each runner applies each batch in one unit of work (one transaction per target).
    return ReplayRun(report.events, seconds, batches * len(runners)), documents


def peer_replay(app: peer.ClinicApp, folder: Path, tag: str) -> tuple[ReplayRun, peer.CalendarView]:
    """A fresh view file, opened (tables created) before the clock starts, as ours is."""
    view = peer.open_view(folder / f"calendar_view_{tag}.sqlite")
    projection = peer.CalendarProjection(view)
    began = time.perf_counter()
    events = peer.run_projection(app, projection)
    # One transaction per event: process_event -> one view command -> BEGIN ... COMMIT.
    return ReplayRun(events, time.perf_counter() - began, events), view


def ours_read_decode(store: SqliteEventStore) -> ReplayRun:
    """Diagnostic: only reading the log and decoding each event to its payload."""
    position = 0
    events = 0
    began = time.perf_counter()
    while batch := store.read_all(position, REPLAY_BATCH):
        for stored in batch:
            stored.envelope.data()
        position = batch[-1].global_position
        events += len(batch)
    return ReplayRun(events, time.perf_counter() - began)


def peer_read_decode(app: peer.ClinicApp) -> ReplayRun:
    position = 0
    events = 0
    began = time.perf_counter()
    while page := app.recorder.select_notifications(
        start=position,
        limit=peer.SUBSCRIPTION_PAGE,
        topics=peer.CalendarProjection.topics,
        inclusive_of_start=False,
    ):
        for notification in page:
            app.mapper.to_domain_event(notification)
        position = page[-1].id
        events += len(page)
    return ReplayRun(events, time.perf_counter() - began)


class CommitFloor:
    """Bare one-row write transactions on this disk with our connection settings (WAL,
    synchronous=FULL, BEGIN IMMEDIATE): an upper bound for any write path that makes
    each command durable on its own."""

    def __init__(self, folder: Path) -> None:
        self._conn = connect(folder / "floor.sqlite", "FULL")
        self._conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB NOT NULL)")
        self._body = b"x" * 640  # about one stored envelope
        self.commits = 0
        self.seconds = 0.0

    def commit(self, times: int) -> None:
        conn = self._conn
        began = time.perf_counter()
        for _ in range(times):
            with write_transaction(conn):
                conn.execute("INSERT INTO t (body) VALUES (?)", (self._body,))
        self.seconds += time.perf_counter() - began
        self.commits += times

    def close(self) -> None:
        self._conn.close()


def calendar_snapshot(documents: SqliteDocumentStore) -> list[Any]:
    return documents.query(CALENDAR, TENANT)


def peer_calendar_snapshot(view: peer.CalendarView) -> list[Any]:
    return view.documents(peer.CALENDAR, TENANT)


def median_run(runs: list[ReplayRun]) -> ReplayRun:
    return sorted(runs, key=lambda r: r.seconds)[len(runs) // 2]


# --- the benchmark ---------------------------------------------------------------------


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {}
    for dist in ("eventsourcing", "pydantic", "pydantic-core", "duckdb", "orjson"):
        try:
            versions[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            versions[dist] = "absent"
    return {
        "nproc": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu": cpu,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "sqlite": sqlite3.sqlite_version,
        "tmpdir": tempfile.gettempdir(),
        "tmpdir_fs": filesystem_of(Path(tempfile.gettempdir())),
        "versions": versions,
    }


def filesystem_of(path: Path) -> str:
    best, fstype = "", "unknown"
    try:
        for line in Path("/proc/mounts").read_text().splitlines():
            parts = line.split()
            mount = parts[1]
            if str(path.resolve()).startswith(mount) and len(mount) > len(best):
                best, fstype = mount, parts[2]
    except OSError:
        pass
    return fstype


def warm_up(n: int) -> None:
    """Exercise both sides end to end on throwaway files: imports, pydantic schemas,
    sqlglot-compiled MERGE statements and the library's topic resolution are cached."""
    workload = make_workload(n, "warm")
    with tempfile.TemporaryDirectory(prefix="mymedic-bench-warm-ours-") as folder:
        store = SqliteEventStore(Path(folder) / "events.sqlite", "FULL")
        register_directory(store, n, "warm")
        timed_write(workload, ours_handler(store))
        ours_replay(store, Path(folder), "warm", calendar=True, facts=True)
        store.close()
    with tempfile.TemporaryDirectory(prefix="mymedic-bench-warm-peer-") as folder:
        app = peer.open_app(Path(folder) / "peer.sqlite")
        timed_write(workload, peer_handler(app))
        peer_replay(app, Path(folder), "warm")[1].close()
        app.close()


@dataclass
class WritePhase:
    ours: WriteRun
    peer: WriteRun
    floor_per_s: float
    floor_ms: float
    rss_mb: float


@dataclass
class ReplayPhase:
    calendar: list[ReplayRun]
    all_projections: list[ReplayRun]
    facts: list[ReplayRun]
    peer_runs: list[ReplayRun]
    ours_decode: list[ReplayRun]
    peer_decode: list[ReplayRun]
    batch_1: list[ReplayRun]
    ours_docs: SqliteDocumentStore
    peer_view: peer.CalendarView


def write_phase(
    store: SqliteEventStore, app: peer.ClinicApp, workload: Workload, floor_dir: Path
) -> WritePhase:
    """The same 3N input dicts on both sides, alternating in chunks (ours first in even
    chunks, the peer first in odd ones) so that both see the same disk and machine
    conditions; a chunk of bare commits follows each pair, for the commit floor."""
    ours_handle = ours_handler(store)
    peer_handle = peer_handler(app)

    ours = WriteRun()
    theirs = WriteRun()
    floor = CommitFloor(floor_dir)
    log(f"write path: {len(workload)} commands per side, alternating chunks of {CHUNK}")
    gc.collect()
    for number, first in enumerate(range(0, len(workload), CHUNK)):
        part = workload[first : first + CHUNK]
        if number % 2 == 0:
            timed_write(part, ours_handle, ours)
            timed_write(part, peer_handle, theirs)
        else:
            timed_write(part, peer_handle, theirs)
            timed_write(part, ours_handle, ours)
        floor.commit(len(part))
    floor.close()
    floor_per_s = floor.commits / floor.seconds
    log(
        f"  ours {ours.per_second:,.0f} commands/s, peer {theirs.per_second:,.0f} commands/s,"
        f" bare commits {floor_per_s:,.0f}/s"
    )
    floor_ms = floor.seconds / floor.commits * 1000
    return WritePhase(ours, theirs, floor_per_s, floor_ms, peak_rss_mb())


def replay_phase(
    store: SqliteEventStore,
    app: peer.ClinicApp,
    ours_dir: Path,
    peer_dir: Path,
    repeats: int,
) -> ReplayPhase:
    """Each repeat replays into fresh read-model files; callers report the median."""
    runs: dict[str, list[ReplayRun]] = {
        k: [] for k in ("cal", "all", "facts", "peer", "ours_decode", "peer_decode", "batch_1")
    }
    docs: SqliteDocumentStore | None = None
    view: peer.CalendarView | None = None
    for rep in range(repeats):
        log(f"replay round {rep + 1}/{repeats}")
        if docs is not None:
            docs.close()
        if view is not None:
            view.close()
        gc.collect()
        cal, docs = ours_replay(store, ours_dir, f"cal{rep}", calendar=True, facts=False)
        runs["cal"].append(cal)
        gc.collect()
        both, both_docs = ours_replay(store, ours_dir, f"all{rep}", calendar=True, facts=True)
        runs["all"].append(both)
        gc.collect()
        facts, facts_docs = ours_replay(store, ours_dir, f"facts{rep}", calendar=False, facts=True)
        runs["facts"].append(facts)
        for extra in (both_docs, facts_docs):
            if extra is not None:
                extra.close()
        gc.collect()
        theirs, view = peer_replay(app, peer_dir, f"peer{rep}")
        runs["peer"].append(theirs)
        gc.collect()
        runs["ours_decode"].append(ours_read_decode(store))
        runs["peer_decode"].append(peer_read_decode(app))
        gc.collect()
        # Diagnostic only: our calendar at one transaction per event, like the peer.
        batch_1, batch_1_docs = ours_replay(
            store, ours_dir, f"batch1_{rep}", calendar=True, facts=False, batch_size=1
        )
        runs["batch_1"].append(batch_1)
        if batch_1_docs is not None:
            batch_1_docs.close()
        log(
            f"  ours calendar {cal.per_second:,.0f}/s ({cal.transactions} transactions),"
            f" ours all {both.per_second:,.0f}/s, ours facts {facts.per_second:,.0f}/s,"
            f" peer {theirs.per_second:,.0f}/s ({theirs.transactions} transactions);"
            f" diagnostic ours calendar batch 1 {batch_1.per_second:,.0f}/s"
        )
    if docs is None or view is None:
        raise RuntimeError("no replay ran")
    return ReplayPhase(
        runs["cal"],
        runs["all"],
        runs["facts"],
        runs["peer"],
        runs["ours_decode"],
        runs["peer_decode"],
        runs["batch_1"],
        docs,
        view,
    )


def durability(
    store: SqliteEventStore, app: peer.ClinicApp, replayed: ReplayPhase, folder: Path
) -> str:
    """The SQLite settings as the live connections report them, on both sides."""
    settings = {}
    for side, datastore in (
        ("app", peer.app_datastore(app)),
        ("view", replayed.peer_view.datastore),
    ):
        for role, writer in (("writer", True), ("reader", False)):
            with peer.raw_connection(datastore, writer=writer) as conn:
                settings[side, role] = pragmas(conn)
    return (
        f"ours: event store {pragmas(store._conn)}, read models"
        f" {pragmas(replayed.ours_docs._conn)} (BEGIN IMMEDIATE ... COMMIT per command,"
        " per replay batch); peer (eventsourcing.sqlite): application writer"
        f" {settings['app', 'writer']}, reader {settings['app', 'reader']} (BEGIN ... COMMIT"
        " per save); peer calendar view (SQLiteTrackingRecorder subclass, own file): writer"
        f" {settings['view', 'writer']}, reader {settings['view', 'reader']} (BEGIN ... COMMIT"
        f" per event, library defaults); files on {machine_fs(folder)}"
    )


def write_report(w: WritePhase, n: int, commands: int, durable: str) -> dict[str, Any]:
    o50, o99 = percentiles_ms(w.ours.latencies)
    p50, p99 = percentiles_ms(w.peer.latencies)
    return {
        "ours": round(w.ours.per_second, 1),
        "peer": round(w.peer.per_second, 1),
        "unit": "commands/s",
        "ratio": round(w.ours.per_second / w.peer.per_second, 3),
        "ours_p50_ms": o50,
        "ours_p99_ms": o99,
        "peer_p50_ms": p50,
        "peer_p99_ms": p99,
        "ours_by_command": by_command(w.ours),
        "peer_by_command": by_command(w.peer),
        "commands": commands,
        "ours_seconds": round(w.ours.seconds, 3),
        "peer_seconds": round(w.peer.seconds, 3),
        "commit_floor": {
            "what": (
                "bare one-row BEGIN IMMEDIATE/INSERT/COMMIT transactions, WAL +"
                " synchronous=FULL, same disk, as many as commands, interleaved with"
                " the write chunks: an upper bound on commands/s for any write path"
                " that commits each command durably"
            ),
            "commits_per_s": round(w.floor_per_s, 1),
            "ms_per_commit": round(w.floor_ms, 3),
            "max_reachable_ratio": round(w.floor_per_s / w.peer.per_second, 3),
        },
        "n_appointments": n,
        "durability": durable,
        "rss_mb": w.rss_mb,
    }


def replay_report(r: ReplayPhase, n: int, same: bool, durable: str) -> dict[str, Any]:
    cal = median_run(r.calendar)
    both = median_run(r.all_projections)
    facts = median_run(r.facts)
    theirs = median_run(r.peer_runs)
    ours_decode = median_run(r.ours_decode)
    peer_decode = median_run(r.peer_decode)
    batch_1 = median_run(r.batch_1)
    return {
        "headline": (
            "ours = our calendar projection alone: mymedic.app.replay.replay(store,"
            " [ProjectionRunner(CalendarProjection(), SqliteDocumentStore, store)]) with its"
            f" default batch size ({REPLAY_BATCH}); peer = the eventsourcing library's"
            " projection idiom: a Projection subclass (@singledispatchmethod process_event)"
            " driving a SQLiteTrackingRecorder subclass that writes the same calendar"
            " documents and the tracking record in one transaction per event, fed as the"
            " library's ProjectionRunner feeds it (notifications from max_tracking_id in"
            f" pages of {peer.SUBSCRIPTION_PAGE}, filtered by topic, mapper.to_domain_event,"
            " Tracking(app.name, id)); each side into a fresh SQLite file, WAL +"
            " synchronous=FULL"
        ),
        "granularity": {
            "ours": (
                f"one write transaction per replay batch of up to {REPLAY_BATCH} events"
                " (the product default): each document read at most once and each changed"
                " document, per-stream checkpoint and the global position written once per"
                " batch"
            ),
            "peer": (
                "one write transaction per event (the library's idiom: process_event ->"
                " one view command = BEGIN ... COMMIT): reads the 1-3 documents it needs,"
                " writes the changed ones and upserts the tracking row; no state kept"
                " between events"
            ),
            "ours_transactions": cal.transactions,
            "peer_transactions": theirs.transactions,
            "ours_ms_per_event": round(cal.seconds / cal.events * 1000, 4),
            "peer_ms_per_event": round(theirs.seconds / theirs.events * 1000, 4),
        },
        "ours": round(cal.per_second, 1),
        "peer": round(theirs.per_second, 1),
        "unit": "events/s",
        "ratio": round(cal.per_second / theirs.per_second, 3),
        "ours_calendar_only": round(cal.per_second, 1),
        "ours_all_projections": round(both.per_second, 1),
        "ours_all_projections_ratio": round(both.per_second / theirs.per_second, 3),
        "ours_warehouse_facts_only": round(facts.per_second, 1),
        "ours_calendar_batch_1": {
            "what": (
                "diagnostic, not the headline and not how our product runs: our calendar"
                " replay with batch_size=1, i.e. one transaction per event like the peer;"
                " isolates transaction granularity from the rest of the code path;"
                " median of the same repeats"
            ),
            "ours": round(batch_1.per_second, 1),
            "ratio_to_peer": round(batch_1.per_second / theirs.per_second, 3),
            "transactions": batch_1.transactions,
            "ms_per_event": round(batch_1.seconds / batch_1.events * 1000, 4),
        },
        "read_decode_only": {
            "what": (
                f"diagnostic, no projection: ours read_all pages of {REPLAY_BATCH} +"
                f" envelope.data(); peer select_notifications pages of {peer.SUBSCRIPTION_PAGE}"
                " filtered by the projection's topics + mapper.to_domain_event"
            ),
            "ours": round(ours_decode.per_second, 1),
            "peer": round(peer_decode.per_second, 1),
            "ratio": round(ours_decode.per_second / peer_decode.per_second, 3),
        },
        "events": cal.events,
        "peer_events": theirs.events,
        "ours_seconds": round(cal.seconds, 3),
        "ours_all_projections_seconds": round(both.seconds, 3),
        "peer_seconds": round(theirs.seconds, 3),
        "repeats": len(r.calendar),
        "statistic": "median of repeats, each into fresh read-model files",
        "read_models_identical": same,
        "n_appointments": n,
        "durability": durable,
        "rss_mb": peak_rss_mb(),
    }


def run(n: int, replay_repeats: int) -> dict[str, Any]:
    started = time.perf_counter()
    log(f"warm-up: {WARMUP_APPOINTMENTS} appointments per side (not counted)")
    warm_up(WARMUP_APPOINTMENTS)
    workload = make_workload(n, "bench")
    ours_dir = Path(tempfile.mkdtemp(prefix="mymedic-bench-ours-"))
    peer_dir = Path(tempfile.mkdtemp(prefix="mymedic-bench-peer-"))
    floor_dir = Path(tempfile.mkdtemp(prefix="mymedic-bench-floor-"))
    try:
        store = SqliteEventStore(ours_dir / "events.sqlite", "FULL")
        app = peer.open_app(peer_dir / "peer.sqlite")
        directory = register_directory(store, n, "bench")
        log(f"directory: {directory} commands registered (untimed)")
        written = write_phase(store, app, workload, floor_dir)
        stored = {
            "ours": int(store._conn.execute("SELECT count(*) FROM events").fetchone()[0]),
            "peer": app.recorder.max_notification_id() or 0,
        }
        replayed = replay_phase(store, app, ours_dir, peer_dir, replay_repeats)
        ours_calendar = calendar_snapshot(replayed.ours_docs)
        same = ours_calendar == peer_calendar_snapshot(replayed.peer_view)
        compared = {"calendar": len(ours_calendar)}
        if not same:
            log("WARNING: the peer's calendar documents differ from ours")
        durable = durability(store, app, replayed, ours_dir)
        replayed.ours_docs.close()
        replayed.peer_view.close()
        store.close()
        app.close()
    finally:
        shutil.rmtree(ours_dir, ignore_errors=True)
        shutil.rmtree(peer_dir, ignore_errors=True)
        shutil.rmtree(floor_dir, ignore_errors=True)
    return {
        "write_path": {
            **write_report(written, n, len(workload), durable),
            "rule_checks": (
                "ours: on (branch, clinician and room registered with the modality, working"
                " hours, price list in force, double booking); peer: none"
            ),
            "directory_commands": directory,
        },
        "replay": {
            **replay_report(replayed, n, same, durable),
            "documents_compared": compared,
            "events_stored": stored,
        },
        "zoho_bulk_read": zoho_bulk_read(n),
        "reports": reports(n),
        "machine": machine(),
        "elapsed_s": round(time.perf_counter() - started, 1),
    }


def zoho_bulk_read(n: int) -> dict[str, Any]:
    """The Bulk Read benchmark (scripts/bench_zoho.py): 200,000 rows at full size, with
    smaller files beside it to show whether peak RSS stays flat as the file grows. Run
    as its own process: its children would otherwise re-import this script (and the peer
    library) as their main module, which inflates the RSS they report."""
    sizes = [50_000, 100_000, 200_000] if n >= 2000 else [2_000, 5_000, 10_000]
    log(f"zoho bulk read: {', '.join(map(str, sizes))} rows")
    script = Path(__file__).with_name("bench_zoho.py")
    done = subprocess.run(
        [sys.executable, str(script), "--sizes", ",".join(map(str, sizes))],
        check=True,
        capture_output=True,
        text=True,
    )
    report: dict[str, Any] = json.loads(done.stdout)["zoho_bulk_read"]
    return report


def reports(n: int) -> dict[str, Any]:
    """The reports benchmark (scripts/bench_reports.py): every catalog report on DuckDB
    over a synthetic 5-year, 20-branch chain of 10 million appointments (200,000 with
    --quick), generated once and cached under var/bench/. Its own process, as
    zoho_bulk_read: the data set's DuckDB memory is freed when it ends."""
    args = [] if n >= 2000 else ["--quick"]
    log(f"reports: {' '.join(args) or 'full scale'} (data set cached under var/bench/)")
    script = Path(__file__).with_name("bench_reports.py")
    done = subprocess.run(
        [sys.executable, str(script), *args],
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    report: dict[str, Any] = json.loads(done.stdout)["reports"]
    return report


def machine_fs(path: Path) -> str:
    return f"{filesystem_of(path)} ({path.parent})"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--appointments", type=int, default=2000, help="N (default 2000)")
    parser.add_argument("--quick", action="store_true", help="N=200")
    parser.add_argument(
        "--replay-repeats", type=int, default=3, help="replays per side; median reported"
    )
    args = parser.parse_args(argv)
    n = 200 if args.quick else args.appointments
    if n < 2 or args.replay_repeats < 1:
        parser.error("need at least 2 appointments and 1 replay")
    result = run(n, args.replay_repeats)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
