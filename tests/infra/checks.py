"""Offline checks that a Terraform root module matches the code.

Each check takes a loaded module and the directory holding ``terraform/`` and
``bigquery/`` and returns a list of problems (empty: consistent). The facts about the
code (entry points, projections, jobs, secret settings) come from the package itself.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import sqlglot
from pydantic import SecretStr
from sqlglot import exp

from tests.infra.hcl import (
    META_ARGUMENTS,
    Instance,
    Module,
    Resource,
    Unresolvable,
    body_items,
    is_block,
    is_dynamic,
)

REPO = Path(__file__).resolve().parents[2]

FUNCTION = "google_cloudfunctions2_function"
SERVICE_ACCOUNT = "google_service_account"
TOPIC = "google_pubsub_topic"
SUBSCRIPTION = "google_pubsub_subscription"
SECRET = "google_secret_manager_secret"  # noqa: S105 - a resource type
SECRET_ACCESS = "google_secret_manager_secret_iam_member"  # noqa: S105
SCHEDULER_JOB = "google_cloud_scheduler_job"
TABLE = "google_bigquery_table"

DEAD_LETTER_HOLD = "dead-letter-hold"
PUBSUB_AGENT = "gcp-sa-pubsub"
_ADDRESS = re.compile(r"(?:data\.)?google_\w+\.\w+(?:\[(?:\"[^\"]*\"|\d+)\])?")


# -- facts from the code ---------------------------------------------------------------------


@dataclass(frozen=True)
class CodeFacts:
    entry_points: frozenset[str]
    topic: str
    projections: frozenset[str]
    jobs: tuple[str, ...]
    secret_fields: frozenset[str]


@cache
def code_facts() -> CodeFacts:
    from mymedic.entrypoints import JOBS
    from mymedic.settings import Settings

    tree = ast.parse((REPO / "functions" / "main.py").read_text(encoding="utf-8"))
    entry_points = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            for decorator in node.decorator_list:
                target = decorator.func if isinstance(decorator, ast.Call) else decorator
                if (
                    isinstance(target, ast.Attribute)
                    and isinstance(target.value, ast.Name)
                    and target.value.id == "functions_framework"
                    and target.attr in {"http", "cloud_event"}
                ):
                    entry_points.add(node.name)
    projections = set()
    for path in sorted((REPO / "shared" / "mymedic" / "app").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and node.name.endswith("Projection"):
                for stmt in node.body:
                    if (
                        isinstance(stmt, ast.Assign)
                        and [getattr(t, "id", None) for t in stmt.targets] == ["name"]
                        and isinstance(stmt.value, ast.Constant)
                        and isinstance(stmt.value.value, str)
                    ):
                        projections.add(stmt.value.value)
    secret_fields = {
        name
        for name, info in Settings.model_fields.items()
        if SecretStr in (getattr(info.annotation, "__args__", None) or (info.annotation,))
    }
    topic = Settings.model_fields["pubsub_topic"].default
    return CodeFacts(
        frozenset(entry_points),
        str(topic),
        frozenset(projections),
        tuple(JOBS),
        frozenset(secret_fields),
    )


def secret_id(field: str) -> str:
    return "mymedic-" + field.replace("_", "-")


def env_key(field: str) -> str:
    return "MYMEDIC_" + field.upper()


# -- helpers ----------------------------------------------------------------------------------


class Model:
    """A module's instances, indexed by address, with problems met while expanding."""

    def __init__(self, module: Module) -> None:
        self.module = module
        self.problems: list[str] = []
        self.by_type: dict[str, list[Instance]] = {}
        self.by_address: dict[str, Instance] = {}
        for resource in module.all_resources():
            try:
                instances = module.instances(resource)
            except Unresolvable as exc:
                self.problems.append(str(exc))
                continue
            self.by_type.setdefault(resource.type, []).extend(instances)
            for instance in instances:
                self.by_address[instance.address] = instance

    def of(self, type_: str) -> list[Instance]:
        return self.by_type.get(type_, [])

    def value(
        self,
        instance: Instance,
        attribute: str,
        body: dict[str, Any] | None = None,
        scope: dict[str, Any] | None = None,
    ) -> Any:
        source = instance.resource.body if body is None else body
        if attribute not in source:
            return None
        return self.module.evaluate(source[attribute], instance.scope if scope is None else scope)

    def text(
        self,
        instance: Instance,
        attribute: str,
        body: dict[str, Any] | None = None,
        scope: dict[str, Any] | None = None,
    ) -> str | None:
        source = instance.resource.body if body is None else body
        if attribute not in source:
            return None
        return self.module.text(source[attribute], instance.scope if scope is None else scope)

    def where(self, instance: Instance) -> str:
        return f"{instance.resource.file}: {instance.address}"

    def referenced(self, text: str, type_: str) -> list[Instance]:
        """The instances of ``type_`` a string refers to (``${type.name["key"].attr}``)."""
        found = []
        for match in _ADDRESS.finditer(text):
            address = match.group()
            if not address.startswith(type_ + "."):
                continue
            instance = self.by_address.get(address)
            if instance is None and "[" not in address:
                # type.name without a key: the resource itself when it has no for_each
                instance = self.by_address.get(address)
            if instance is not None:
                found.append(instance)
        return found

    def named(self, type_: str, attribute: str) -> dict[str, Instance]:
        out: dict[str, Instance] = {}
        for instance in self.of(type_):
            try:
                value = self.text(instance, attribute)
            except Unresolvable as exc:
                self.problems.append(f"{self.where(instance)}: {attribute}: {exc}")
                continue
            if value is not None:
                out[value] = instance
        return out

    def resolve(self, text: str, type_: str, by_name: dict[str, Instance]) -> Instance | None:
        """A reference or a literal name (or id ending in /name) to an instance."""
        refs = self.referenced(text, type_)
        if refs:
            return refs[0]
        return by_name.get(text) or by_name.get(text.rsplit("/", 1)[-1])


