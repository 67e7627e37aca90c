"""``mymedic zoho``: connecting a tenant's org and a starter mapping from its metadata,
backfill, delta sync, notification channel renewal, mapping check and the quarantine
list."""

from __future__ import annotations

import csv
import os
import sys
import webbrowser
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

import orjson
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from mymedic.settings import Settings

if TYPE_CHECKING:
    from mymedic.bootstrap import Platform
    from mymedic.integrations.zoho.mapping_init import InitResult
    from mymedic.integrations.zoho.onboarding import Connected
    from mymedic.integrations.zoho.service import ZohoService

zoho_app = typer.Typer(
    help="Zoho CRM ingestion (read-only): connect, mapping, backfill, delta sync, "
    "notification channel, mapping check, quarantine.",
    no_args_is_help=True,
)
mapping_app = typer.Typer(
    help="The tenant's Zoho field mapping: a starter from the org's metadata.",
    no_args_is_help=True,
)
zoho_app.add_typer(mapping_app, name="mapping")
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
    keys = ("seen", "applied", "duplicates", "stale", "quarantined", "ignored", "events")
    return ", ".join(f"{key} {body[key]}" for key in keys)


@zoho_app.command()
def backfill(
    module: Annotated[
        str | None,
        typer.Option(help="Zoho module API name; every mapped module, parents first, if none."),
    ] = None,
    tenant: Tenant = None,
    restart: Annotated[
        bool, typer.Option(help="Read the whole module again although it finished.")
    ] = False,
    poll_seconds: Annotated[float, typer.Option(help="How often to ask if the job is done.")] = 5.0,
    data_dir: DataDir = None,
) -> None:
    """Backfill modules' history through Bulk Read (Users through the Users API). Each
    resumes where its last run stopped (the job, the page and the rows committed)."""
    with _zoho(data_dir, tenant) as (platform, service):
        modules = [module] if module else service.sync_order()
        for name in modules:
            _require_module(service, name)
        for name in modules:
            _backfill_module(service, name, restart=restart, poll_seconds=poll_seconds)
        _follow(platform)


def _backfill_module(
    service: ZohoService,
    module: str,
    *,
    restart: bool,
    poll_seconds: float,
    source: str = "backfill",
) -> None:
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )
    with progress:
        task = progress.add_task(f"{module}: Bulk Read rows", total=None)

        def advance(done: int, total: int | None) -> None:
            progress.update(task, completed=done, total=total)

        if source == "formula_refresh":
            result = service.formula_refresh(module, poll_seconds=poll_seconds)
        else:
            result = service.backfill(
                module, restart=restart, poll_seconds=poll_seconds, progress=advance
            )
    if result.already_finished:
        console.print(f"{module}: the backfill finished already (--restart to read it again)")
        return
    state = "finished" if result.finished else "stopped"
    console.print(
        f"{module}: {state} after {result.pages} page(s), {result.rows} rows: "
        + _summary(result.to_dict())
    )


@zoho_app.command("formula-refresh")
def formula_refresh(
    module: Annotated[
        str | None,
        typer.Option(help="Zoho module API name; every module with formula_fields if none."),
    ] = None,
    tenant: Tenant = None,
    poll_seconds: Annotated[float, typer.Option(help="How often to ask if the job is done.")] = 5.0,
    data_dir: DataDir = None,
) -> None:
    """Read modules with formula fields again (the zoho-formula-refresh job does it
    daily): Zoho moves no Modified_Time when a formula's value changes, so the delta
    sync cannot see it. Unchanged records are recognised and skipped."""
    with _zoho(data_dir, tenant) as (platform, service):
        modules = [module] if module else service.formula_modules()
        if not modules:
            console.print(f"{service.tenant_id}: no module maps formula_fields")
        for name in modules:
            _require_module(service, name)
            _backfill_module(
                service, name, restart=True, poll_seconds=poll_seconds, source="formula_refresh"
            )
        _follow(platform)


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
        modules = [module] if module else service.sync_order()
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
    *,
    mapping: Annotated[
        Path | None,
        typer.Option(help="The mapping file (TOML); default: the tenant's (--tenant)."),
    ] = None,
    samples: Annotated[
        Path | None,
        typer.Option(
            help="Sample records: JSON ({module: [records]}, or a list of records with "
            "--module) or a Bulk Read CSV (with --module). Default: the first "
            f"{SAMPLE_RECORDS} records of each mapped module, read from the tenant's org."
        ),
    ] = None,
    module: Annotated[str | None, typer.Option(help="The module of a list or CSV.")] = None,
    tenant: Tenant = None,
    output_format: Annotated[str, typer.Option("--format", help="text or json.")] = "text",
    data_dir: DataDir = None,
) -> None:
    """Run a mapping over sample records and report what would not fit (unmapped
    fields, always-empty columns, unmapped picklist values, would-be quarantines)."""
    from mymedic.integrations.zoho.mapping import MappingError, load_mapping
    from mymedic.integrations.zoho.mapping import check_mapping as check

    if output_format not in ("text", "json"):
        console.print("[red]--format is text or json")
        raise typer.Exit(2)
    if mapping is None and samples is not None:
        console.print("[red]--samples checks a --mapping file")
        raise typer.Exit(2)
    try:
        if mapping is not None and samples is not None:
            loaded = load_mapping(mapping)
            by_module = _samples(samples, module)
        else:
            loaded, by_module = _from_org(data_dir, tenant, mapping)
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


