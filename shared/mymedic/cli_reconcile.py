"""``mymedic reconcile --date D``: the settlement report of a day, per branch and currency,
and the items left unmatched on either side. The result also replaces the day's
``reconciliation`` documents of the finance console."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.console import Console
from rich.table import Table

from mymedic.domain.reconciliation import DayReconciliation

COLUMNS = (
    ("expected", "expected_minor"),
    ("captured", "captured_minor"),
    ("fees", "fees_minor"),
    ("tax", "tax_minor"),
    ("settled", "settled_minor"),
    ("cash", "cash_minor"),
    ("refunds", "refunds_minor"),
    ("reversals", "reversals_minor"),
    ("forfeited", "forfeitures_minor"),
    ("deposits held", "deposits_held_minor"),
    ("outstanding", "outstanding_minor"),
)


def reconcile(
    *,
    day: Annotated[str, typer.Option("--date", help="The branch-local day, YYYY-MM-DD.")],
    tenant: Annotated[str | None, typer.Option(help="Only this tenant.")] = None,
    branch: Annotated[str | None, typer.Option(help="Only this branch.")] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Judge late settlements as of (default today).")
    ] = None,
    settle_within_days: Annotated[
        int, typer.Option(help="Days a capture may wait for its settlement.")
    ] = 3,
    output_format: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="Where the local backend keeps its files.")
    ] = None,
) -> None:
    """Reconcile a day: what we recorded against the gateways' captures and settlements."""
    from mymedic.app.reconcile import run_day, write
    from mymedic.bootstrap import bootstrap
    from mymedic.settings import Settings

    console = Console(stderr=True)
    if output_format not in ("table", "json"):
        console.print("[red]--format is table or json")
        raise typer.Exit(2)
    try:
        the_day = date.fromisoformat(day)
        judged = date.fromisoformat(as_of) if as_of else None
    except ValueError:
        console.print("[red]dates are YYYY-MM-DD")
        raise typer.Exit(2) from None
    settings = Settings()
    if data_dir:
        settings = settings.model_copy(update={"data_dir": data_dir})
    platform = bootstrap(settings, dispatch_after_commit=False)
    try:
        results = run_day(
            platform.store,
            the_day,
            as_of=judged or platform.clock().date(),
            tenant=tenant,
            branch=branch,
            settle_within_days=settle_within_days,
        )
        write(platform.documents, results, the_day, [tenant] if tenant else [], branch)
    finally:
        platform.close()
    if output_format == "json":
        docs = [result.to_document() for result in results]
        sys.stdout.write(orjson.dumps(docs, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        print_report(results, the_day, Console())


def print_report(results: list[DayReconciliation], day: date, console: Console) -> None:
    table = Table(title=f"Settlement report {day.isoformat()} (minor units)")
    for heading in ("tenant", "branch", "currency", *(c[0] for c in COLUMNS), "unmatched"):
        table.add_column(heading, justify="left" if heading in {"tenant", "branch"} else "right")
    for result in results:
        doc = result.to_document()
        table.add_row(
            result.tenant_id,
            result.branch_id,
            result.currency,
            *(str(doc[name]) for _, name in COLUMNS),
            str(len(result.unmatched)),
        )
    console.print(table)
    items = Table(title="Unmatched items")
    for heading in ("branch", "side", "reason", "reference", "amount", "detail"):
        items.add_column(heading)
    for result in results:
        for item in result.unmatched:
            amount = "" if item.amount_minor is None else f"{item.amount_minor} {result.currency}"
            items.add_row(
                result.branch_id, item.side, item.reason, item.reference, amount, item.detail
            )
    console.print(items)