def _first(items: list[Any]) -> Any:
    return items[0] if items else None


# -- functions ------------------------------------------------------------------------------


def function_entry_points(model: Model) -> dict[str, Instance]:
    out: dict[str, Instance] = {}
    for instance in model.of(FUNCTION):
        builds = model.module.nested(instance.resource.body, "build_config", instance.scope)
        if not builds:
            model.problems.append(f"{model.where(instance)}: no build_config")
            continue
        body, scope = builds[0]
        try:
            entry = model.text(instance, "entry_point", body, scope)
        except Unresolvable as exc:
            model.problems.append(f"{model.where(instance)}: build_config.entry_point: {exc}")
            continue
        if entry is None:
            model.problems.append(f"{model.where(instance)}: build_config.entry_point not set")
            continue
        if entry in out:
            model.problems.append(f"{model.where(instance)}: entry point {entry} deployed twice")
        out[entry] = instance
    return out


def function_service_account(model: Model, instance: Instance) -> Instance | None:
    configs = model.module.nested(instance.resource.body, "service_config", instance.scope)
    if not configs:
        return None
    body, scope = configs[0]
    text = model.text(instance, "service_account_email", body, scope) or ""
    return _first(model.referenced(text, SERVICE_ACCOUNT))


def check_functions(module: Module, root: Path) -> list[str]:
    model = Model(module)
    facts = code_facts()
    deployed = function_entry_points(model)
    problems = list(model.problems)
    for name in sorted(facts.entry_points - deployed.keys()):
        problems.append(f"entry point {name} of functions/main.py has no {FUNCTION}")
    for name in sorted(deployed.keys() - facts.entry_points):
        problems.append(f"{model.where(deployed[name])}: entry point {name} is not in main.py")
    accounts: dict[str, str] = {}
    for name, instance in sorted(deployed.items()):
        where = model.where(instance)
        configs = module.nested(instance.resource.body, "service_config", instance.scope)
        if not configs:
            problems.append(f"{where}: no service_config")
            continue
        body, scope = configs[0]
        for attribute in (
            "available_memory",
            "timeout_seconds",
            "max_instance_count",
            "ingress_settings",
        ):
            try:
                value = model.value(instance, attribute, body, scope)
            except Unresolvable as exc:
                problems.append(f"{where}: service_config.{attribute}: {exc}")
                continue
            if value in (None, ""):
                problems.append(f"{where}: service_config.{attribute} is not set")
        try:
            account = function_service_account(model, instance)
        except Unresolvable as exc:
            problems.append(f"{where}: service_account_email: {exc}")
            continue
        if account is None:
            problems.append(f"{where}: service_account_email names no {SERVICE_ACCOUNT}")
        elif account.address in accounts:
            problems.append(
                f"{where}: shares {account.address} with {accounts[account.address]}: "
                "each function has its own service account"
            )
        else:
            accounts[account.address] = name
    return problems


