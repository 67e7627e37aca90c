"""The GCP path on one machine: emulators, the events topic with push subscriptions
and dead-lettering, and each projection function served by functions-framework on
loopback, exactly as Cloud Functions would receive Pub/Sub pushes.

Used by the emulator end-to-end tests and by ``mymedic serve --backend gcp-emulators``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from google.cloud.pubsub_v1 import PublisherClient, SubscriberClient

from mymedic.emulators import Emulator, free_port

PROJECTION_FUNCTIONS = {
    "calendar": "project_calendar",
    "read_models": "project_read_models",
    "warehouse_facts": "project_warehouse",
}
DEAD_LETTER_SUFFIX = "-dead-letter"


@dataclass
class FunctionServer:
    target: str
    url: str
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


@dataclass
class Stack:
    env: dict[str, str]
    topic: str
    dead_letter_subscription: str
    servers: list[FunctionServer] = field(default_factory=list)
    emulators: list[Emulator] = field(default_factory=list)

    def stop(self) -> None:
        for server in self.servers:
            server.stop()
        for emulator in self.emulators:
            emulator.stop()


def functions_source() -> Path:
    """functions/main.py of the checkout (or of the deployed bundle)."""
    here = Path(__file__).resolve()
    for base in (here.parents[2], Path.cwd()):
        candidate = base / "functions" / "main.py"
        if candidate.exists():
            return candidate
    raise FileNotFoundError("functions/main.py not found beside the package or in the cwd")


def gcp_env(project: str, dataset: str, emulators: dict[str, str]) -> dict[str, str]:
    return {
        **emulators,
        "MYMEDIC_BACKEND": "gcp",
        "MYMEDIC_GCP_PROJECT": project,
        "MYMEDIC_BIGQUERY_DATASET": dataset,
        "MYMEDIC_PUBSUB_TOPIC": "mymedic-events",
    }


def start_function(target: str, env: dict[str, str], log_dir: Path) -> FunctionServer:
    port = free_port()
    log_dir.mkdir(parents=True, exist_ok=True)
    log = (log_dir / f"{target}.log").open("wb")
    runner = Path(sys.executable).parent / "functions-framework"
    process = subprocess.Popen(  # noqa: S603 - our own argv
        [
            str(runner),
            "--target",
            target,
            "--source",
            str(functions_source()),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env={**os.environ, **env},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{target} exited: see {log_dir / (target + '.log')}")
        try:
            httpx.get(url, timeout=1)
            return FunctionServer(target, url, process)
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"{target} did not start listening")


def wire_pubsub(
    project: str, topic_name: str, endpoints: dict[str, str], max_attempts: int = 5
) -> tuple[str, str]:
    """The events topic, a dead-letter topic with a pull subscription (so that nothing
    dead-lettered is lost), and one push subscription per projection function with a
    dead-letter policy. Returns (topic path, dead-letter subscription path).

    The subscriptions are not ordered, on purpose: projections fill any gap from the
    event store, so order is not needed for correctness, and an ordered subscription
    would hold a stream's later events behind a poison message until it is
    dead-lettered (the Pub/Sub emulator also fails to dead-letter from ordered
    subscriptions). Events still carry the stream as ordering key."""
    publisher, subscriber = PublisherClient(), SubscriberClient()
    topic = publisher.topic_path(project, topic_name)
    dead_topic = publisher.topic_path(project, topic_name + DEAD_LETTER_SUFFIX)
    dead_subscription = subscriber.subscription_path(project, topic_name + DEAD_LETTER_SUFFIX)
    publisher.create_topic(name=topic)
    publisher.create_topic(name=dead_topic)
    subscriber.create_subscription(name=dead_subscription, topic=dead_topic)
    for projection, url in endpoints.items():
        subscriber.create_subscription(
            request={
                "name": subscriber.subscription_path(project, f"{topic_name}-{projection}"),
                "topic": topic,
                "push_config": {"push_endpoint": url},
                "ack_deadline_seconds": 30,
                "dead_letter_policy": {
                    "dead_letter_topic": dead_topic,
                    "max_delivery_attempts": max_attempts,
                },
                "retry_policy": {
                    "minimum_backoff": {"seconds": 1},
                    "maximum_backoff": {"seconds": 5},
                },
            }
        )
    subscriber.close()
    return topic, dead_subscription


def migrate_warehouse(project: str, dataset: str, endpoint: str) -> None:
    from mymedic.adapters.gcp.bigquery_warehouse import BigQueryWarehouse
    from mymedic.settings import Settings

    settings = Settings(
        backend="gcp", gcp_project=project, bigquery_dataset=dataset, bigquery_endpoint=endpoint
    )
    warehouse = BigQueryWarehouse.from_settings(settings)
    warehouse.ensure_schema()
    warehouse.close()


def start_stack(project: str, dataset: str, emulators: dict[str, str], log_dir: Path) -> Stack:
    """Function servers and Pub/Sub wiring over already running emulators (whose
    client variables are in ``emulators`` and, for the Pub/Sub admin calls here, in
    this process's environment)."""
    env = gcp_env(project, dataset, emulators)
    stack = Stack(env, "", "")
    migrate_warehouse(project, dataset, emulators["MYMEDIC_BIGQUERY_ENDPOINT"])
    try:
        for target in PROJECTION_FUNCTIONS.values():
            stack.servers.append(start_function(target, env, log_dir))
        endpoints = {
            name: server.url
            for name, server in zip(PROJECTION_FUNCTIONS, stack.servers, strict=True)
        }
        stack.topic, stack.dead_letter_subscription = wire_pubsub(
            project, env["MYMEDIC_PUBSUB_TOPIC"], endpoints
        )
    except BaseException:
        stack.stop()
        raise
    return stack