SAMPLE_RECORDS = 200


def _from_org(
    data_dir: Path | None, tenant: str | None, path: Path | None
) -> tuple[Any, dict[str, list[dict[str, Any]]]]:
    """The mapping (the tenant's, or ``path``) and samples of each of its modules, read
    from the tenant's org through its connection (the first page of each)."""
    from itertools import islice

    from mymedic.integrations.zoho.mapping import load_mapping, mapping_fields

    with _zoho(data_dir, tenant) as (_platform, service):
        loaded = load_mapping(path) if path is not None else service.mapping
        client = service.client()
        found: dict[str, list[dict[str, Any]]] = {}
        for name in loaded.modules:
            records = client.records(name, mapping_fields(loaded, name))
            found[name] = [record.fields for record in islice(records, SAMPLE_RECORDS)]
        return loaded, found


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


# --- onboarding: connect, mapping init ---------------------------------------------------

CLIENT_SECRET_ENV = "MYMEDIC_ZOHO_CLIENT_SECRET"  # noqa: S105 - a variable's name
RequiredTenant = Annotated[str, typer.Option("--tenant", help="The tenant (its id).")]


def _fail(message: str, code: int = 1) -> typer.Exit:
    console.print(f"[red]{escape(message)}")
    return typer.Exit(code)


def _checked_tenant(tenant: str) -> str:
    from pydantic import TypeAdapter, ValidationError

    from mymedic.domain.types import Identifier

    try:
        return TypeAdapter(Identifier).validate_python(tenant)
    except ValidationError:
        raise _fail(f"{tenant!r} is not a tenant id", 2) from None


def _client_secret(path: Path | None) -> str:
    """From a file, the environment or a hidden prompt: never an option's value, which
    would stay in the shell's history."""
    if path is not None:
        try:
            value = path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise _fail(f"cannot read the client secret file: {exc}", 2) from None
    elif os.environ.get(CLIENT_SECRET_ENV):
        value = os.environ[CLIENT_SECRET_ENV].strip()
    else:
        value = str(typer.prompt("Zoho client secret", hide_input=True, err=True)).strip()
    if not value:
        raise _fail("the client secret is empty", 2)
    return value