# -- pub/sub ---------------------------------------------------------------------------------


def _labels(model: Model, instance: Instance) -> dict[str, Any]:
    labels = model.value(instance, "labels")
    return labels if isinstance(labels, dict) else {}


def _is_pubsub_agent(model: Model, member: str) -> bool:
    if PUBSUB_AGENT in member:
        return True
    for identity in model.referenced(member, "google_project_service_identity"):
        if model.text(identity, "service") == "pubsub.googleapis.com":
            return True
    return False


def _iam_grants(
    model: Model, type_: str, target_attribute: str, role: str
) -> list[tuple[Instance, str, str]]:
    """(instance, target text, member text) of the IAM members of ``type_`` with ``role``,
    bindings expanded to one entry per member."""
    out = []
    for binding_type, members_attribute in (
        (type_, "member"),
        (type_.replace("_member", "_binding"), "members"),
    ):
        for instance in model.of(binding_type):
            try:
                if model.text(instance, "role") != role:
                    continue
                target = model.text(instance, target_attribute) or ""
                members = model.value(instance, members_attribute)
            except Unresolvable as exc:
                model.problems.append(f"{model.where(instance)}: {exc}")
                continue
            for member in members if isinstance(members, list) else [members]:
                out.append((instance, target, str(member)))
    return out


def check_pubsub(module: Module, root: Path) -> list[str]:  # noqa: PLR0915
    model = Model(module)
    facts = code_facts()
    topics = model.named(TOPIC, "name")
    dead_letter_topic = f"{facts.topic}-dead-letter"
    problems: list[str] = []
    for name in (facts.topic, dead_letter_topic):
        if name not in topics:
            problems.append(f"topic {name} (Settings.pubsub_topic) has no {TOPIC}")
    subscriptions = model.named(SUBSCRIPTION, "name")
    sources: list[Instance] = []
    hold_found = False
    for name, instance in sorted(subscriptions.items()):
        where = model.where(instance)
        try:
            topic = model.resolve(model.text(instance, "topic") or "", TOPIC, topics)
            if _labels(model, instance).get("role") == DEAD_LETTER_HOLD:
                hold_found = True
                if topic is None or model.text(topic, "name") != dead_letter_topic:
                    problems.append(f"{where}: the dead-letter hold is not on {dead_letter_topic}")
                continue
            if topic is None:
                problems.append(f"{where}: topic names no {TOPIC} of this module")
            policies = module.nested(instance.resource.body, "dead_letter_policy", instance.scope)
            if not policies:
                problems.append(f"{where}: subscription {name} has no dead_letter_policy")
                continue
            body, scope = policies[0]
            target = model.text(instance, "dead_letter_topic", body, scope) or ""
            if model.resolve(target, TOPIC, topics) is None:
                problems.append(f"{where}: dead_letter_policy names no existing topic ({target})")
            sources.append(instance)
        except Unresolvable as exc:
            problems.append(f"{where}: {exc}")
    if not hold_found:
        problems.append(
            f"no subscription on {dead_letter_topic} labelled role = {DEAD_LETTER_HOLD}"
        )
    for projection in sorted(facts.projections):
        names = {f"mymedic-{projection}", f"mymedic-{projection.replace('_', '-')}"}
        found = [subscriptions[n] for n in names if n in subscriptions]
        if not found:
            problems.append(f"projection {projection} has no subscription mymedic-{projection}")
            continue
        instance = found[0]
        topic_text = model.text(instance, "topic") or ""
        topic = model.resolve(topic_text, TOPIC, topics)
        if topic is None or model.text(topic, "name") != facts.topic:
            problems.append(f"{model.where(instance)}: not a subscription to {facts.topic}")
        if not module.nested(instance.resource.body, "push_config", instance.scope):
            problems.append(f"{model.where(instance)}: projection subscriptions push (push_config)")
    # the service agent publishes dead letters and acknowledges them on the source
    dlq = topics.get(dead_letter_topic)
    if dlq is not None:
        granted = [
            g
            for g in _iam_grants(
                model, "google_pubsub_topic_iam_member", "topic", "roles/pubsub.publisher"
            )
            if model.resolve(g[1], TOPIC, topics) is dlq and _is_pubsub_agent(model, g[2])
        ]
        if not granted:
            problems.append(
                f"the Pub/Sub service agent has no roles/pubsub.publisher on {dead_letter_topic}"
            )
    grants = _iam_grants(
        model, "google_pubsub_subscription_iam_member", "subscription", "roles/pubsub.subscriber"
    )
    for instance in sources:
        name = model.text(instance, "name")
        if not any(
            model.resolve(target, SUBSCRIPTION, subscriptions) is instance
            and _is_pubsub_agent(model, member)
            for _, target, member in grants
        ):
            problems.append(
                f"{model.where(instance)}: the Pub/Sub service agent has no "
                f"roles/pubsub.subscriber on {name} (needed to dead-letter)"
            )
    return model.problems + problems


