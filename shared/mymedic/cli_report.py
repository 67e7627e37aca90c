"""``mymedic report NAME --tenant T --from D --to D --format csv|json|xlsx`` and
``mymedic report --list``: a report of the embedded warehouse, brought up to date first.

The CLI runs as the install's administrator, who may read every tenant; that is asked
for in words (``--all-tenants``), never by leaving ``--tenant`` out. CSV and XLSX show
money in major units beside its currency; JSON keeps the integer minor units."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from mymedic.cli_common import DataDir, console, settings_for

FORMATS = ("csv", "json", "xlsx")
TENANT_CHOICE = (
    "give --tenant TENANT for one tenant's rows, or --all-tenants for every tenant's (not both)"
)


def report(
    name: Annotated[
        str | None, typer.Argument(help="Report name, e.g. patient-volume (see --list).")
    ] = None,
    *,
    tenant: Annotated[
        str | None, typer.Option(help="The tenant (required unless --all-tenants).")
    ] = None,
    all_tenants: Annotated[
        bool, typer.Option("--all-tenants", help="Every tenant (the install's administrator).")
    ] = False,
    start: Annotated[
        str | None, typer.Option("--from", help="First day, YYYY-MM-DD (with --to).")
    ] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last day, YYYY-MM-DD.")] = None,
    output_format: Annotated[str, typer.Option("--format", help="csv, json or xlsx.")] = "csv",
    out: Annotated[Path | None, typer.Option(help="Write here instead of standard output.")] = None,
    list_reports: Annotated[bool, typer.Option("--list", help="List the reports.")] = False,
    data_dir: DataDir = None,
) -> None:
    """Print a report (CSV, JSON) or write it (XLSX) for a tenant and a date range."""
    from mymedic.reports.catalog import REPORTS, BadRange, UnknownReport, report, run

    if list_reports:
        _print_list()
        return
    if name is None:
        console.print(f"[red]name a report: {', '.join(spec.name for spec in REPORTS)}")
        raise typer.Exit(2)
    if output_format not in FORMATS:
        console.print(f"[red]--format is one of {', '.join(FORMATS)}")
        raise typer.Exit(2)
    if (tenant is not None) == all_tenants:  # exactly one of the two
        console.print(f"[red]{TENANT_CHOICE}", soft_wrap=True)
        raise typer.Exit(2)
    try:
        spec = report(name)
        first, last = _day(start, "--from"), _day(end, "--to")
    except (UnknownReport, ValueError) as exc:
        console.print(f"[red]{exc.args[0]}")
        raise typer.Exit(2) from None
    from mymedic.bootstrap import bootstrap

    platform = bootstrap(settings_for(data_dir), dispatch_after_commit=False)
    try:
        platform.catch_up()
        columns, rows = run(platform.warehouse, spec, tenant, first, last, now=platform.clock())
    except BadRange as exc:
        console.print(f"[red]{exc.args[0]}")
        raise typer.Exit(2) from None
    finally:
        platform.close()
    scope: dict[str, object] = {"tenant": tenant, "from": first, "to": last}
    _emit(spec.view, columns, rows, output_format, out=out, scope=scope)


def _day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{option} {value!r} is not a date (YYYY-MM-DD)") from None


def _emit(
    view: str,
    columns: list[str],
    rows: list[dict[str, object]],
    output_format: str,
    *,
    out: Path | None,
    scope: dict[str, object],
) -> None:
    from mymedic.reports.export import to_csv, to_json, to_xlsx
    from mymedic.reports.people import for_people

    if output_format == "xlsx":
        data = to_xlsx(for_people(view, columns, rows), view)
        if out is None and sys.stdout.isatty():
            console.print("[red]an XLSX workbook is binary: give --out FILE or redirect")
            raise typer.Exit(2)
        if out is None:
            sys.stdout.buffer.write(data)
        else:
            out.write_bytes(data)
        return
    if output_format == "csv":
        text = to_csv(for_people(view, columns, rows))
    else:
        text = to_json(rows, {"report": view, **scope, "columns": columns}) + "\n"
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")


def _print_list() -> None:
    from rich.console import Console

    from mymedic.reports.catalog import REPORTS, source

    table = Table(title="Reports (mymedic report NAME --tenant T --from D --to D)")
    for heading in ("name", "view", "read from", "date column", "what it shows"):
        table.add_column(heading)
    for spec in REPORTS:
        read_from = source(spec)
        table.add_row(
            spec.name,
            spec.view,
            "the view" if read_from == spec.view else f"{read_from} (materialized)",
            f"{spec.date_column} ({spec.grain})",
            spec.title,
        )
    Console(width=150).print(table)
