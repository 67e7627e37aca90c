"""``mymedic zoho``: backfill, delta sync, notification channel renewal, mapping check
and the quarantine list."""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import orjson
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from mymedic.settings import Settings

if TYPE_CHECKING:
    from mymedic.bootstrap import Platform
    from mymedic.integrations.zoho.service import ZohoService

zoho_app = typer.Typer(
    help="Zoho CRM ingestion (read-only): backfill, delta sync, notification channel, "
    "mapping check, quarantine.",
    no_args_is_help=True,
)
console = Console(stderr=True)

DataDir = Annotated[
    Path | None, typer.Option("--data-dir", help="Where the local backend keeps its files.")
]
Tenant = Annotated[
    str | None,
    typer.Option(
        "--tenant",
        help="Tenant whose Zoho org to read (default: the only Zoho tenant, or "
        "MYMEDIC_ZOHO_TENANT_ID).",
    ),
]


def _settings(data_dir: Path | None) -> Settings:
    settings = Settings()
    return settings.model_copy(update={"data_dir": data_dir}) if data_dir else settings


@contextmanager
def _zoho(data_dir: Path | None, tenant: str | None) -> Iterator[tuple[Platform, ZohoService]]:
    """The platform and its Zoho ingestion; Zoho's errors end the command cleanly."""
    from mymedic.bootstrap import bootstrap
    from mymedic.integrations.zoho.client import ZohoError
    from mymedic.integrations.zoho.mapping import MappingError
    from mymedic.integrations.zoho.service import ZohoService, ZohoTenants
    from mymedic.integrations.zoho.webhook import ZohoNotConfigured
    from mymedic.ports import ConcurrencyConflict

    platform = bootstrap(_settings(data_dir), dispatch_after_commit=False)
    chosen = tenant or ZohoTenants(platform.settings, platform.store).default_tenant()
    service = ZohoService(
        platform.settings,
        platform.store,
        tenant_id=chosen,
        secrets=platform.secrets,
        clock=platform.clock,
    )
    try:
        yield platform, service
    except (ZohoNotConfigured, MappingError) as exc:
        console.print(f"[red]{exc}")
        raise typer.Exit(2) from None
    except ZohoError as exc:
        console.print(f"[red]Zoho: {exc}")
        raise typer.Exit(1) from None
    except ConcurrencyConflict as exc:
        console.print(f"[red]another run is under way ({exc}); try again when it is done")
        raise typer.Exit(1) from None
    finally:
        service.close()
        platform.close()


def _require_module(service: ZohoService, module: str) -> None:
    if module not in service.mapping.modules:
        console.print(
            f"[red]{module!r} is not in the Zoho mapping of {service.tenant_id} "
            f"(modules: {', '.join(service.mapping.modules)})"
        )
        raise typer.Exit(2)


def _follow(platform: Platform) -> None:
    """Hand what was appended to the read models and the warehouse."""
    platform.relay.drain()
    platform.catch_up()


def _summary(body: dict[str, Any]) -> str:
    keys = ("seen", "applied", "duplicates", "stale", "quarantined", "events")
    return ", ".join(f"{key} {body[key]}" for key in keys)


@zoho_app.command()
def backfill(
    module: Annotated[str, typer.Option(help="Zoho module API name, e.g. Appointments.")],
    tenant: Tenant = None,
    restart: Annotated[
        bool, typer.Option(help="Read the whole module again although it finished.")
    ] = False,
    poll_seconds: Annotated[float, typer.Option(help="How often to ask if the job is done.")] = 5.0,
    data_dir: DataDir = None,
) -> None:
    """Backfill one module's history through Bulk Read. Resumes where the last run
    stopped (the job, the page and the rows committed)."""
    with _zoho(data_dir, tenant) as (platform, service):
        _require_module(service, module)
        progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        )
        with progress:
            task = progress.add_task(f"{module}: Bulk Read rows", total=None)
            result = service.backfill(
                module,
                restart=restart,
                poll_seconds=poll_seconds,
                progress=lambda done, total: progress.update(task, completed=done, total=total),
            )
        _follow(platform)
    body = result.to_dict()
    if result.already_finished:
        console.print(f"{module}: the backfill finished already (--restart to read it again)")
        return
    state = "finished" if result.finished else "stopped"
    console.print(
        f"{module}: {state} after {result.pages} page(s), {result.rows} rows: " + _summary(body)
    )


@zoho_app.command()
def sync(
    module: Annotated[
        str | None, typer.Option(help="Zoho module API name; every mapped module if none.")
    ] = None,
    tenant: Tenant = None,
    data_dir: DataDir = None,
) -> None:
    """The delta sync: what changed in Zoho since the watermark (less an overlap)."""
    with _zoho(data_dir, tenant) as (platform, service):
        modules = [module] if module else service.modules()
        for name in modules:
            _require_module(service, name)
            result = service.delta_sync(name).to_dict()
            console.print(f"{name}: watermark {result['watermark']}; " + _summary(result))
        _follow(platform)