# -- scheduler -------------------------------------------------------------------------------


def _delivery_problems(model: Model, instance: Instance, where: str) -> list[str]:
    """A job's delivery settings resolve (a job missing from a lookup map fails at plan
    time: "Invalid index")."""
    try:
        deadline = model.text(instance, "attempt_deadline", instance.resource.body, instance.scope)
    except Unresolvable as exc:
        return [f"{where}: attempt_deadline: {exc}"]
    return [] if deadline else [f"{where}: no attempt_deadline"]


def check_scheduler(module: Module, root: Path) -> list[str]:
    model = Model(module)
    facts = code_facts()
    functions = function_entry_points(model)
    problems: list[str] = []
    jobs_function = functions.get("jobs")
    if jobs_function is None:
        return [*model.problems, "no function with entry point jobs"]
    targeted: dict[str, Instance] = {}
    scheduler_accounts: set[str] = set()
    for resource in module.of_type(SCHEDULER_JOB):
        if "for_each" in resource.body and "local." not in str(resource.body["for_each"]):
            problems.append(f"{resource.file}: {resource.address}: the job list is a local map")
    for instance in model.of(SCHEDULER_JOB):
        where = model.where(instance)
        targets = module.nested(instance.resource.body, "http_target", instance.scope)
        if not targets:
            problems.append(f"{where}: no http_target")
            continue
        body, scope = targets[0]
        try:
            uri = model.text(instance, "uri", body, scope) or ""
            method = model.text(instance, "http_method", body, scope)
        except Unresolvable as exc:
            problems.append(f"{where}: http_target: {exc}")
            continue
        if method != "POST":
            problems.append(f"{where}: http_method is {method}, jobs run on POST")
        problems += _delivery_problems(model, instance, where)
        match = re.search(r"/jobs/([\w-]+)$", uri)
        if match is None or match.group(1) not in facts.jobs:
            problems.append(f"{where}: uri {uri} does not end with /jobs/<a name in JOBS>")
        else:
            if match.group(1) in targeted:
                problems.append(f"{where}: job {match.group(1)} scheduled twice")
            targeted[match.group(1)] = instance
        if jobs_function not in model.referenced(uri, FUNCTION):
            problems.append(f"{where}: uri {uri} is not the jobs function's")
        tokens = module.nested(body, "oidc_token", scope)
        if not tokens:
            problems.append(f"{where}: http_target has no oidc_token")
            continue
        token_body, token_scope = tokens[0]
        email = model.text(instance, "service_account_email", token_body, token_scope) or ""
        accounts = model.referenced(email, SERVICE_ACCOUNT)
        if not accounts:
            problems.append(f"{where}: oidc_token names no {SERVICE_ACCOUNT} ({email})")
        scheduler_accounts.update(a.address for a in accounts)
    for name in facts.jobs:
        if name not in targeted:
            problems.append(f"job {name} (JOBS) has no {SCHEDULER_JOB}")
    # the scheduler's account may invoke the jobs function
    invokers = _iam_grants(
        model, "google_cloud_run_service_iam_member", "service", "roles/run.invoker"
    ) + _iam_grants(
        model,
        "google_cloudfunctions2_function_iam_member",
        "cloud_function",
        "roles/cloudfunctions.invoker",
    )
    for address in sorted(scheduler_accounts):
        if not any(
            jobs_function in model.referenced(target, FUNCTION)
            and any(a.address == address for a in model.referenced(member, SERVICE_ACCOUNT))
            for _, target, member in invokers
        ):
            problems.append(
                f"{address} (the scheduler's) has no invoker binding on the jobs function "
                "(roles/run.invoker on its service or roles/cloudfunctions.invoker)"
            )
    return model.problems + problems


