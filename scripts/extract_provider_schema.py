"""Extract the google provider's argument schema for the resource types terraform/ uses.

Terraform cannot download providers here (so no ``terraform providers schema``), but
the CDK for Terraform bindings on PyPI (``cdktf-cdktf-provider-google``) carry the
provider schema: the wheel holds a jsii assembly (``_jsii/*.jsii.tgz``, a tarball with
``package/.jsii``, JSON), which has for every resource and data source a class (base
``cdktf.TerraformResource`` / ``cdktf.TerraformDataSource``) whose docs link names the
Terraform type and the provider version
(``registry.terraform.io/providers/hashicorp/google/<version>/docs/resources/<type>``),
and whose ``config`` parameter is a struct: one property per argument, ``optional``
unless required. The Terraform name of a property (jsii names are camelCase) is the
anchor of its docs link (``...#service_config Cloudfunctions2Function#service_config``).
A property whose type is another struct is a nested block: that struct directly means
at most one block (``max_items`` 1), a list of it any number; a required block needs
at least one (``min_items`` 1; the bindings do not carry other minimums).

Writes a small JSON (only the types terraform/ uses, plus ``--type``): per type, its
``arguments`` (name: required?) and ``blocks`` (name: required, min/max items, and
their own arguments and blocks):
    python scripts/extract_provider_schema.py [--package-version 16.12.1] [--type T ...]
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import re
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "cdktf-cdktf-provider-google"
# The last release of the prebuilt bindings: hashicorp/google 6.50.0.
DEFAULT_PACKAGE_VERSION = "16.12.1"
OUT_DIR = ROOT / "terraform" / "provider-schema"

_DOC_LINK = re.compile(
    r"registry\.terraform\.io/providers/hashicorp/google/(?P<version>[\w.-]+)/docs/"
    r"(?P<kind>resources|data-sources)/(?P<type>\w+)"
)
_ANCHOR = re.compile(r"#(?P<name>[a-z0-9_]+) [A-Za-z0-9]+#(?P=name)\}")
_BLOCK_TYPES = re.compile(r"^\s*(resource|data)\s+\"(?P<type>[\w-]+)\"", re.MULTILINE)

Json = dict[str, Any]


def download_wheel(version: str, into: Path) -> Path:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--only-binary=:all:",
            f"{PACKAGE}=={version}",
            "-d",
            str(into),
        ],
        check=True,
    )
    wheels = sorted(into.glob("*.whl"))
    if len(wheels) != 1:
        raise SystemExit(f"expected one wheel in {into}, found {wheels}")
    return wheels[0]


def read_assembly(wheel: Path) -> Json:
    with zipfile.ZipFile(wheel) as archive:
        names = [n for n in archive.namelist() if "/_jsii/" in n and n.endswith(".tgz")]
        if len(names) != 1:
            raise SystemExit(f"no single jsii tarball in {wheel.name}: {names}")
        tarball = archive.read(names[0])
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as tar:

        def member(name: str) -> bytes:
            extracted = tar.extractfile(name)
            if extracted is None:
                raise SystemExit(f"{name} missing from {names[0]}")
            return extracted.read()

        assembly: Json = json.loads(member("package/.jsii"))
        # A large assembly may be a redirect to a compressed file beside it.
        if assembly.get("schema") == "jsii/file-redirect":
            data = member(f"package/{assembly['filename']}")
            if assembly.get("compression") == "gzip":
                data = gzip.decompress(data)
            assembly = json.loads(data)
    return assembly


def camel_to_snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def terraform_name(prop: Json) -> str:
    docs = prop.get("docs", {})
    text = f"{docs.get('summary', '')} {docs.get('remarks', '')}"
    match = _ANCHOR.search(text)
    return match.group("name") if match else camel_to_snake(prop["name"])


def struct_of(type_ref: Json, types: dict[str, Json]) -> tuple[str, bool] | None:
    """(struct fqn, is_list) when the property is a nested block, else None."""
    fqn = type_ref.get("fqn")
    if fqn and types.get(fqn, {}).get("datatype"):
        return fqn, False
    for option in type_ref.get("union", {}).get("types", []):
        element = option.get("collection", {}).get("elementtype", {})
        if option.get("collection", {}).get("kind") == "array":
            found = element.get("fqn")
            if found and types.get(found, {}).get("datatype"):
                return found, True
    return None


def struct_schema(fqn: str, types: dict[str, Json], depth: int = 0) -> Json:
    if depth > 20:
        raise SystemExit(f"nesting too deep at {fqn}")
    arguments: Json = {}
    nested: Json = {}
    for prop in types[fqn].get("properties", []):
        name = terraform_name(prop)
        required = not prop.get("optional", False)
        block = struct_of(prop["type"], types)
        if block is None:
            arguments[name] = required
            continue
        block_fqn, is_list = block
        spec = struct_schema(block_fqn, types, depth + 1)
        nested[name] = {
            "required": required,
            "min_items": 1 if required else 0,
            "max_items": None if is_list else 1,
            **spec,
        }
    return {"arguments": dict(sorted(arguments.items())), "blocks": dict(sorted(nested.items()))}


def provider_types(assembly: Json) -> tuple[str, dict[tuple[str, str], str]]:
    """The provider version and, per (mode, terraform type), the config struct's fqn."""
    types: dict[str, Json] = assembly["types"]
    versions: set[str] = set()
    configs: dict[tuple[str, str], str] = {}
    for spec in types.values():
        base = spec.get("base")
        if base not in {"cdktf.TerraformResource", "cdktf.TerraformDataSource"}:
            continue
        match = _DOC_LINK.search(spec.get("docs", {}).get("summary", ""))
        if not match:
            continue
        versions.add(match.group("version"))
        mode = "data" if match.group("kind") == "data-sources" else "resource"
        params = spec.get("initializer", {}).get("parameters", [])
        config = next((p["type"]["fqn"] for p in params if p["name"] == "config"), None)
        if config:
            configs[(mode, f"google_{match.group('type')}")] = config
    if len(versions) != 1:
        raise SystemExit(f"the bindings name several provider versions: {sorted(versions)}")
    return versions.pop(), configs


