"""``mymedic demo``: a synthetic clinic chain through the whole platform on the embedded
default, ending with report 1 and the reconciliation of every day."""

from __future__ import annotations

import secrets
import shutil
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from pydantic import SecretStr
from rich.console import Console
from rich.table import Table

from mymedic.cli_common import console, progress_bar, settings_for


def demo(
    out: Annotated[Path, typer.Option(help="Output folder (its data/ is rebuilt).")] = Path("out"),
    seed: Annotated[int, typer.Option(help="Seed of the synthetic chain.")] = 7,
    appointments: Annotated[int, typer.Option(help="About this many bookings.")] = 3000,
    source: Annotated[
        str,
        typer.Option(
            help="commands: the chain as MyMedic commands (quick). zoho: the same chain as "
            "each tenant's Zoho CRM, served over HTTP by a faithful fake, backfilled, then "
            "its later changes as notifications and the daily delta sync."
        ),
    ] = "commands",
    zoho_days: Annotated[
        int, typer.Option(help="With --source zoho: the last days that arrive after the backfill.")
    ] = 30,
) -> None:
    """Generate a synthetic clinic chain, push it and its payment gateway's webhooks
    through the HTTP handler, build the read models and warehouse, reconcile every day,
    and write report 1."""
    from mymedic import entrypoints
    from mymedic.bootstrap import bootstrap
    from mymedic.demo.gateway import attach_gateway
    from mymedic.demo.generator import generate
    from mymedic.server import create_server

    if source not in ("commands", "zoho"):
        console.print("[red]--source is commands or zoho")
        raise typer.Exit(2)
    data_dir = out / "data"
    shutil.rmtree(data_dir, ignore_errors=True)
    # Fresh secrets each run for the demo's tokens and its one Razorpay account.
    webhook_secret = secrets.token_urlsafe(32)
    settings = demo_settings(settings_for(data_dir), webhook_secret)
    platform = bootstrap(settings)
    entrypoints.use_platform(platform)
    client = create_server().test_client()
    commands = generate(seed=seed, appointments=appointments)
    traffic = attach_gateway(commands, seed=seed, now=platform.clock())
    tokens = admin_tokens(settings, {c.body["tenant_id"] for c in commands})
    started = time.perf_counter()
    with progress_bar() as progress:
        if source == "commands":
            rejected = _post_commands(client, commands, tokens, progress)
        else:
            rejected = _through_zoho(platform, client, commands, tokens, days=zoho_days, seed=seed)
        elapsed = time.perf_counter() - started
        webhooks = _send_gateway_traffic(client, platform, traffic, webhook_secret)
        task = progress.add_task(
            "store → warehouse (batched)", total=platform.store.head_position()
        )
        platform.catch_up(progress=lambda n: progress.advance(task, n))
    _close_the_books(platform, commands, out)
    csv_path = _write_patient_volume(platform, out)
    if source == "commands":
        accepted = len(commands) - sum(rejected.values())
        console.print(
            f"{accepted} commands accepted in {elapsed:.1f} s ({accepted / elapsed:.0f}/s), "
            f"{sum(rejected.values())} rejected {dict(rejected) or ''}"
        )
    dead = platform.store.dead_letters()
    if dead:
        console.print(f"[red]{len(dead)} events in the dead letters: mymedic dead-letters list")
    typer.echo(f"report 1: {csv_path}")
    dashboard, snapshot = _write_dashboard_and_snapshot(platform, commands, out)
    typer.echo(f"dashboard preview: {dashboard}")
    typer.echo(f"snapshot: {snapshot}")
    platform.close()
    entrypoints.use_platform(None)
    refused = {status: n for status, n in webhooks.items() if status != 200}
    if refused:
        console.print(f"[red]webhooks refused: {refused}")
    if rejected or dead or refused:
        raise typer.Exit(1)


def _write_patient_volume(platform: Any, out: Path) -> Path:
    """Report 1, printed and written as CSV."""
    from mymedic.reports.export import to_csv
    from mymedic.reports.people import for_people

    view = "rpt_patient_volume"
    rows = platform.warehouse.query(view)
    columns = platform.warehouse.columns(view)
    reports = out / "reports"
    reports.mkdir(parents=True, exist_ok=True)
    csv_path = reports / f"{view}.csv"
    csv_path.write_text(to_csv(for_people(view, columns, rows)), encoding="utf-8")
    _print_patient_volume(platform.warehouse, rows)
    return csv_path


def demo_settings(settings: Any, webhook_secret: str) -> Any:
    """The demo's settings: its own token secret and its one Razorpay account's."""
    from mymedic.demo.generator import TENANTS

    return settings.model_copy(
        update={
            "jwt_secret": SecretStr(secrets.token_urlsafe(48)),
            "jwt_algorithm": "HS256",
            "razorpay_webhook_secret": SecretStr(webhook_secret),
            # The chain's one Razorpay account is the first tenant's: never a made-up
            # tenant (it would show in the dashboards' tenant lists and the close).
            "payments_tenant_id": TENANTS[0].tenant_id,
        }
    )


def admin_tokens(settings: Any, tenants: set[str]) -> dict[str, str]:
    """The demo signs its own tokens: an admin of each tenant."""
    from mymedic.app.auth import Role, auth_config, issue_token

    config = auth_config(settings)
    return {
        tenant: "Bearer "
        + issue_token(
            config, subject="demo-admin", tenant_id=tenant, role=Role.ADMIN, branches=None
        )
        for tenant in tenants
    }


