"""``mymedic jobs run NAME [--arg key=value ...]`` and ``mymedic jobs list``: the
scheduled jobs, run by hand on the local backend, exactly as Cloud Scheduler runs them
through the jobs function (same code, same answers)."""

from __future__ import annotations

import sys
from typing import Annotated

import orjson
import typer

from mymedic.cli_common import DataDir, console, settings_for

jobs_app = typer.Typer(help="Scheduled jobs, run by hand.", no_args_is_help=True)


@jobs_app.command("list")
def list_jobs() -> None:
    """The jobs Cloud Scheduler runs."""
    from mymedic.entrypoints import JOBS

    for name in JOBS:
        typer.echo(name)


@jobs_app.command("run")
def run(
    name: Annotated[str, typer.Argument(help="The job, e.g. projection-catch-up.")],
    args: Annotated[
        list[str] | None, typer.Option("--arg", help="key=value, as the job's query string.")
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Run one job and print its answer (JSON); exit 1 unless it succeeded."""
    from mymedic import entrypoints
    from mymedic.bootstrap import bootstrap

    if name not in entrypoints.JOBS:
        console.print(f"[red]no job {name!r}; known: {', '.join(entrypoints.JOBS)}")
        raise typer.Exit(2)
    values: dict[str, str] = {}
    for pair in args or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            console.print(f"[red]--arg {pair!r} is not key=value")
            raise typer.Exit(2)
        values[key] = value
    platform = bootstrap(settings_for(data_dir))
    entrypoints.use_platform(platform)
    try:
        result = entrypoints.run_job(name, values.get)
    finally:
        entrypoints.use_platform(None)
        platform.close()
    sys.stdout.write(orjson.dumps(result.body, option=orjson.OPT_INDENT_2).decode() + "\n")
    if result.status >= 300:
        raise typer.Exit(1)