# -- secrets ---------------------------------------------------------------------------------


def check_secrets(module: Module, root: Path) -> list[str]:
    model = Model(module)
    facts = code_facts()
    problems: list[str] = []
    secrets = model.named(SECRET, "secret_id")
    field_of = {secret_id(f): f for f in facts.secret_fields}
    for field in sorted(facts.secret_fields):
        if secret_id(field) not in secrets:
            problems.append(f"SecretStr setting {field} has no {SECRET} {secret_id(field)}")
    for name, instance in sorted(secrets.items()):
        if name not in field_of:
            problems.append(f"{model.where(instance)}: secret {name} is no SecretStr setting")
    # what each function declares: (service account address, secret id)
    declared: set[tuple[str, str]] = set()
    for instance in function_entry_points(model).values():
        where = model.where(instance)
        try:
            account = function_service_account(model, instance)
            configs = module.nested(instance.resource.body, "service_config", instance.scope)
            variables = [
                pair
                for body, scope in configs
                for pair in module.nested(body, "secret_environment_variables", scope)
            ]
            for body, scope in variables:
                key = model.text(instance, "key", body, scope) or ""
                secret_text = model.text(instance, "secret", body, scope) or ""
                secret = model.resolve(secret_text, SECRET, secrets)
                if secret is None:
                    problems.append(f"{where}: {key}: secret {secret_text} is not in terraform")
                    continue
                sid = model.text(secret, "secret_id") or ""
                field = field_of.get(sid)
                if field is None or key != env_key(field):
                    problems.append(
                        f"{where}: {key} reads secret {sid}, expected "
                        f"{env_key(field) if field else 'a SecretStr setting'}"
                    )
                if account is not None:
                    declared.add((account.address, sid))
        except Unresolvable as exc:
            problems.append(f"{where}: secret_environment_variables: {exc}")
    granted: set[tuple[str, str]] = set()
    for instance, target, member in _iam_grants(
        model, SECRET_ACCESS, "secret_id", "roles/secretmanager.secretAccessor"
    ):
        secret = model.resolve(target, SECRET, secrets)
        accounts = model.referenced(member, SERVICE_ACCOUNT)
        if secret is None or not accounts:
            problems.append(
                f"{model.where(instance)}: grants {target} to {member}: "
                "unknown secret or not a service account of this module"
            )
            continue
        sid = model.text(secret, "secret_id") or ""
        for account in accounts:
            granted.add((account.address, sid))
            if (account.address, sid) not in declared:
                problems.append(
                    f"{model.where(instance)}: {account.address} may read {sid} "
                    "but its function declares no such secret variable"
                )
    for address, sid in sorted(declared - granted):
        problems.append(f"{address} reads {sid} without a {SECRET_ACCESS} (secretAccessor)")
    return model.problems + problems


