"""The Cloud Functions source bundle (scripts/build_bundle.py): its tree, its
requirements, a byte-identical ZIP on every build, and above all that it deploys: in a
clean virtualenv holding only requirements.txt, with the bundle as the only source,
``main`` imports, functions-framework loads every entry point and the warehouse SQL is
read from the bundle itself."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "build_bundle.py"
FUNCTIONS_MAIN = REPO / "functions" / "main.py"
DEV_DEPENDENCIES = ("pytest", "mypy", "ruff", "hypothesis", "eventsourcing", "sqlfluff")
SIGNATURES = {"http": "http", "cloud_event": "cloudevent"}
PIP_TIMEOUT = 900  # seconds: a cold pip cache downloads grpc, pyarrow, duckdb, google-ads
RUN_TIMEOUT = 300


def build(out: Path, archive: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(out), "--zip", str(archive)],
        capture_output=True,
        text=True,
        check=True,
        timeout=RUN_TIMEOUT,
    )
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def runtime_dependencies() -> list[str]:
    with (REPO / "pyproject.toml").open("rb") as handle:
        deps: list[str] = tomllib.load(handle)["project"]["dependencies"]
    return deps


def entry_points(source: Path) -> dict[str, str]:
    """Each function decorated with functions_framework.http or .cloud_event, by name,
    with its functions-framework signature type."""
    found: dict[str, str] = {}
    for node in ast.parse(source.read_text(encoding="utf-8")).body:
        if not isinstance(node, ast.FunctionDef):
            continue
        for decorator in node.decorator_list:
            target = decorator.func if isinstance(decorator, ast.Call) else decorator
            if (
                isinstance(target, ast.Attribute)
                and isinstance(target.value, ast.Name)
                and target.value.id == "functions_framework"
                and target.attr in SIGNATURES
            ):
                found[node.name] = SIGNATURES[target.attr]
    return found


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, Any]]:
    base = tmp_path_factory.mktemp("bundle")
    out, archive = base / "bundle", base / "function-source.zip"
    return out, archive, build(out, archive)


def test_bundle_tree(built: tuple[Path, Path, dict[str, Any]]) -> None:
    out, _, _ = built
    assert (out / "main.py").read_bytes() == FUNCTIONS_MAIN.read_bytes()
    assert (out / "mymedic" / "__init__.py").is_file()
    assert (out / "mymedic" / "entrypoints.py").is_file()
    tables = sorted(p.name for p in (out / "mymedic" / "sql" / "tables").glob("*.sql"))
    assert tables == sorted(p.name for p in (REPO / "bigquery" / "tables").glob("*.sql"))
    assert tables
    for layer in ("marts", "reports"):
        assert list((out / "mymedic" / "sql" / layer).glob("*.sql")), layer
    example = out / "mymedic" / "integrations" / "zoho" / "mappings" / "examples" / "minimal.toml"
    assert example.is_file()
    assert (out / "mymedic" / "demo" / "zoho" / "sunrise-imaging.toml").is_file()
    assert (out / "zoho").is_dir()  # the deployment's Zoho tenants (none given here)
    assert not list(out.rglob("__pycache__"))
    assert not list(out.rglob("*.pyc"))
    assert not (out / ".gcloudignore").exists()


def test_requirements_are_the_runtime_dependencies(
    built: tuple[Path, Path, dict[str, Any]],
) -> None:
    out, _, _ = built
    text = (out / "requirements.txt").read_text(encoding="utf-8")
    assert text.startswith("#")
    assert "generated" in text.splitlines()[0].lower()
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    expected = runtime_dependencies()
    assert sorted(lines) == sorted(expected)
    assert lines == sorted(lines, key=str.lower)
    for dev in DEV_DEPENDENCIES:
        assert not any(line.lower().startswith(dev) for line in lines), dev


def test_zip_is_byte_identical_across_builds(
    built: tuple[Path, Path, dict[str, Any]], tmp_path: Path
) -> None:
    _, archive, report = built
    again = build(tmp_path / "bundle", tmp_path / "again.zip")
    assert (tmp_path / "again.zip").read_bytes() == archive.read_bytes()
    assert again["sha256"] == report["sha256"]
    assert report["size"] == archive.stat().st_size
    assert Path(report["path"]) == archive


CHECK = textwrap.dedent(
    """
    import importlib, json, pkgutil, sys
    from pathlib import Path

    bundle = Path.cwd().resolve()
    expected = json.loads(sys.argv[1])

    def inside(path):
        return Path(path).resolve().is_relative_to(bundle)

    import main
    import mymedic
    from functions_framework import create_app
    from mymedic.adapters import sql_catalog
    from mymedic.integrations.zoho.mapping import MAPPINGS_DIR

    assert inside(main.__file__), main.__file__
    assert inside(sql_catalog.__file__), sql_catalog.__file__
    for name, signature in expected.items():
        assert callable(getattr(main, name, None)), name
        app = create_app(target=name, source="main.py", signature_type=signature)
        assert app is not None, name
    root = sql_catalog.sql_root()
    assert inside(root), root
    files = sql_catalog.sql_files()
    assert {f.layer for f in files} == set(sql_catalog.LAYERS), files
    assert sql_catalog.table_defs(), "no table DDL"
    assert inside(MAPPINGS_DIR) and list(MAPPINGS_DIR.glob("examples/*.toml")), MAPPINGS_DIR
    # Every module imports with the runtime dependencies alone (__main__ would run the CLI).
    modules = [m.name for m in pkgutil.walk_packages(mymedic.__path__, "mymedic.")]
    for module in modules:
        if not module.endswith(".__main__"):
            assert inside(importlib.import_module(module).__file__), module
    print(json.dumps({"entry_points": sorted(expected), "sql_files": len(files)}))
    """
)


def clean_env() -> dict[str, str]:
    """The environment without anything that would add to the venv's sys.path."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV"}
    }
    env["PYTHONNOUSERSITE"] = "1"
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def test_bundle_deploys_into_a_clean_virtualenv(
    built: tuple[Path, Path, dict[str, Any]], tmp_path: Path
) -> None:
    out, _, _ = built
    expected = entry_points(FUNCTIONS_MAIN)
    assert len(expected) >= 10, expected  # the parser still finds the entry points
    assert set(expected.values()) == {"http", "cloudevent"}

    home = tmp_path / "venv"
    # The test's own interpreter; never --system-site-packages: only requirements.txt.
    subprocess.run(
        [sys.executable, "-m", "venv", str(home)], env=clean_env(), check=True, timeout=RUN_TIMEOUT
    )
    python = home / "bin" / "python"
    env = clean_env()
    pip = subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-r",
            str(out / "requirements.txt"),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=PIP_TIMEOUT,
        check=False,
    )
    assert pip.returncode == 0, pip.stdout + pip.stderr

    # `-c` puts the working directory (the bundle) first on sys.path, as the runtime does;
    # no bytecode, so the bundle the other tests inspect stays as built.
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    run = subprocess.run(
        [str(python), "-c", CHECK, json.dumps(expected)],
        cwd=out,
        capture_output=True,
        text=True,
        env=env,
        timeout=RUN_TIMEOUT,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["entry_points"] == sorted(expected)
    assert result["sql_files"] > 0


def test_the_deployment_s_zoho_tenants_are_bundled(tmp_path: Path) -> None:
    """Mappings and connection files go to zoho/, where the functions look (terraform
    sets MYMEDIC_ZOHO_MAPPING_DIR); nothing else of the folder does."""
    folder = tmp_path / "zoho-tenants"
    folder.mkdir()
    (folder / "clinic-a.toml").write_text("# a mapping\n", encoding="utf-8")
    (folder / "clinic-a.connection.toml").write_text("# its connection\n", encoding="utf-8")
    (folder / ".clinic-a.toml.swp").write_text("editor litter\n", encoding="utf-8")
    (folder / "notes.txt").write_text("not configuration\n", encoding="utf-8")
    out = tmp_path / "bundle"
    command = [sys.executable, str(SCRIPT), "--out", str(out), "--zip", str(tmp_path / "z.zip")]
    subprocess.run(
        [*command, "--zoho-dir", str(folder)],
        capture_output=True,
        check=True,
        timeout=RUN_TIMEOUT,
    )
    assert sorted(p.name for p in (out / "zoho").iterdir()) == [
        "clinic-a.connection.toml",
        "clinic-a.toml",
    ]
    env = (REPO / "terraform" / "main.tf").read_text(encoding="utf-8")
    assert 'MYMEDIC_ZOHO_MAPPING_DIR             = "zoho"' in env
