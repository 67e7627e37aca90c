"""``mymedic dashboard``: the Looker Studio dashboards previewed as local HTML from the
embedded warehouse (``--open`` shows it), or ``--links``: the Linking API URL that
creates each one in Looker Studio over the BigQuery views, or ``--custom-queries DIR``:
the SQL of each headline data source as a Looker Studio custom query."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mymedic.cli_common import DataDir, console, settings_for

if TYPE_CHECKING:
    from mymedic.dashboards.model import Dashboard


def dashboard(
    *,
    out: Annotated[
        Path, typer.Option(help="Folder of the preview (its index.html and pages).")
    ] = Path("out/dashboard"),
    tenant: Annotated[
        list[str] | None, typer.Option(help="Preview this tenant (repeat); default: all.")
    ] = None,
    open_browser: Annotated[
        bool, typer.Option("--open", help="Open the preview in the browser.")
    ] = False,
    links: Annotated[
        bool, typer.Option("--links", help="Print the Looker Studio Linking API URLs instead.")
    ] = False,
    project: Annotated[str | None, typer.Option(help="BigQuery project (--links).")] = None,
    dataset: Annotated[str | None, typer.Option(help="BigQuery dataset (--links).")] = None,
    template_report_id: Annotated[
        list[str] | None,
        typer.Option(help="Template report: ID for every dashboard or NAME=ID (repeat)."),
    ] = None,
    custom_queries: Annotated[
        Path | None,
        typer.Option(
            help="Write each headline data source's custom query to DIR/<dashboard>/<alias>.sql"
            " (with --project and --dataset) instead."
        ),
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Preview the dashboards as HTML, or print the URLs that create them in Looker Studio."""
    from mymedic.dashboards.model import load_dashboards

    dashboards = load_dashboards()
    if links:
        _print_links(dashboards, project, dataset, template_report_id or [])
        return
    if custom_queries is not None:
        _write_custom_queries(dashboards, project, dataset, custom_queries)
        return
    import webbrowser

    from mymedic.bootstrap import bootstrap
    from mymedic.dashboards.preview import write_preview

    platform = bootstrap(settings_for(data_dir), dispatch_after_commit=False)
    try:
        platform.catch_up()
        index = write_preview(platform.warehouse, out, tenant or None, dashboards)
    finally:
        platform.close()
    typer.echo(f"dashboards: {index}")
    if open_browser:
        webbrowser.open(index.resolve().as_uri())


def _print_links(
    dashboards: tuple[Dashboard, ...],
    project: str | None,
    dataset: str | None,
    templates: list[str],
) -> None:
    from mymedic.dashboards.linking import linking_url

    if not project or not dataset:
        console.print("[red]--links needs --project and --dataset")
        raise typer.Exit(2)
    try:
        by_name = _templates(templates, [d.name for d in dashboards])
        for board in dashboards:
            console.print(f"{board.name}: {board.title}")
            typer.echo(linking_url(board, project, dataset, by_name.get(board.name)))
    except ValueError as exc:
        console.print(f"[red]{exc}")
        raise typer.Exit(2) from None


def _write_custom_queries(
    dashboards: tuple[Dashboard, ...], project: str | None, dataset: str | None, out: Path
) -> None:
    from mymedic.dashboards.linking import custom_query, linking_parameters

    if not project or not dataset:
        console.print("[red]--custom-queries needs --project and --dataset")
        raise typer.Exit(2)
    for board in dashboards:
        try:
            linking_parameters(board, project, dataset)  # checks the project and dataset ids
        except ValueError as exc:
            console.print(f"[red]{exc}")
            raise typer.Exit(2) from None
        for alias, source in board.data_sources.items():
            if source.kind != "headline":
                continue
            path = out / board.name / f"{alias}.sql"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(custom_query(source, f"{project}.{dataset}"), encoding="utf-8")
            typer.echo(str(path))


def _templates(values: list[str], names: list[str]) -> dict[str, str]:
    """``ID`` (every dashboard) or ``NAME=ID`` options as a template id per dashboard."""
    chosen: dict[str, str] = {}
    for value in values:
        name, sep, report_id = value.partition("=")
        if not sep:
            chosen |= dict.fromkeys(names, value)
        elif name in names and report_id:
            chosen[name] = report_id
        else:
            raise ValueError(f"--template-report-id {value!r}: NAME=ID with NAME one of {names}")
    return chosen
