"""The ``mymedic`` command line: demo, serve, replay, report, outbox and dead letters,
and Zoho CRM ingestion (``mymedic zoho``, in ``cli_zoho``)."""

from __future__ import annotations

import shutil
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from mymedic.cli_common import DataDir, console, progress_bar, settings_for
from mymedic.cli_dashboard import dashboard
from mymedic.cli_demo import demo
from mymedic.cli_jobs import jobs_app
from mymedic.cli_reconcile import reconcile
from mymedic.cli_report import report
from mymedic.cli_zoho import zoho_app
from mymedic.settings import Settings

app = typer.Typer(help="MyMedic: the clinic data platform.", no_args_is_help=True)
dead_letters_app = typer.Typer(help="Events whose delivery kept failing.")
app.add_typer(dead_letters_app, name="dead-letters")
app.add_typer(zoho_app, name="zoho")
app.add_typer(jobs_app, name="jobs")
app.command("reconcile")(reconcile)
app.command("demo")(demo)
app.command("report")(report)
app.command("dashboard")(dashboard)
_settings = settings_for
_progress = progress_bar


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8080,
    backend: Annotated[
        str,
        typer.Option(
            help="local (embedded default) or gcp-emulators (Firestore, Pub/Sub and "
            "BigQuery emulators with the projection functions on push subscriptions)."
        ),
    ] = "local",
    catch_up_seconds: Annotated[
        float, typer.Option(help="How often the warehouse follows the store.")
    ] = 5.0,
    data_dir: DataDir = None,
) -> None:
    """Serve every HTTP function on one port: /commands..., /dashboards..., /openapi.json."""
    from werkzeug.serving import run_simple

    from mymedic import entrypoints
    from mymedic.bootstrap import bootstrap
    from mymedic.server import create_server

    if backend not in ("local", "gcp-emulators"):
        console.print("[red]--backend is local or gcp-emulators")
        raise typer.Exit(2)
    settings = _settings(data_dir)
    stack = None
    # Stop on SIGTERM as on Ctrl-C, so that the emulators we started are stopped too.
    signal.signal(signal.SIGTERM, _exit_on_signal)
    if backend == "gcp-emulators":
        stack, settings = _start_emulator_stack(settings)
    try:
        platform = bootstrap(settings)
        entrypoints.use_platform(platform)
        _start_catch_up_loop(platform, every_seconds=catch_up_seconds)
        run_simple(host, port, create_server(), threaded=True)
    finally:
        if stack is not None:
            stack.stop()