def used_types(terraform_dir: Path) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for path in sorted(terraform_dir.rglob("*.tf")):
        for match in _BLOCK_TYPES.finditer(path.read_text(encoding="utf-8")):
            found.add((match.group(1), match.group("type")))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--package-version", default=DEFAULT_PACKAGE_VERSION)
    parser.add_argument("--terraform-dir", type=Path, default=ROOT / "terraform")
    parser.add_argument("--out-dir", type=Path, default=OUT_DIR)
    parser.add_argument("--wheel", type=Path, help="a downloaded wheel (skips pip download)")
    parser.add_argument(
        "--type", action="append", default=[], help="also extract this resource type"
    )
    args = parser.parse_args(argv)

    wanted = used_types(args.terraform_dir) | {("resource", t) for t in args.type}
    if not wanted:
        raise SystemExit(f"no resource types found under {args.terraform_dir}")
    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel or download_wheel(args.package_version, Path(tmp))
        assembly = read_assembly(wheel)
    provider_version, configs = provider_types(assembly)
    types: dict[str, Json] = assembly["types"]
    out: Json = {
        "provider": "hashicorp/google",
        "provider_version": provider_version,
        "extracted_from": f"{PACKAGE}=={assembly['version']}",
        "resource": {},
        "data": {},
    }
    missing = []
    for mode, type_ in sorted(wanted):
        fqn = configs.get((mode, type_))
        if fqn is None:
            missing.append(f"{mode} {type_}")
            continue
        out[mode][type_] = struct_schema(fqn, types)
    if missing:
        print(f"not in the bindings (typo or a newer provider?): {missing}", file=sys.stderr)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    target = args.out_dir / f"google-{provider_version}.json"
    target.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(
        f"{target.relative_to(ROOT) if target.is_relative_to(ROOT) else target}: "
        f"{len(out['resource'])} resource and {len(out['data'])} data source types, "
        f"provider {provider_version}"
    )
    return 1 if missing else 0


if __name__ == "__main__":
    raise SystemExit(main())