# -- bigquery --------------------------------------------------------------------------------

_TYPE_ALIASES = {
    "INTEGER": "INT64",
    "FLOAT": "FLOAT64",
    "BOOLEAN": "BOOL",
    "DECIMAL": "NUMERIC",
    "BIGDECIMAL": "BIGNUMERIC",
    "RECORD": "STRUCT",
}


def canonical_type(name: str) -> str:
    upper = name.upper()
    return _TYPE_ALIASES.get(upper, upper)


def ddl_columns(sql: str) -> list[tuple[str, str, str]]:
    """(name, type, mode) of a ``create table`` statement, in order."""
    create = sqlglot.parse_one(sql, read="bigquery")
    schema = create.this
    columns = []
    for column in schema.expressions:
        if not isinstance(column, exp.ColumnDef):
            continue
        kind = column.args.get("kind")
        type_sql = kind.sql(dialect="bigquery") if kind is not None else ""
        not_null = any(
            isinstance(c.args.get("kind"), exp.NotNullColumnConstraint)
            for c in column.args.get("constraints") or []
        )
        columns.append(
            (column.name, canonical_type(type_sql), "REQUIRED" if not_null else "NULLABLE")
        )
    return columns


def schema_columns(schema: Any) -> list[tuple[str, str, str]]:
    return [
        (
            f.get("name", ""),
            canonical_type(f.get("type", "")),
            (f.get("mode") or "NULLABLE").upper(),
        )
        for f in schema
    ]


def check_bigquery(module: Module, root: Path) -> list[str]:
    model = Model(module)
    problems: list[str] = []
    sql_dir = root / "bigquery"
    ddl = {p.stem: p for p in sorted((sql_dir / "tables").glob("*.sql"))}
    views = {p.stem for layer in ("marts", "reports") for p in (sql_dir / layer).glob("*.sql")}
    tables = model.named(TABLE, "table_id")
    for name, instance in sorted(tables.items()):
        where = model.where(instance)
        is_view = bool(module.nested(instance.resource.body, "view", instance.scope))
        if is_view:
            if name not in views:
                problems.append(f"{where}: view {name} is in no bigquery/marts or reports file")
            continue
        if name not in ddl:
            problems.append(f"{where}: table {name} has no bigquery/tables/{name}.sql")
            continue
        try:
            schema = model.value(instance, "schema")
        except Unresolvable as exc:
            problems.append(f"{where}: schema: {exc}")
            continue
        if schema is None:
            problems.append(f"{where}: table {name} has no schema")
            continue
        try:
            fields = json.loads(schema) if isinstance(schema, str) else schema
        except json.JSONDecodeError as exc:
            problems.append(f"{where}: schema of {name} is not JSON: {exc}")
            continue
        expected = ddl_columns(ddl[name].read_text(encoding="utf-8"))
        actual = schema_columns(fields)
        if actual != expected:
            missing = [c[0] for c in expected if c[0] not in {a[0] for a in actual}]
            extra = [a[0] for a in actual if a[0] not in {c[0] for c in expected}]
            differing = [f"{a} != {e}" for a, e in zip(actual, expected, strict=False) if a != e][
                :3
            ]
            problems.append(
                f"{where}: schema of {name} differs from bigquery/tables/{name}.sql: "
                f"missing column(s) {missing}, extra {extra}, first differences {differing}"
            )
    for name in sorted(ddl.keys() - tables.keys()):
        problems.append(f"bigquery/tables/{name}.sql has no {TABLE}")
    for name in sorted(views - tables.keys()):
        problems.append(f"view {name} (bigquery marts/reports) has no {TABLE} with a view block")
    return model.problems + problems


# -- provider schema -------------------------------------------------------------------------