@zoho_app.command()
def connect(
    *,
    tenant: RequiredTenant,
    data_centre: Annotated[
        str,
        typer.Option(
            "--data-centre",
            help="Where the org's Zoho account lives: com, eu, in, com.au, jp, ca or com.cn.",
        ),
    ],
    client_id: Annotated[
        str, typer.Option("--client-id", help="The OAuth client's id (Zoho API console).")
    ],
    client_secret_file: Annotated[
        Path | None,
        typer.Option(
            help=f"A file holding the client secret; else {CLIENT_SECRET_ENV}, else a prompt."
        ),
    ] = None,
    redirect_uri: Annotated[
        str | None,
        typer.Option(
            help="One of the client's Authorized Redirect URIs, served once on this machine "
            "(default http://127.0.0.1:<free port>/zoho/callback)."
        ),
    ] = None,
    code: Annotated[
        str | None,
        typer.Option(help="A code generated by a self client (Zoho API console): no browser."),
    ] = None,
    no_browser: Annotated[
        bool, typer.Option("--no-browser", help="Only print the authorization URL.")
    ] = False,
    books: Annotated[
        bool, typer.Option("--books", help="Also ask to read Zoho Books invoices and payments.")
    ] = False,
    wait_seconds: Annotated[
        float, typer.Option(help="How long to wait for the browser to come back.")
    ] = 300.0,
    accounts_url: Annotated[
        str | None,
        typer.Option(help="An accounts server other than the data centre's (a proxy, a fake)."),
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Connect a tenant's Zoho org: authorize MyMedic in the browser (or exchange a self
    client's code), then keep the client secret and refresh token in the tenant's
    secret store and the rest in <tenant>.connection.toml."""
    from pydantic import SecretStr

    from mymedic.bootstrap import BackendUnavailable, secret_store
    from mymedic.integrations.zoho.config import ACCOUNTS_URLS, DataCentre
    from mymedic.integrations.zoho.loopback import LoopbackError, LoopbackRedirect
    from mymedic.integrations.zoho.onboarding import (
        BOOKS_SCOPES,
        CRM_SCOPES,
        ConnectRequest,
        OnboardingError,
        connect_with_code,
    )
    from mymedic.integrations.zoho.onboarding import connect as connect_org

    tenant = _checked_tenant(tenant)
    if data_centre not in ACCOUNTS_URLS:
        raise _fail(f"--data-centre is one of {', '.join(ACCOUNTS_URLS)}", 2)
    settings = _settings(data_dir)
    try:
        request = ConnectRequest(
            tenant_id=tenant,
            data_centre=cast("DataCentre", data_centre),
            client_id=client_id,
            client_secret=SecretStr(_client_secret(client_secret_file)),
            scopes=CRM_SCOPES + BOOKS_SCOPES if books else CRM_SCOPES,
            accounts_url=accounts_url,
        )
        secrets = secret_store(settings)
        if code is not None:
            connected = connect_with_code(
                request, code, secrets=secrets, folder=settings.zoho_dir, redirect_uri=redirect_uri
            )
        else:
            with LoopbackRedirect(redirect_uri) as loopback:

                def authorize(url: str) -> dict[str, str]:
                    console.print(
                        "Open this address in a browser on this machine and allow access"
                        f"{'' if no_browser else ' (opening it now)'}:"
                    )
                    sys.stderr.write(url + "\n")
                    if not no_browser:
                        webbrowser.open(url)
                    return loopback.wait(wait_seconds)

                connected = connect_org(
                    request,
                    redirect_uri=loopback.redirect_uri,
                    authorize=authorize,
                    secrets=secrets,
                    folder=settings.zoho_dir,
                )
    except (OnboardingError, LoopbackError) as exc:
        raise _fail(str(exc)) from None
    except BackendUnavailable as exc:
        raise _fail(f"no secret store: {exc}", 2) from None
    _report_connected(connected)


def _report_connected(connected: Connected) -> None:
    connection = connected.connection
    tenant = connection.tenant_id
    console.print(
        f"[green]Connected tenant {tenant} to Zoho[/] (data centre {connection.data_centre}, "
        f"API domain {escape(connection.api_domain or 'from each token')})",
        highlight=False,
    )
    console.print(f"Scopes: {escape(', '.join(connection.scopes))}", highlight=False)
    if not connected.scopes_reported:
        console.print("[yellow]Zoho did not list the granted scopes: those asked for are assumed")
    console.print("In the tenant's secret store: " + ", ".join(connected.stored), highlight=False)
    console.print(f"Connection file: {escape(str(connected.path))}", highlight=False)
    console.print(f"Next: `mymedic zoho mapping init --tenant {tenant}`", highlight=False)


@mapping_app.command("init")
def mapping_init(
    tenant: RequiredTenant,
    out: Annotated[
        Path | None,
        typer.Option(help="Where to write it (default: <tenant>.toml in the Zoho folder)."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
    data_dir: DataDir = None,
) -> None:
    """Write a starter mapping from the org's modules, fields, picklists and users: each
    guess commented, a TODO for each decision left; then say whether it loads."""
    from mymedic.bootstrap import BackendUnavailable, secret_store
    from mymedic.integrations.zoho.client import ZohoClient, ZohoError
    from mymedic.integrations.zoho.connection import ConnectionError_, NotConnected, zoho_config
    from mymedic.integrations.zoho.mapping_init import MappingExists, init_mapping
    from mymedic.integrations.zoho.service import mapping_path

    tenant = _checked_tenant(tenant)
    settings = _settings(data_dir)
    path = out or mapping_path(settings, tenant)
    if path.exists() and not force:
        raise _fail(f"{path} exists: --force to replace it", 2)
    try:
        config = zoho_config(
            settings,
            secret_store(settings),
            tenant,
            settings.zoho_dir,
            default=settings.zoho_tenant_id == tenant,
        )
    except (NotConnected, ConnectionError_, BackendUnavailable) as exc:
        raise _fail(str(exc), 2) from None
    try:
        with ZohoClient(config) as client:
            result = init_mapping(client, config.api_version, tenant, path, force=force)
    except MappingExists as exc:
        raise _fail(str(exc), 2) from None
    except ZohoError as exc:
        raise _fail(f"Zoho: {exc}") from None
    _report_mapping(result, tenant)


def _report_mapping(result: InitResult, tenant: str) -> None:
    modules = ", ".join(f"{module} ({entity})" for module, entity in result.modules)
    console.print(f"Wrote {escape(str(result.path))}: {modules or 'no module'}", highlight=False)
    if result.todos:
        console.print(f"[yellow]TODO ({len(result.todos)}):", highlight=False)
        for line in result.todos:
            console.print(f"  - {escape(line)}", highlight=False)
    if result.loads:
        console.print("[green]It loads as a mapping.")
    else:
        console.print("[yellow]It does not load yet; these keys need you:", highlight=False)
        for line in result.problems:
            console.print(f"  - {escape(line)}", highlight=False)
    console.print(
        "Next: fill in the TODOs, then check it against records of the org: "
        f"`mymedic zoho check-mapping --tenant {tenant}`; then the history: "
        f"`mymedic zoho backfill --tenant {tenant}` (every module, parents first).",
        highlight=False,
    )
