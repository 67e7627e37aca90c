"""The seeded chain through Zoho: each tenant's org served over HTTP by the faithful fake
(OAuth, REST paging, Bulk Read ZIPs, the Users API, notification channels), backfilled
as it stood at a cut-off, then every later change delivered as Zoho would deliver it: a
notification to the webhook (a few lost on the way), and the delta sync once a day that
catches what was lost. What a clinic keeps in MyMedic itself (the cancellation policy,
the booking form's marketing touches) goes through the command API, in time with the
rest.

Used by ``mymedic demo --source zoho`` and by the test that holds every report of this
path equal to the command path's.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mymedic.bootstrap import Platform
from mymedic.demo.generator import DemoCommand
from mymedic.demo.zoho_org import MYMEDIC_COMMANDS, Change, ZohoOrg, mapping_text, zoho_orgs
from mymedic.integrations.zoho.client import ZohoClient
from mymedic.integrations.zoho.config import ZohoConfig
from mymedic.integrations.zoho.connection import (
    CHANNEL_TOKEN,
    CLIENT_SECRET,
    REFRESH_TOKEN,
    WORKFLOW_SECRET,
    ZohoConnection,
    save_connection,
)
from mymedic.integrations.zoho.service import ZohoTenants, channel_id_for
from mymedic.testing.zoho_fake import FakeZoho

# The webhook's public URL as the channel knows it (the demo posts the callbacks itself).
NOTIFY_URL = "https://mymedic.example/webhooks/zoho"
# Notifications Zoho sends that never arrive: the daily delta sync brings them.
LOST_NOTIFICATIONS = 0.03


@dataclass
class ZohoPathOutcome:
    backfilled: dict[str, dict[str, int]] = field(default_factory=dict)  # tenant -> module
    notifications: int = 0
    lost: int = 0
    delta_runs: int = 0
    commands: int = 0
    refused: list[tuple[str, int, Any]] = field(default_factory=list)
    quarantined: int = 0


Post = Callable[[str, Any, dict[str, str]], tuple[int, Any]]


@contextmanager
def fake_orgs(tenants: list[str]) -> Iterator[dict[str, FakeZoho]]:
    """A fake Zoho org per tenant (each its own accounts server and API domain)."""
    with ExitStack() as stack:
        fakes: dict[str, FakeZoho] = {}
        for tenant in tenants:
            fake = FakeZoho(polls_until_complete=1)
            stack.enter_context(fake)
            fakes[tenant] = fake
        yield fakes


def connect(platform: Platform, tenant: str, fake: FakeZoho) -> None:
    """What ``mymedic zoho connect`` leaves behind: the connection file and the tenant's
    secrets (the fake's client and a refresh token it granted; fresh webhook tokens)."""
    folder = platform.settings.zoho_dir
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{tenant}.toml").write_text(mapping_text(tenant), encoding="utf-8")
    save_connection(
        folder,
        ZohoConnection(
            tenant_id=tenant,
            data_centre="in",
            client_id=fake.client_id,
            api_domain=fake.base_url,
            accounts_url=fake.base_url,
            scopes=[],
        ),
    )
    store = platform.secrets
    store.put(tenant, CLIENT_SECRET, fake.client_secret)
    store.put(tenant, REFRESH_TOKEN, fake.refresh_token)
    store.put(tenant, CHANNEL_TOKEN, secrets.token_urlsafe(24))
    store.put(tenant, WORKFLOW_SECRET, secrets.token_urlsafe(24))


def run_zoho_path(
    platform: Platform,
    commands: list[DemoCommand],
    post: Post,
    tokens: dict[str, str],
    *,
    cut: datetime,
    seed: int,
    progress: Callable[[str], None] | None = None,
) -> ZohoPathOutcome:
    """Bring ``commands``' history into ``platform`` through Zoho (and the commands a
    Zoho tenant still sends MyMedic). ``post(path, body, headers)`` is the HTTP entry."""
    orgs = zoho_orgs(commands)
    outcome = ZohoPathOutcome()
    ours = sorted((c for c in commands if c.name in MYMEDIC_COMMANDS), key=lambda c: c.at)
    with fake_orgs(sorted(orgs)) as fakes:
        for tenant, fake in fakes.items():
            connect(platform, tenant, fake)
        by_url = {fake.base_url: fake for fake in fakes.values()}

        def client(config: ZohoConfig) -> ZohoClient:
            fake = by_url[config.resolved_accounts_url]
            return ZohoClient(config, sleep=fake.advance, clock=fake.clock)

        tenants = ZohoTenants(
            platform.settings,
            platform.store,
            secrets=platform.secrets,
            clock=platform.clock,
            after_commit=platform.relay.drain,
            client_factory=client,
        )
        run = _Run(tenants, orgs, fakes, post, tokens, outcome, progress)
        try:
            # The policy first: cancellations in the backfill forfeit deposits under it.
            run.send([c for c in ours if c.name == "set_cancellation_policy"])
            run.backfill(cut)
            run.send([c for c in ours if c.at <= cut and c.name != "set_cancellation_policy"])
            run.later([c for c in ours if c.at > cut], cut, random.Random(seed * 104729 + 3))
        finally:
            tenants.close()
    return outcome


@dataclass
class _Run:
    tenants: ZohoTenants
    orgs: dict[str, ZohoOrg]
    fakes: dict[str, FakeZoho]
    post: Post
    tokens: dict[str, str]
    outcome: ZohoPathOutcome
    progress: Callable[[str], None] | None

    def say(self, text: str) -> None:
        if self.progress is not None:
            self.progress(text)

    def backfill(self, cut: datetime) -> None:
        for tenant, org in sorted(self.orgs.items()):
            fake = self.fakes[tenant]
            for module, records in org.as_of(cut).items():
                fake.add_records(module, records)
            service = self.tenants.service(tenant)
            counts: dict[str, int] = {}
            for module in service.sync_order():
                result = service.backfill(module, poll_seconds=0)
                counts[module] = result.rows
                self.outcome.quarantined += result.stats.quarantined
                self.say(f"{tenant}: {module} backfilled ({result.rows} records)")
            self.outcome.backfilled[tenant] = counts
            service.renew_channels(NOTIFY_URL)

    def later(self, ours: list[DemoCommand], cut: datetime, rng: random.Random) -> None:
        """Every change after the cut, in time order: Zoho's as notifications (some
        lost), MyMedic's own as commands; the delta sync at the end of each day."""
        items: list[tuple[datetime, str, Change | DemoCommand]] = [
            (change.at, tenant, change)
            for tenant, org in self.orgs.items()
            for change in org.after(cut)
        ]
        items += [(c.at, c.body["tenant_id"], c) for c in ours]
        items.sort(key=lambda item: item[0])
        day = None
        for at, tenant, item in items:
            if day is not None and at.date() != day:
                self.delta()
            day = at.date()
            if isinstance(item, DemoCommand):
                self.send([item])
            else:
                self.notify(tenant, item, lost=rng.random() < LOST_NOTIFICATIONS)
        self.delta()
        self.say(
            f"{self.outcome.notifications} notifications, {self.outcome.lost} lost and caught "
            f"by {self.outcome.delta_runs} delta syncs"
        )

    def notify(self, tenant: str, change: Change, *, lost: bool) -> None:
        fake = self.fakes[tenant]
        fake.add_records(change.module, [change.record])
        if lost:
            self.outcome.lost += 1
            return
        body = fake.callback(
            channel_id_for(tenant), change.module, [change.record_id], change.operation
        )
        status, answer = self.post("/webhooks/zoho", body, {})
        self.outcome.notifications += 1
        if status != 200:
            self.outcome.refused.append(("/webhooks/zoho", status, answer))
        else:
            self.outcome.quarantined += int(answer.get("quarantined", 0))

    def delta(self) -> None:
        for tenant in self.tenants.tenant_ids():
            service = self.tenants.service(tenant)
            for module in service.sync_order():
                self.outcome.quarantined += service.delta_sync(module).stats.quarantined
        self.outcome.delta_runs += 1

    def send(self, commands: list[DemoCommand]) -> None:
        for command in commands:
            headers = {"Authorization": self.tokens[command.body["tenant_id"]]}
            status, answer = self.post(f"/commands/{command.name}", command.body, headers)
            self.outcome.commands += 1
            if status != 201:
                self.outcome.refused.append((command.name, status, answer))
