"""The ``mymedic`` command line: demo, serve, replay, report, outbox and dead letters,
and Zoho CRM ingestion (``mymedic zoho``, in ``cli_zoho``)."""

from __future__ import annotations

import secrets
import shutil
import signal
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import SecretStr
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from mymedic.cli_reconcile import reconcile
from mymedic.cli_zoho import zoho_app
from mymedic.settings import Settings

app = typer.Typer(help="MyMedic: the clinic data platform.", no_args_is_help=True)
dead_letters_app = typer.Typer(help="Events whose delivery kept failing.")
app.add_typer(dead_letters_app, name="dead-letters")
app.add_typer(zoho_app, name="zoho")
app.command("reconcile")(reconcile)
console = Console(stderr=True)

DataDir = Annotated[
    Path | None, typer.Option("--data-dir", help="Where the local backend keeps its files.")
]


def _settings(data_dir: Path | None) -> Settings:
    settings = Settings()
    return settings.model_copy(update={"data_dir": data_dir}) if data_dir else settings


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )


@app.command()
def demo(
    out: Annotated[Path, typer.Option(help="Output folder (its data/ is rebuilt).")] = Path("out"),
    seed: Annotated[int, typer.Option(help="Seed of the synthetic chain.")] = 7,
    appointments: Annotated[int, typer.Option(help="About this many bookings.")] = 3000,
) -> None:
    """Generate a synthetic clinic chain, push it through the HTTP handler, build the
    read models and warehouse, and write report 1."""
    from mymedic import entrypoints
    from mymedic.app.auth import Role, auth_config, issue_token
    from mymedic.bootstrap import bootstrap
    from mymedic.demo.generator import generate
    from mymedic.reports.export import to_csv
    from mymedic.server import create_server

    data_dir = out / "data"
    shutil.rmtree(data_dir, ignore_errors=True)
    # The demo signs its own tokens: a fresh secret each run, an admin of each tenant.
    settings = _settings(data_dir).model_copy(
        update={"jwt_secret": SecretStr(secrets.token_urlsafe(48)), "jwt_algorithm": "HS256"}
    )
    platform = bootstrap(settings)
    entrypoints.use_platform(platform)
    client = create_server().test_client()
    commands = generate(seed=seed, appointments=appointments)
    config = auth_config(settings)
    tokens = {
        tenant: "Bearer "
        + issue_token(
            config, subject="demo-admin", tenant_id=tenant, role=Role.ADMIN, branches=None
        )
        for tenant in {c.body["tenant_id"] for c in commands}
    }
    started = time.perf_counter()
    rejected: dict[int, int] = defaultdict(int)
    with _progress() as progress:
        task = progress.add_task("commands → HTTP → store → projections", total=len(commands))
        for command in commands:
            response = client.post(
                f"/commands/{command.name}",
                json=command.body,
                headers={"Authorization": tokens[command.body["tenant_id"]]},
            )
            if response.status_code != 201:
                rejected[response.status_code] += 1
                if sum(rejected.values()) <= 3:
                    console.print(f"[yellow]{command.name}: {response.status_code} {response.json}")
            progress.advance(task)
        task = progress.add_task(
            "store → warehouse (batched)", total=platform.store.head_position()
        )
        platform.catch_up(progress=lambda n: progress.advance(task, n))
    elapsed = time.perf_counter() - started
    rows = platform.warehouse.query("rpt_patient_volume")
    reports = out / "reports"
    reports.mkdir(parents=True, exist_ok=True)
    csv_path = reports / "rpt_patient_volume.csv"
    csv_path.write_text(to_csv(rows), encoding="utf-8")
    _print_patient_volume(rows)
    accepted = len(commands) - sum(rejected.values())
    console.print(
        f"{accepted} commands accepted in {elapsed:.1f} s ({accepted / elapsed:.0f}/s), "
        f"{sum(rejected.values())} rejected {dict(rejected) or ''}"
    )
    dead = platform.store.dead_letters()
    if dead:
        console.print(f"[red]{len(dead)} events in the dead letters: mymedic dead-letters list")
    typer.echo(f"report 1: {csv_path}")
    platform.close()
    entrypoints.use_platform(None)
    if rejected or dead:
        raise typer.Exit(1)


def _print_patient_volume(rows: list[dict[str, Any]]) -> None:
    totals: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0] * 6)
    for row in rows:
        key = (row["tenant_id"], row["branch_id"], row["month"].strftime("%Y-%m"))
        for i, column in enumerate(
            ("scans", "patients", "new_patients", "returning_patients", "cancelled", "no_shows")
        ):
            totals[key][i] += row[column]
    table = Table(title="Report 1: patient volume by branch and month (all modalities)")
    for column in (
        "tenant",
        "branch",
        "month",
        "scans",
        "patients*",
        "new",
        "returning",
        "cancelled",
        "no-shows",
    ):
        table.add_column(
            column, justify="right" if column[0] in "spnrc" and column != "tenant" else "left"
        )
    for (tenant, branch, month), values in sorted(totals.items()):
        table.add_row(tenant, branch, month, *(str(v) for v in values))
    wide = Console(width=120)
    wide.print(table)
    wide.print("* patients summed over modalities: a patient seen in two modalities counts twice")


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
    """Serve every HTTP function on one port: /commands..., /openapi.json, /healthz."""
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
    import shutil
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
def report(
    name: Annotated[str, typer.Argument(help="Report name, e.g. patient-volume.")],
    output_format: Annotated[str, typer.Option("--format", help="csv or json.")] = "csv",
    tenant: Annotated[str | None, typer.Option(help="Only this tenant.")] = None,
    data_dir: DataDir = None,
) -> None:
    """Print a report as CSV or JSON on stdout."""
    from mymedic.bootstrap import bootstrap
    from mymedic.reports.export import to_csv, to_json, view_name

    try:
        view = view_name(name)
    except KeyError as exc:
        console.print(f"[red]{exc.args[0]}")
        raise typer.Exit(2) from None
    if output_format not in ("csv", "json"):
        console.print("[red]--format is csv or json")
        raise typer.Exit(2)
    platform = bootstrap(_settings(data_dir), dispatch_after_commit=False)
    platform.catch_up()
    rows = platform.warehouse.query(view, {"tenant_id": tenant} if tenant else None)
    sys.stdout.write(to_csv(rows) if output_format == "csv" else to_json(rows) + "\n")
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