def _exit_on_signal(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def _start_emulator_stack(settings: Settings) -> tuple[Any, Settings]:
    import os
    from uuid import uuid4

    from mymedic.devstack import start_stack
    from mymedic.emulators import Emulator, start_bigquery, start_firestore, start_pubsub

    logs = settings.data_dir / "emulators"
    local_bq = Path(".venv-bqemulator/bin/bqemulator")
    bq_binary = (
        os.environ.get("MYMEDIC_BQEMULATOR")
        or (str(local_bq) if local_bq.exists() else None)
        or shutil.which("bqemulator")
    )
    emulators: list[Emulator] = []
    starters: list[Callable[[], Emulator]] = [
        lambda: start_pubsub(logs),
        lambda: start_firestore(logs),
        lambda: start_bigquery(logs, bq_binary),
    ]
    try:
        for start in starters:
            emulators.append(start())
        env: dict[str, str] = {}
        for emulator in emulators:
            env.update(emulator.env)
        os.environ.update(env)
        project = f"local-{uuid4().hex[:8]}"
        stack = start_stack(project, "mymedic", env, logs)
    except BaseException:
        for emulator in emulators:
            emulator.stop()
        raise
    stack.emulators = emulators
    console.print(
        f"emulators up; project {project}; functions: "
        + ", ".join(f"{s.target} {s.url}" for s in stack.servers)
        + "; pids: "
        + " ".join(str(s.process.pid) for s in stack.servers)
        + " "
        + " ".join(str(e.process.pid) for e in stack.emulators)
    )
    gcp = settings.model_copy(
        update={
            "backend": "gcp",
            "gcp_project": project,
            "bigquery_dataset": "mymedic",
            "bigquery_endpoint": env["MYMEDIC_BIGQUERY_ENDPOINT"],
        }
    )
    return stack, gcp


def _start_catch_up_loop(platform: Any, every_seconds: float) -> None:
    """Locally, this thread stands in for the scheduled projection catch-up job."""
    import logging
    import threading

    def loop() -> None:
        while True:
            time.sleep(every_seconds)
            try:
                platform.relay.drain()
                platform.catch_up()
            except Exception:
                logging.getLogger("mymedic.serve").exception("catch-up failed")

    threading.Thread(target=loop, name="catch-up", daemon=True).start()


@app.command()
def token(
    tenant: Annotated[str, typer.Option(help="Tenant the token is for.")],
    role: Annotated[str, typer.Option(help="admin, analyst, marketing, staff, doctor or patient.")],
    subject: Annotated[str, typer.Option(help="Who the token names (user or patient id).")],
    branch: Annotated[
        list[str] | None, typer.Option(help="Allowed branch (repeat); none: every branch.")
    ] = None,
    ttl_seconds: Annotated[int, typer.Option(help="Lifetime.")] = 3600,
) -> None:
    """Issue an HS256 token signed with MYMEDIC_JWT_SECRET, for local development."""
    from mymedic.app.auth import Role, auth_config, issue_token

    try:
        config = auth_config(Settings())
        signed = issue_token(
            config,
            subject=subject,
            tenant_id=tenant,
            role=Role(role),
            branches=frozenset(branch) if branch else None,
            ttl_seconds=ttl_seconds,
        )
    except ValueError as exc:
        console.print(f"[red]{exc}")
        raise typer.Exit(2) from None
    typer.echo(signed)


@app.command()
def replay(data_dir: DataDir = None) -> None:
    """Rebuild every projection (read models and warehouse) from the event store."""
    from mymedic.bootstrap import bootstrap

    platform = bootstrap(_settings(data_dir), dispatch_after_commit=False)
    total = platform.store.head_position()
    started = time.perf_counter()
    with _progress() as progress:
        task = progress.add_task("replaying events", total=total)
        report = platform.rebuild_projections(progress=lambda n: progress.advance(task, n))
    elapsed = time.perf_counter() - started
    console.print(
        f"replayed {report.events} events in {elapsed:.2f} s "
        f"({report.events / max(elapsed, 1e-9):.0f} events/s)"
    )
    platform.close()


@app.command()
def relay(data_dir: DataDir = None) -> None:
    """Deliver whatever is still in the outbox to the projections."""
    from mymedic.bootstrap import bootstrap

    platform = bootstrap(_settings(data_dir))
    result = platform.relay.drain()
    followed = platform.catch_up()
    console.print(
        f"published {result.published}, failed {result.failed}, "
        f"dead-lettered {result.dead_lettered}; warehouse caught up {followed.events} events"
    )
    platform.close()


@app.command()
def audit(
    appointment_id: Annotated[str, typer.Argument(help="The appointment to audit.")],
    tenant: Annotated[str, typer.Option(help="Tenant the appointment belongs to.")],
    output_format: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    data_dir: DataDir = None,
) -> None:
    """Print an appointment's audit trail, straight from the event log: who did what,
    when, what changed, the policy applied and the money paid, refunded or forfeited."""
    import orjson

    from mymedic.app.audit import AppointmentNotFound, appointment_audit
    from mymedic.cli_audit import event_store, print_audit

    if output_format not in ("table", "json"):
        console.print("[red]--format is table or json")
        raise typer.Exit(2)
    try:
        with event_store(_settings(data_dir)) as store:
            trail = appointment_audit(store, tenant, appointment_id)
    except (AppointmentNotFound, FileNotFoundError) as exc:
        console.print(f"[red]{exc}")
        raise typer.Exit(1) from None
    if output_format == "json":
        sys.stdout.write(orjson.dumps(trail.to_json(), option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        print_audit(trail, Console())


@dead_letters_app.command("list")
def dead_letters_list(data_dir: DataDir = None) -> None:
    """List dead-lettered events with the reason their delivery failed."""
    from mymedic.bootstrap import bootstrap

    platform = bootstrap(_settings(data_dir), dispatch_after_commit=False)
    table = Table(title="Dead letters")
    for column in ("position", "event id", "attempts", "reason"):
        table.add_column(column)
    for letter in platform.store.dead_letters():
        table.add_row(
            str(letter.global_position), letter.event_id, str(letter.attempts), letter.reason
        )
    Console().print(table)
    platform.close()


@dead_letters_app.command("replay")
def dead_letters_replay(
    positions: Annotated[list[int] | None, typer.Argument(help="Positions; all if none.")] = None,
    data_dir: DataDir = None,
) -> None:
    """Put dead letters back in the outbox and deliver them again."""
    from mymedic.bootstrap import bootstrap

    platform = bootstrap(_settings(data_dir))
    moved = platform.store.requeue_dead_letters(positions or None)
    result = platform.relay.drain()
    console.print(
        f"requeued {moved}; published {result.published}, failed {result.failed}, "
        f"dead-lettered again {result.dead_lettered}"
    )
    platform.close()