def poster(client: Any) -> Any:
    """``post(path, body, headers) -> (status, json)`` over the test client."""

    def post(path: str, body: Any, headers: dict[str, str]) -> tuple[int, Any]:
        response = client.post(path, json=body, headers=headers)
        return response.status_code, response.get_json(silent=True)

    return post


def _post_commands(
    client: Any, commands: list[Any], tokens: dict[str, str], progress: Any
) -> Counter[int]:
    rejected: Counter[int] = Counter()
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
    return rejected


def _through_zoho(
    platform: Any, client: Any, commands: list[Any], tokens: dict[str, str], *, days: int, seed: int
) -> Counter[int]:
    """The chain as each tenant's Zoho org: backfilled as it stood ``days`` before the
    end, the rest as notifications and delta syncs (see ``demo.zoho_path``)."""
    from datetime import timedelta

    from mymedic.demo.zoho_path import run_zoho_path

    cut = max(command.at for command in commands) - timedelta(days=days)
    started = time.perf_counter()
    outcome = run_zoho_path(platform, commands, poster(client), tokens, cut=cut, seed=seed)
    rows = sum(sum(modules.values()) for modules in outcome.backfilled.values())
    console.print(
        f"Zoho: {rows} records backfilled as of {cut:%Y-%m-%d}, then "
        f"{outcome.notifications} notifications ({outcome.lost} lost, caught by "
        f"{outcome.delta_runs} delta syncs) and {outcome.commands} MyMedic commands, in "
        f"{time.perf_counter() - started:.1f} s; {outcome.quarantined} quarantined"
    )
    refused: Counter[int] = Counter()
    for what, status, answer in outcome.refused:
        refused[status] += 1
        if sum(refused.values()) <= 3:
            console.print(f"[yellow]{what}: {status} {answer}")
    return refused


def _send_gateway_traffic(client: Any, platform: Any, traffic: Any, secret: str) -> Counter[int]:
    from mymedic.demo.finance import itemize, send_webhooks

    statuses = send_webhooks(client, traffic, secret)
    detail = itemize(platform, traffic)
    console.print(
        f"gateway: {traffic.captures} captures, {traffic.refunds} refunds and "
        f"{traffic.settlements} settlements sent as signed Razorpay webhooks "
        f"{dict(statuses)}; settlement-detail itemized {detail.itemized}"
        + (f", [yellow]failed {len(detail.failed)}" if detail.failed else "")
    )
    return statuses


def _close_the_books(platform: Any, commands: list[Any], out: Path) -> None:
    """Reconcile every day of the demo, write the finance console's documents, print the
    close per tenant and keep it as JSON beside report 1."""
    from mymedic.app.reconcile import run_days, write
    from mymedic.demo.finance import print_close, summarize

    days = sorted({command.at.date() for command in commands})
    as_of = platform.clock().date()
    results = run_days(platform.store, days[0], days[-1], as_of=as_of)
    by_day: dict[Any, list[Any]] = defaultdict(list)
    for result in results:
        by_day[result.day].append(result)
    for day, found in sorted(by_day.items()):
        write(platform.documents, found, day, [])
    print_close(summarize(results), days[0], days[-1], Console(width=160))
    reports = out / "reports"
    reports.mkdir(parents=True, exist_ok=True)
    path = reports / "reconciliation.json"
    path.write_bytes(orjson.dumps([r.to_document() for r in results], option=orjson.OPT_INDENT_2))
    typer.echo(f"reconciliation: {path}")


def _print_patient_volume(warehouse: Any, rows: list[dict[str, Any]]) -> None:
    """Report 1 by branch and month, every modality together: its headline figures
    grouped by branch and month (a patient seen in two modalities is one patient), never
    the report's rows added up."""
    columns = ("scans", "patients", "new_patients", "returning_patients", "cancelled", "no_shows")
    table = Table(title="Report 1: patient volume by branch and month (all modalities)")
    for column in (
        "tenant",
        "branch",
        "month",
        "scans",
        "patients",
        "new",
        "returning",
        "cancelled",
        "no-shows",
    ):
        table.add_column(
            column, justify="right" if column[0] in "spnrc" and column != "tenant" else "left"
        )
    for tenant in sorted({row["tenant_id"] for row in rows}):
        months = [row["month"] for row in rows if row["tenant_id"] == tenant]
        by_branch = warehouse.headline(
            "rpt_patient_volume", tenant, min(months), max(months), by=["branch_id", "month"]
        )
        for line in sorted(by_branch, key=lambda r: (r["branch_id"], r["month"])):
            month = line["month"].strftime("%Y-%m")
            table.add_row(tenant, line["branch_id"], month, *(str(line[c]) for c in columns))
    Console(width=120).print(table)


SNAPSHOT_REPORTS = ("patient-volume", "revenue-breakdown", "waiting-time", "leakage")


def _write_dashboard_and_snapshot(
    platform: Any, commands: list[Any], out: Path
) -> tuple[Path, Path]:
    """The Looker dashboards' local preview (every tenant) and the PDF snapshot of the
    first tenant's last month, as the snapshots job would e-mail it."""
    from mymedic.dashboards.preview import write_preview
    from mymedic.reports.snapshot import render_snapshot_pdf

    index = write_preview(platform.warehouse, out / "dashboard")
    last = max(command.at.date() for command in commands)
    first_of_month = last.replace(day=1)
    tenant = sorted({command.body["tenant_id"] for command in commands})[-1]
    pdf = render_snapshot_pdf(platform.warehouse, tenant, SNAPSHOT_REPORTS, first_of_month, last)
    path = out / "snapshot.pdf"
    path.write_bytes(pdf)
    return index, path