SKIPPED_TOP_BLOCKS = frozenset({"provisioner", "connection"})


def load_provider_schema(root: Path) -> dict[str, Any]:
    found = sorted((root / "terraform" / "provider-schema").glob("google-*.json"))
    if len(found) != 1:
        raise FileNotFoundError(f"expected one terraform/provider-schema/google-*.json: {found}")
    schema: dict[str, Any] = json.loads(found[0].read_text(encoding="utf-8"))
    return schema


def _check_body(body: dict[str, Any], spec: dict[str, Any], path: str, top: bool) -> Iterator[str]:
    arguments: dict[str, Any] = spec.get("arguments", {})
    nested: dict[str, Any] = spec.get("blocks", {})
    present: dict[str, int] = {}
    dynamic: set[str] = set()
    for key, value in body_items(body):
        if top and (key in META_ARGUMENTS or key in SKIPPED_TOP_BLOCKS):
            continue
        if key == "dynamic" and is_dynamic(value):
            for dyn in value:
                for label, content_spec in body_items(dyn):
                    if label not in nested:
                        yield f"{path}: dynamic block {label!r} is not a block of this type"
                        continue
                    dynamic.add(label)
                    for content in content_spec.get("content", []):
                        yield from _check_body(content, nested[label], f"{path}.{label}", False)
            continue
        if key in nested:
            if not is_block(value):
                yield f"{path}: {key!r} is a block, not an argument (write {key} {{ ... }})"
                continue
            present[key] = len(value)
            max_items = nested[key].get("max_items")
            if max_items is not None and len(value) > max_items:
                yield f"{path}: at most {max_items} {key!r} block(s), found {len(value)}"
            for item in value:
                yield from _check_body(item, nested[key], f"{path}.{key}", False)
        elif key in arguments:
            if is_block(value):
                yield f"{path}: {key!r} is an argument, not a block (write {key} = ...)"
            present[key] = 1
        else:
            yield f"{path}: unknown argument or block {key!r}"
    for name, required in arguments.items():
        if required and name not in present:
            yield f"{path}: required argument {name!r} is missing"
    for name, block in nested.items():
        if block.get("required") and name not in present and name not in dynamic:
            yield f"{path}: required block {name!r} is missing"


def check_provider_schema(module: Module, root: Path) -> list[str]:
    try:
        schema = load_provider_schema(root)
    except FileNotFoundError as exc:
        return [str(exc)]
    problems: list[str] = []
    everything: list[Resource] = [*module.all_resources(), *module.all_data()]
    for resource in everything:
        types = schema.get(resource.mode, {})
        where = f"{resource.file}: {resource.address}"
        if not resource.type.startswith("google_"):
            problems.append(f"{where}: only the google provider is extracted")
            continue
        if resource.type not in types:
            problems.append(
                f"{where}: {resource.mode} type missing from the extract "
                "(run scripts/extract_provider_schema.py)"
            )
            continue
        problems.extend(_check_body(resource.body, types[resource.type], where, True))
    return problems


def check_provider_pin(module: Module, root: Path) -> list[str]:
    try:
        expected = load_provider_schema(root)["provider_version"]
    except FileNotFoundError as exc:
        return [str(exc)]
    pins = []
    for block in module.terraform_blocks:
        for providers in block.get("required_providers", []):
            for name, spec in body_items(providers):
                if name == "google" and isinstance(spec, dict):
                    pins.append(str(spec.get("version", "")))
    if len(pins) != 1:
        return [f"expected one required_providers google pin, found {pins}"]
    pin = pins[0].strip().removeprefix("=").strip()
    if pin != expected:
        return [f"terraform pins google {pins[0]!r}, the provider schema extract is {expected}"]
    return []


Check = Callable[[Module, Path], list[str]]

ALL_CHECKS: tuple[Check, ...] = (
    check_functions,
    check_pubsub,
    check_scheduler,
    check_secrets,
    check_bigquery,
    check_provider_schema,
    check_provider_pin,
)
