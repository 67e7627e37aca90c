"""The history of one Zoho module through Bulk Read, resumable after any crash.

Where it stands is folded from ``zoho_backfill:{module}``: the job, its page and the
rows of that page's file committed so far. A run creates the page's job (recording it
at once, so that a crash while Zoho prepares the file reuses it), waits for it,
downloads the ZIP to a temporary file and reads the CSV inside as a stream (never the
whole file in memory). Rows go to the ingestion in batches; each batch's transaction
also appends the progress event that counts its rows, so the resume point and the
events it counts are committed together: a run killed mid-file resumes at the first
row not committed, and nothing is doubled (and were it replayed, the record versions
would be recognised anyway). Then the next page (a new job) while Zoho says there are
more records.

A file that can no longer be downloaded (Bulk Read results expire after about a day)
or a job that failed is replaced by a new job for the same page, read from its first
row: Zoho does not promise the same row order in a new file, so the rows committed
from the old one cannot be skipped by count. They are recognised as duplicates
instead, cheaply.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from mymedic.app.commands import utc_now
from mymedic.domain import events as e
from mymedic.domain.envelope import Metadata, build_envelope
from mymedic.integrations.zoho.client import (
    USERS,
    BulkReadFailed,
    BulkReadJob,
    ZohoAuthError,
    ZohoClient,
    ZohoError,
    ZohoUnavailable,
)
from mymedic.integrations.zoho.ingest import ACTOR, IngestStats, Item, Unreadable, ZohoIngestor
from mymedic.integrations.zoho.mapping import mapping_fields
from mymedic.integrations.zoho.records import Quarantined, Source, ZohoRecord
from mymedic.integrations.zoho.streams import (
    BackfillState,
    backfill_state,
    backfill_stream,
    zoho_event_id,
)
from mymedic.ports import StreamAppend

log = logging.getLogger(__name__)

# (rows done, rows in total if known) for a progress bar.
Progress = Callable[[int, int | None], None]
CSV_FIELD_LIMIT = 1 << 24  # a long text field is not an error
LISTED_JOB = "rest-listing"  # the "job" of a module read through REST
_RECORD_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass
class BackfillResult:
    module: str
    job_id: str | None = None
    pages: int = 0  # pages read in this run
    rows: int = 0  # rows read in this run (skipped rows of a resumed file excluded)
    finished: bool = False
    already_finished: bool = False
    stats: IngestStats = field(default_factory=IngestStats)

    def to_dict(self) -> dict[str, Any]:
        return {
            "module": self.module,
            "job_id": self.job_id,
            "pages": self.pages,
            "rows": self.rows,
            "finished": self.finished,
            "already_finished": self.already_finished,
            **self.stats.to_dict(),
        }


class ZohoBackfill:
    def __init__(
        self,
        client: ZohoClient,
        ingestor: ZohoIngestor,
        *,
        poll_seconds: float = 5.0,
        timeout_seconds: float = 3600.0,
        workdir: Path | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._client = client
        self._ingestor = ingestor
        self._store = ingestor.store
        self._tenant = ingestor.tenant_id
        self._poll_seconds = poll_seconds
        self._timeout_seconds = timeout_seconds
        self._workdir = workdir
        self._clock = clock
        self._created: set[str] = set()  # jobs this instance created
        self._source: Source = "backfill"

    def _start(self, module: str, fields: list[str], page: int) -> str:
        job_id = self._client.start_bulk_read(module, fields, page=page)
        self._created.add(job_id)
        return job_id

    def state(self, module: str) -> BackfillState:
        return backfill_state(self._store.read_stream(self._tenant, backfill_stream(module)))

    def run(
        self,
        module: str,
        *,
        progress: Progress | None = None,
        restart: bool = False,
        max_pages: int | None = None,
        source: Source = "backfill",
    ) -> BackfillResult:
        """Backfill ``module`` from where it stands. ``restart``: once finished, read it
        all again (every version already synced is recognised, unless its content
        changed: a formula field); ``max_pages``: stop after that many pages (the next
        run goes on); ``source``: what the synced versions say brought them."""
        fields = mapping_fields(self._ingestor.mapping, module)
        result = BackfillResult(module)
        state = self.state(module)
        if state.finished:
            if not restart:
                result.already_finished = result.finished = True
                return result
            state = BackfillState(version=state.version)
        self._source = source
        if module == USERS:
            return self._listed(module, fields, state, result, progress)
        done_before = 0  # rows of the pages finished in this run, for the progress bar
        while max_pages is None or result.pages < max_pages:
            if state.job_id is None:
                job_id = self._start(module, fields, state.page)
                state = self._record(module, state, job_id=job_id, rows_committed=0)
            result.job_id = state.job_id
            page_rows, state = self._page(
                module, fields, state, result, progress=progress, done_before=done_before
            )
            done_before += page_rows
            result.pages += 1
            if state.more_records:
                state = self._record(
                    module,
                    state,
                    job_id=None,
                    page=state.page + 1,
                    rows_committed=0,
                    more_records=None,
                    total_rows=None,
                )
                continue
            state = self._record(module, state, finished=True)
            result.finished = True
            break
        return result

    def _listed(
        self,
        module: str,
        fields: list[str],
        state: BackfillState,
        result: BackfillResult,
        progress: Progress | None,
    ) -> BackfillResult:
        """A module Bulk Read does not serve (the Users API), read whole through REST:
        a few hundred records at most; a rerun after a crash reads them again (each
        version is recognised)."""
        rows = 0

        def counted(records: Iterator[ZohoRecord]) -> Iterator[Item]:
            nonlocal rows
            for record in records:
                rows += 1
                if progress is not None:
                    progress(rows, None)
                yield record

        result.stats.add(
            self._ingestor.ingest(counted(self._client.records(module, fields)), self._source)
        )
        result.rows, result.pages, result.job_id = rows, 1, LISTED_JOB
        self._record(module, state, job_id=LISTED_JOB, rows_committed=rows, finished=True)
        result.finished = True
        return result

    # --- one page ----------------------------------------------------------------------

    def _page(
        self,
        module: str,
        fields: list[str],
        state: BackfillState,
        result: BackfillResult,
        *,
        progress: Progress | None,
        done_before: int,
    ) -> tuple[int, BackfillState]:
        """Read the page's file from the first row not committed; returns the rows of
        the file and the state after its last batch."""
        with tempfile.TemporaryDirectory(prefix="zoho-bulk-", dir=self._workdir) as temp:
            job, archive, state = self._completed_download(module, fields, state, Path(temp))
            total = job.count
            if progress is not None:
                progress(done_before + state.rows_committed, _plus(done_before, total))
            hook = _PageProgress(
                self, module, state, job, done_before=done_before, progress=progress
            )
            with bulk_csv_rows(archive, job.job_id) as rows:
                items = _items(module, rows, job, skip=state.rows_committed)
                stats = self._ingestor.ingest(items, self._source, hook=hook)
            result.stats.add(stats)
            result.rows += hook.rows - state.rows_committed
            return hook.rows, hook.state

    def _completed_download(
        self, module: str, fields: list[str], state: BackfillState, temp: Path
    ) -> tuple[BulkReadJob, Path, BackfillState]:
        """The page's job, completed, and its file. A job that failed, or a job of an
        earlier run that Zoho refuses now (its file expired: Zoho answers 404 or
        INVALID_REQUEST, whichever), is replaced once by a new job for the same page."""
        assert state.job_id is not None  # noqa: S101 - run() created it
        for replaced in (False, True):
            job_id = state.job_id
            assert job_id is not None  # noqa: S101
            try:
                job = self._client.wait_for_bulk_read(
                    job_id, poll_seconds=self._poll_seconds, timeout_seconds=self._timeout_seconds
                )
                archive = self._client.download_bulk_read(job_id, temp / f"{job_id}.zip")
            except (ZohoUnavailable, ZohoAuthError):
                raise
            except ZohoError as exc:
                if replaced or not (job_id not in self._created or isinstance(exc, BulkReadFailed)):
                    raise
                log.warning("Bulk Read job %s of %s is gone (%s): a new job", job_id, module, exc)
                new_job = self._start(module, fields, state.page)
                state = self._record(module, state, job_id=new_job, rows_committed=0)
                continue
            if job.more_records != state.more_records or job.count != state.total_rows:
                state = self._record(
                    module, state, more_records=job.more_records, total_rows=job.count
                )
            return job, archive, state
        raise AssertionError("unreachable")  # pragma: no cover

    # --- the progress stream -------------------------------------------------------------

    def progress_append(self, module: str, state: BackfillState) -> StreamAppend:
        """``state`` as the next event of ``zoho_backfill:{module}``, to be appended at
        ``state.version`` (the version it was folded at)."""
        assert state.job_id is not None  # noqa: S101 - a progress event names its job
        payload = e.ZohoBackfillProgressed(
            module=module,
            job_id=state.job_id,
            page=state.page,
            rows_committed=state.rows_committed,
            more_records=state.more_records,
            finished=state.finished,
            total_rows=state.total_rows,
        )
        now = self._clock()
        # One id per version of the stream: a retried append of it is recognised.
        mark = f"v{state.version + 1}"
        envelope = build_envelope(
            payload,
            metadata=Metadata(tenant_id=self._tenant, actor=ACTOR, source="zoho:backfill"),
            branch_id="*",
            stream_version=state.version + 1,
            occurred_at=now,
            recorded_at=now,
            event_id=zoho_event_id(self._tenant, module, "$backfill", state.job_id, mark),
        )
        return StreamAppend(backfill_stream(module), state.version, [envelope])

    def _record(self, module: str, state: BackfillState, **changes: Any) -> BackfillState:
        """Append the state with ``changes`` as a progress event (alone)."""
        if changes.get("job_id", state.job_id) is None:
            # Moving to the next page: recorded with the next job, when it is created.
            return replace(state, **changes)
        after = replace(state, **changes)
        self._store.append_streams(self._tenant, [self.progress_append(module, after)])
        return replace(after, version=state.version + 1)


class _PageProgress:
    """The batch hook: each batch commits the rows of the page it brings the count to."""

    def __init__(
        self,
        backfill: ZohoBackfill,
        module: str,
        state: BackfillState,
        job: BulkReadJob,
        *,
        done_before: int,
        progress: Progress | None,
    ) -> None:
        self._backfill = backfill
        self._module = module
        self.state = state
        self._skip = state.rows_committed
        self._total = job.count
        self._done_before = done_before
        self._progress = progress

    @property
    def rows(self) -> int:
        return self.state.rows_committed

    def append_for(self, consumed: int) -> StreamAppend | None:
        after = replace(self.state, rows_committed=self._skip + consumed)
        return self._backfill.progress_append(self._module, after)

    def committed(self, consumed: int, stats: IngestStats) -> None:
        self.state = replace(
            self.state, rows_committed=self._skip + consumed, version=self.state.version + 1
        )
        if self._progress is not None:
            self._progress(
                self._done_before + self.state.rows_committed,
                _plus(self._done_before, self._total),
            )


def _plus(done: int, total: int | None) -> int | None:
    return None if total is None else done + total


# --- reading the file --------------------------------------------------------------------


@contextmanager
def bulk_csv_rows(archive: Path, job_id: str) -> Iterator[Iterator[dict[str, str]]]:
    """The rows of the CSV member of a Bulk Read ZIP, read as a stream."""
    csv.field_size_limit(max(csv.field_size_limit(), CSV_FIELD_LIMIT))
    with zipfile.ZipFile(archive) as bundle:
        names = [name for name in bundle.namelist() if name.lower().endswith(".csv")]
        wanted = f"{job_id}.csv"
        if not names:
            raise ZohoError(f"Bulk Read job {job_id}: no CSV in the ZIP")
        member = wanted if wanted in names else names[0]
        with (
            bundle.open(member) as raw,
            io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") as text,
        ):
            yield iter(csv.DictReader(text))


def _items(
    module: str, rows: Iterator[dict[str, str]], job: BulkReadJob, *, skip: int
) -> Iterator[Item]:
    for index, row in enumerate(rows):
        if index < skip:
            continue
        yield row_item(module, row, page=job.page, row_number=index + 1)


def row_item(module: str, row: dict[str, Any], *, page: int, row_number: int) -> Item:
    """A Bulk Read row as a record: ``Id`` is its id, ``Modified_Time`` its version.
    A row without either cannot be ingested: it is quarantined as it is."""
    fields = {name: value for name, value in row.items() if name is not None}
    # Zoho's samples head the id column "Id"; some of its pages write "id": take either.
    record_id = str(fields.get("Id") or fields.get("id") or "").strip()
    modified = str(fields.get("Modified_Time") or "").strip()
    if not _RECORD_ID.match(record_id):
        where = f"row-{page}-{row_number}"
        reason = "Bulk Read row without a usable Id"
        return Unreadable(Quarantined(module, where, None, reason, "Id"), fields)
    try:
        when: datetime | None = datetime.fromisoformat(modified)
    except ValueError:
        when = None
    if when is None or when.utcoffset() is None:
        reason = "Modified_Time missing, unparsable or without an offset"
        return Unreadable(Quarantined(module, record_id, None, reason, "Modified_Time"), fields)
    return ZohoRecord(module=module, record_id=record_id, modified_time=when, fields=fields)
