"""Benchmark: a Zoho Bulk Read file of appointments into events and warehouse facts.

For each size (default 50,000, 100,000 and 200,000 rows) a synthetic Bulk Read ZIP is
written in Zoho's format (one CSV member, a header of field API names plus ``Id``).
A fresh child process then runs the production path on it: stream-parse the CSV out of
the ZIP, map and translate each row, append the canonical events and the per-record
bookkeeping (one transaction per batch of 200, SQLite WAL + synchronous=FULL), then
bring the warehouse facts (DuckDB) up to date. Beside it, in its own child process,
DuckDB's ``read_csv`` loads the same CSV (already unzipped: the peer is spared the
ZIP) into a table. Peak RSS is each child's own high-water mark (ru_maxrss), so sizes
can be compared: flat RSS means the file is never held in memory.

Run: ``python scripts/bench_zoho.py`` (JSON on stdout); ``make bench`` includes it as
``zoho_bulk_read``.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import multiprocessing
import random
import resource
import sys
import tempfile
import time
import zipfile
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

MODULE = "Appointments"
BRANCHES = (("Pune Central", "pune-central"), ("Mumbai West", "mumbai-west"))
MODALITIES = (
    ("MRI", "MRI", "MRI-BRAIN", 45, "8500.00"),
    ("CT Scan", "CT", "CT-CHEST", 30, "4500.00"),
)
STATUSES = (
    "Scheduled",
    "Completed",
    "Completed",
    "Completed",
    "Cancelled",
    "No Show",
    "Checked In",
)
JOB_ID = "4150868000000000001"
IST = timezone(timedelta(hours=5, minutes=30))


def write_bulk_zip(path: Path, rows: int, seed: int = 11) -> list[str]:
    """A Bulk Read result ZIP of ``rows`` synthetic appointments; returns the header."""
    from mymedic.integrations.zoho.mapping import EXAMPLE_MAPPING, load_mapping, mapping_fields

    header = ["Id", *mapping_fields(load_mapping(EXAMPLE_MAPPING), MODULE)]
    rng = random.Random(seed)
    start = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
    with (
        zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as bundle,
        bundle.open(f"{JOB_ID}.csv", "w") as raw,
        io.TextIOWrapper(raw, encoding="utf-8", newline="") as text,
    ):
        writer = csv.DictWriter(text, fieldnames=header)
        writer.writeheader()
        for n in range(rows):
            branch_name, branch = BRANCHES[n % len(BRANCHES)]
            label, modality, procedure, minutes, amount = MODALITIES[rng.randrange(2)]
            begins = start + timedelta(minutes=15 * n)
            writer.writerow(
                {
                    "Id": str(4150868000001000000 + n),
                    "Branch": branch_name,
                    "Patient_Name": str(4150868000002000000 + rng.randrange(rows // 3 + 1)),
                    "Clinician": f"{branch}-{modality.lower()}-1-clinician",
                    "Room": f"{branch}-{modality.lower()}-1",
                    "Modality": label,
                    "Procedure_Code": procedure,
                    "Appointment_Start": begins.astimezone(IST).isoformat(),
                    "Duration": str(minutes),
                    "Status": STATUSES[rng.randrange(len(STATUSES))],
                    "Amount": amount,
                    "Currency": "INR",
                    "Referral": "",
                    "GCLID": "",
                    "Cancellation_Reason": "",
                    "Modified_Time": (begins + timedelta(hours=2)).isoformat(),
                    "Created_Time": (begins - timedelta(days=3)).isoformat(),
                }
            )
    return header


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def ours(archive: str, data_dir: str, queue: Any) -> None:
    from mymedic.bootstrap import bootstrap
    from mymedic.integrations.zoho.backfill import bulk_csv_rows, row_item
    from mymedic.integrations.zoho.ingest import ZohoIngestor
    from mymedic.integrations.zoho.mapping import EXAMPLE_MAPPING, load_mapping
    from mymedic.settings import Settings

    settings = Settings(data_dir=Path(data_dir), jwt_secret="b" * 40, _env_file=None)
    platform = bootstrap(settings)
    ingestor = ZohoIngestor(platform.store, load_mapping(EXAMPLE_MAPPING))
    began = time.perf_counter()
    with bulk_csv_rows(Path(archive), JOB_ID) as rows:
        items = (
            row_item(MODULE, row, page=1, row_number=index)
            for index, row in enumerate(rows, start=1)
        )
        stats = ingestor.ingest(items, "backfill")
    ingested = time.perf_counter()
    rss_after_ingest = _peak_rss_mb()
    platform.catch_up()
    done = time.perf_counter()
    rss_at_end = _peak_rss_mb()  # before the check below loads every fact row
    facts = platform.warehouse.query("fct_appointment")
    queue.put(
        {
            "rows": stats.seen,
            "applied": stats.applied,
            "quarantined": stats.quarantined,
            "events": platform.store.head_position(),
            "fct_appointment_rows": len(facts),
            "ingest_seconds": round(ingested - began, 3),
            "facts_seconds": round(done - ingested, 3),
            "seconds": round(done - began, 3),
            "peak_rss_mb_ingest": round(rss_after_ingest, 1),
            "peak_rss_mb": round(rss_at_end, 1),
        }
    )
    platform.close()


def peer(csv_path: str, queue: Any) -> None:
    import duckdb

    connection = duckdb.connect()
    began = time.perf_counter()
    connection.execute("CREATE TABLE rows AS SELECT * FROM read_csv(?, header = true)", [csv_path])
    seconds = time.perf_counter() - began
    row = connection.execute("SELECT count(*) FROM rows").fetchone()
    queue.put(
        {
            "rows": row[0] if row else 0,
            "seconds": round(seconds, 3),
            "peak_rss_mb": round(_peak_rss_mb(), 1),
        }
    )
    connection.close()


def _in_child(target: Any, *args: Any) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    child = context.Process(target=target, args=(*args, queue))
    child.start()
    result: dict[str, Any] = queue.get(timeout=3600)
    child.join(timeout=60)
    return result


def measure(rows: int, folder: Path) -> dict[str, Any]:
    archive = folder / f"bulk-{rows}.zip"
    write_bulk_zip(archive, rows)
    extracted = folder / f"bulk-{rows}.csv"
    with zipfile.ZipFile(archive) as bundle, bundle.open(f"{JOB_ID}.csv") as source:
        extracted.write_bytes(source.read())
    ours_run = _in_child(ours, str(archive), str(folder / f"data-{rows}"))
    peer_run = _in_child(peer, str(extracted))
    ours_rate = ours_run["rows"] / ours_run["seconds"]
    peer_rate = peer_run["rows"] / peer_run["seconds"]
    return {
        "rows": rows,
        "zip_mb": round(archive.stat().st_size / 2**20, 1),
        "csv_mb": round(extracted.stat().st_size / 2**20, 1),
        "ours": {**ours_run, "rows_per_s": round(ours_rate, 1)},
        "peer_duckdb_read_csv": {**peer_run, "rows_per_s": round(peer_rate, 1)},
        "ratio": round(ours_rate / peer_rate, 4),
    }


def run(sizes: list[int]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="mymedic-zoho-bench-") as tmp:
        runs = [measure(rows, Path(tmp)) for rows in sizes]
    largest = runs[-1]
    return {
        "what": "Zoho Bulk Read ZIP (appointments) -> stream-parsed CSV -> mapped, translated, "
        "idempotent events (SQLite, WAL + synchronous=FULL, batches of 200) -> warehouse facts "
        "(DuckDB); peer: DuckDB read_csv of the same CSV, unzipped, into a table",
        "unit": "rows/s",
        "rows": largest["rows"],
        "ours": largest["ours"]["rows_per_s"],
        "peer": largest["peer_duckdb_read_csv"]["rows_per_s"],
        "ratio": largest["ratio"],
        "goal_ratio": 0.5,
        "peak_rss_mb_by_rows": {str(r["rows"]): r["ours"]["peak_rss_mb"] for r in runs},
        "peak_rss_mb_ingest_by_rows": {
            str(r["rows"]): r["ours"]["peak_rss_mb_ingest"] for r in runs
        },
        "runs": runs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="50000,100000,200000")
    args = parser.parse_args()
    sizes = sorted(int(size) for size in args.sizes.split(","))
    json.dump({"zoho_bulk_read": run(sizes)}, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