@zoho_app.command("renew-channels")
def renew_channels(
    notify_url: Annotated[
        str | None,
        typer.Option(help="The public URL of the zoho_webhook function (MYMEDIC_ZOHO_NOTIFY_URL)."),
    ] = None,
    tenant: Tenant = None,
    output_format: Annotated[str, typer.Option("--format", help="text or json.")] = "text",
    data_dir: DataDir = None,
) -> None:
    """Enable the Notifications API channel again for every mapped module, a week
    ahead, with the channel token (MYMEDIC_ZOHO_WEBHOOK_TOKEN). Idempotent; the
    zoho-renew-channels job runs it daily."""
    from mymedic.integrations.zoho.service import configured_notify_url

    if output_format not in ("text", "json"):
        console.print("[red]--format is text or json")
        raise typer.Exit(2)
    with _zoho(data_dir, tenant) as (_platform, service):
        url = notify_url or configured_notify_url(service.settings)
        result = service.renew_channels(url)
    if output_format == "json":
        sys.stdout.write(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    state = {True: "created", False: "renewed"}.get(result["created"], "enabled")
    console.print(
        f"channel {result['channel_id']} {state}: {', '.join(result['events'])} "
        f"-> {result['notify_url']}, until {result['expires_at']}"
    )
    if result["unmapped_modules"]:
        console.print(
            "[yellow]still watched until they lapse (no longer mapped): "
            + ", ".join(result["unmapped_modules"])
        )


@zoho_app.command("check-mapping")
def check_mapping(
    mapping: Annotated[Path, typer.Option(help="The mapping file (TOML).")],
    samples: Annotated[
        Path,
        typer.Option(
            help="Sample records: JSON ({module: [records]}, or a list of records with "
            "--module) or a Bulk Read CSV (with --module)."
        ),
    ],
    module: Annotated[str | None, typer.Option(help="The module of a list or CSV.")] = None,
    output_format: Annotated[str, typer.Option("--format", help="text or json.")] = "text",
) -> None:
    """Run a mapping over sample records and report what would not fit (unmapped
    fields, always-empty columns, unmapped picklist values, would-be quarantines)."""
    from mymedic.integrations.zoho.mapping import MappingError, load_mapping
    from mymedic.integrations.zoho.mapping import check_mapping as check

    if output_format not in ("text", "json"):
        console.print("[red]--format is text or json")
        raise typer.Exit(2)
    try:
        loaded = load_mapping(mapping)
        by_module = _samples(samples, module)
    except (MappingError, ValueError, OSError) as exc:
        console.print(f"[red]{exc}")
        raise typer.Exit(2) from None
    report = check(loaded, by_module)
    if output_format == "json":
        sys.stdout.write(orjson.dumps(report.to_dict(), option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        sys.stdout.write(report.to_text())
    if not report.ok:
        raise typer.Exit(1)


def _samples(path: Path, module: str | None) -> dict[str, list[dict[str, Any]]]:
    if path.suffix.lower() == ".csv":
        if not module:
            raise ValueError("a CSV of samples needs --module")
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return {module: [dict(row) for row in csv.DictReader(handle)]}
    data = orjson.loads(path.read_bytes())
    if isinstance(data, dict) and all(isinstance(rows, list) for rows in data.values()):
        return {str(name): [dict(row) for row in rows] for name, rows in data.items()}
    if isinstance(data, list):
        if not module:
            raise ValueError("a JSON list of samples needs --module")
        return {module: [dict(row) for row in data if isinstance(row, dict)]}
    raise ValueError("samples are {module: [records]} or a list of records")


@zoho_app.command()
def quarantine(
    tenant: Tenant = None,
    show_all: Annotated[bool, typer.Option("--all", help="Resolved records too.")] = False,
    output_format: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    data_dir: DataDir = None,
) -> None:
    """List quarantined records: module, id, reason and field (never the values)."""
    from mymedic.bootstrap import bootstrap

    if output_format not in ("table", "json"):
        console.print("[red]--format is table or json")
        raise typer.Exit(2)
    settings = _settings(data_dir)
    chosen = tenant or settings.zoho_tenant_id
    platform = bootstrap(settings, dispatch_after_commit=False)
    try:
        platform.catch_up()
        rows = platform.warehouse.query(
            "integration_quarantine", {"tenant_id": chosen} if chosen else None
        )
    finally:
        platform.close()
    shown = [row for row in rows if show_all or row["resolved_at"] is None]
    columns: tuple[str, ...] = ("tenant_id", "module", "record_id", "modified_time", "reason")
    columns += (
        ("field", "quarantined_at", "resolved_at") if show_all else ("field", "quarantined_at")
    )
    if output_format == "json":
        body = [{c: _text(row[c]) or None for c in columns} for row in shown]
        sys.stdout.write(orjson.dumps(body, option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    table = Table(title=f"Quarantined Zoho records ({len(shown)})")
    for column in columns:
        table.add_column(column.replace("_", " "), overflow="fold")
    for row in shown:
        table.add_row(*(_text(row[c]) or "-" for c in columns))
    Console(width=160).print(table)


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value.isoformat() if hasattr(value, "isoformat") else str(value)
