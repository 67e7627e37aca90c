"""Contract tests of the Zoho client's Notifications API calls (``actions/watch``:
enable, list, disable) against the fake Zoho, and of the fake's answers to requests
the client refuses to send. The fake's virtual clock stands in for Zoho's: channels
expire on it, and the client measures "a week ahead" by it too."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from mymedic.integrations.zoho.client import (
    ChannelNotSubscribed,
    WatchChannel,
    WatchRefused,
    WatchRequestInvalid,
    ZohoClient,
    ZohoError,
    ZohoUnavailable,
)
from mymedic.testing.zoho_fake import FakeZoho

WATCH = "/crm/v6/actions/watch"
NOTIFY_URL = "https://functions.example.test/zoho_webhook"
# A synthetic channel token, for tests only.
TOKEN = "test-only-channel-token-9f8e7d6c5b4a"  # noqa: S105 - synthetic
CHANNEL = 1_000_000_068_001
EVENTS = ["Appointments.all", "Contacts.all"]
WEEK = timedelta(days=7)


@pytest.fixture
def fake() -> Iterator[FakeZoho]:
    with FakeZoho() as zoho:
        yield zoho


def make_client(fake: FakeZoho, **overrides: Any) -> ZohoClient:
    return ZohoClient(
        fake.config(**overrides), sleep=fake.advance, clock=fake.clock, wall_clock=fake.now
    )


@pytest.fixture
def client(fake: FakeZoho) -> Iterator[ZohoClient]:
    with make_client(fake) as zoho:
        yield zoho


def ahead(fake: FakeZoho, delta: timedelta) -> datetime:
    return (fake.now() + delta).replace(microsecond=0)


def watch_requests(fake: FakeZoho) -> list[tuple[str, str]]:
    return [request for request in fake.requests if request[1] == WATCH]


def raw(fake: FakeZoho, method: str, **kwargs: Any) -> httpx.Response:
    """A request the client would not send, with an access token of its own."""
    grant = {
        "grant_type": "refresh_token",
        "client_id": fake.client_id,
        "client_secret": fake.client_secret,
        "refresh_token": fake.refresh_token,
    }
    token = httpx.post(f"{fake.base_url}/oauth/v2/token", data=grant).json()["access_token"]
    headers = {"Authorization": f"Zoho-oauthtoken {token}"}
    return httpx.request(method, f"{fake.base_url}{WATCH}", headers=headers, **kwargs)


def item(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "channel_id": CHANNEL,
        "events": ["Appointments.all"],
        "notify_url": NOTIFY_URL,
        "token": TOKEN,
    }
    body.update(overrides)
    return {key: value for key, value in body.items() if value is not None}


# -- enable, list, disable ----------------------------------------------------------


def test_watch_enables_a_channel_until_the_expiry_asked(fake: FakeZoho, client: ZohoClient) -> None:
    expiry = ahead(fake, WEEK - timedelta(minutes=1))
    channel = client.watch(CHANNEL, EVENTS, NOTIFY_URL, TOKEN, expiry)
    assert channel == WatchChannel(CHANNEL, tuple(EVENTS), expiry, NOTIFY_URL)
    assert channel.expires_at.utcoffset() is not None  # as Zoho answers: in the org's zone

    (held,) = fake.channels()
    assert (held.channel_id, held.expires_at, held.token) == (CHANNEL, expiry, TOKEN)
    assert set(held.events) == {
        f"{module}.{op}"
        for module in ("Appointments", "Contacts")
        for op in ("create", "edit", "delete")
    }
    # Zoho lists "all" as create, edit and delete; the client reads it back as "all".
    assert client.watched() == [channel]
    assert client.watched(CHANNEL) == [channel]
    assert client.watched(CHANNEL + 1) == []


def test_no_channel_is_an_empty_list(fake: FakeZoho, client: ZohoClient) -> None:
    assert client.watched() == []
    assert watch_requests(fake) == [("GET", WATCH)]  # one 204, nothing more


def test_the_channel_expires_when_zoho_says_and_is_gone(fake: FakeZoho, client: ZohoClient) -> None:
    client.watch(CHANNEL, EVENTS, NOTIFY_URL, TOKEN, ahead(fake, timedelta(days=2)))
    fake.advance(timedelta(days=2).total_seconds() - 60)
    assert [c.channel_id for c in client.watched()] == [CHANNEL]
    fake.advance(61)
    assert client.watched() == []
    assert fake.channels() == []
    with pytest.raises(LookupError):
        fake.callback(CHANNEL, "Appointments", ["52001"])
    client.unwatch(CHANNEL)  # NOT_SUBSCRIBED: already gone, nothing to disable


def test_enabling_again_renews_the_same_channel(fake: FakeZoho, client: ZohoClient) -> None:
    first = client.watch(CHANNEL, EVENTS, NOTIFY_URL, TOKEN, ahead(fake, timedelta(days=7)))
    fake.advance(timedelta(days=1).total_seconds())
    second = client.watch(CHANNEL, EVENTS, NOTIFY_URL, TOKEN, ahead(fake, timedelta(days=7)))
    assert second.expires_at - first.expires_at == timedelta(days=1)
    (listed,) = client.watched()
    assert listed.expires_at == second.expires_at
    # Past the first expiry, the renewed channel still calls back.
    fake.advance(timedelta(days=6, hours=12).total_seconds())
    assert fake.callback(CHANNEL, "Contacts", ["41001"], "create")["operation"] == "insert"


def test_an_expired_channel_is_created_anew(fake: FakeZoho, client: ZohoClient) -> None:
    client.watch(CHANNEL, EVENTS, NOTIFY_URL, TOKEN, ahead(fake, timedelta(hours=2)))
    fake.advance(3 * 3600)
    assert client.watched() == []
    again = client.watch(CHANNEL, EVENTS, NOTIFY_URL, TOKEN, ahead(fake, WEEK))
    assert client.watched() == [again]


def test_unwatch_disables_one_channel_and_leaves_the_others(
    fake: FakeZoho, client: ZohoClient
) -> None:
    client.watch(CHANNEL, EVENTS, NOTIFY_URL, TOKEN, ahead(fake, WEEK))
    other = client.watch(CHANNEL + 1, ["Deals.edit"], NOTIFY_URL, TOKEN, ahead(fake, WEEK))
    client.unwatch(CHANNEL)
    assert client.watched() == [other]
    client.unwatch(CHANNEL)  # idempotent
    assert [c.channel_id for c in fake.channels()] == [CHANNEL + 1]


def test_the_listing_follows_the_pages(fake: FakeZoho, client: ZohoClient) -> None:
    for offset in range(3):  # 3 channels x 2 modules = 6 entries, 1 per page
        client.watch(CHANNEL + offset, EVENTS, NOTIFY_URL, TOKEN, ahead(fake, WEEK))
    channels = client.watched(per_page=1)
    assert [c.channel_id for c in channels] == [CHANNEL, CHANNEL + 1, CHANNEL + 2]
    assert all(c.events == tuple(EVENTS) for c in channels)
    assert len(watch_requests(fake)) == 3 + 6  # the enables, then one GET per page


def test_a_channel_lists_its_earliest_expiring_module(fake: FakeZoho, client: ZohoClient) -> None:
    client.watch(CHANNEL, ["Appointments.all"], NOTIFY_URL, TOKEN, ahead(fake, timedelta(days=1)))
    client.watch(CHANNEL, ["Contacts.edit"], NOTIFY_URL, TOKEN, ahead(fake, timedelta(days=5)))
    (channel,) = client.watched()
    assert channel.events == ("Appointments.all", "Contacts.edit")
    assert channel.expires_at == ahead(fake, timedelta(days=1))


# -- what the client refuses to send, and what Zoho would answer ---------------------


@pytest.mark.parametrize(
    ("events", "url", "token", "expiry"),
    [
        (EVENTS, NOTIFY_URL, TOKEN, WEEK + timedelta(seconds=1)),
        (EVENTS, NOTIFY_URL, TOKEN, timedelta(0)),
        (EVENTS, NOTIFY_URL, TOKEN, -timedelta(hours=1)),
        (EVENTS, NOTIFY_URL, "x" * 51, WEEK),
        (EVENTS, NOTIFY_URL, "", WEEK),
        ([], NOTIFY_URL, TOKEN, WEEK),
        (["Appointments"], NOTIFY_URL, TOKEN, WEEK),
        (["Appointments.update"], NOTIFY_URL, TOKEN, WEEK),
        (["../x.all"], NOTIFY_URL, TOKEN, WEEK),
        (EVENTS, "/zoho_webhook", TOKEN, WEEK),
        (EVENTS, "ftp://example.test/x", TOKEN, WEEK),
    ],
    ids=[
        "expiry-over-a-week",
        "expiry-now",
        "expiry-past",
        "token-51-chars",
        "no-token",
        "no-events",
        "event-without-operation",
        "unknown-operation",
        "bad-module",
        "relative-url",
        "not-http",
    ],
)
def test_an_invalid_watch_is_refused_before_it_is_sent(
    fake: FakeZoho,
    client: ZohoClient,
    events: list[str],
    url: str,
    token: str,
    expiry: timedelta,
) -> None:
    with pytest.raises(WatchRequestInvalid) as refused:
        client.watch(CHANNEL, events, url, token, ahead(fake, expiry))
    assert isinstance(refused.value, ZohoError) and isinstance(refused.value, ValueError)
    if token:
        assert token not in str(refused.value)
    assert fake.requests == []  # not even a token was asked for


def test_a_naive_expiry_or_a_bad_channel_id_is_refused(fake: FakeZoho, client: ZohoClient) -> None:
    with pytest.raises(WatchRequestInvalid, match="timezone-aware"):
        client.watch(CHANNEL, EVENTS, NOTIFY_URL, TOKEN, datetime(2030, 1, 1))
    for bad in (0, -5, 2**63, True):
        with pytest.raises(WatchRequestInvalid, match="channel_id"):
            client.watch(bad, EVENTS, NOTIFY_URL, TOKEN, ahead(fake, WEEK))
    with pytest.raises(WatchRequestInvalid):
        client.unwatch(0)
    assert fake.requests == []


def test_zoho_makes_a_too_long_or_missing_expiry_one_hour(
    fake: FakeZoho, client: ZohoClient
) -> None:
    """Why the client refuses more than a week: Zoho does not refuse it, it quietly
    lets the channel lapse after an hour."""
    eight_days = ahead(fake, timedelta(days=8)).isoformat()
    answer = raw(fake, "POST", json={"watch": [item(channel_expiry=eight_days)]})
    assert answer.status_code == 200
    (event,) = answer.json()["watch"][0]["details"]["events"]
    given = datetime.fromisoformat(event["channel_expiry"])
    assert abs(given - ahead(fake, timedelta(hours=1))) <= timedelta(seconds=2)

    answer = raw(fake, "POST", json={"watch": [item(channel_id=CHANNEL + 1)]})
    (event,) = answer.json()["watch"][0]["details"]["events"]
    given = datetime.fromisoformat(event["channel_expiry"])
    assert abs(given - ahead(fake, timedelta(hours=1))) <= timedelta(seconds=2)


@pytest.mark.parametrize(
    ("overrides", "code", "path"),
    [
        ({"token": "x" * 51}, "INVALID_DATA", "$.watch[0].token"),
        ({"channel_id": None}, "MANDATORY_NOT_FOUND", "$.watch[0].channel_id"),
        ({"events": None}, "MANDATORY_NOT_FOUND", "$.watch[0].events"),
        ({"notify_url": None}, "MANDATORY_NOT_FOUND", "$.watch[0].notify_url"),
        ({"events": ["Appointments.everything"]}, "INVALID_DATA", "$.watch[0].events[0]"),
        ({"channel_id": "not-a-long"}, "INVALID_DATA", "$.watch[0].channel_id"),
        ({"channel_expiry": "next tuesday"}, "INVALID_DATA", "$.watch[0].channel_expiry"),
    ],
)
def test_the_fake_refuses_what_zoho_refuses(
    fake: FakeZoho, client: ZohoClient, overrides: dict[str, Any], code: str, path: str
) -> None:
    body = item(**{key: value for key, value in overrides.items() if value is not None})
    for key, value in overrides.items():
        if value is None:
            body.pop(key)
    answer = raw(fake, "POST", json={"watch": [body]})
    assert answer.status_code == 400
    (error,) = answer.json()["watch"]
    assert (error["status"], error["code"], error["details"]["json_path"]) == ("error", code, path)
    assert fake.channels() == []
    assert raw(fake, "DELETE").json()["code"] == "REQUIRED_PARAM_MISSING"


def test_a_refusal_by_zoho_is_a_typed_error(fake: FakeZoho, client: ZohoClient) -> None:
    fake.fail_next(400)
    with pytest.raises(WatchRefused) as refused:
        client.watch(CHANNEL, EVENTS, NOTIFY_URL, TOKEN, ahead(fake, WEEK))
    assert refused.value.code == "INTERNAL_ERROR"
    assert isinstance(refused.value, ZohoError)
    assert not isinstance(refused.value, ChannelNotSubscribed)
    assert fake.channels() == []


# -- retries, and the token kept out of sight -------------------------------------------


def test_watch_calls_retry_like_every_other_call(fake: FakeZoho) -> None:
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        fake.advance(seconds)

    with ZohoClient(fake.config(), sleep=sleep, clock=fake.clock, wall_clock=fake.now) as client:
        expiry = ahead(fake, timedelta(days=6))
        fake.fail_next(503, times=2)
        fake.fail_next(429, retry_after=7)
        client.watch(CHANNEL, EVENTS, NOTIFY_URL, TOKEN, expiry)
        assert len(waits) == 3 and waits[2] == 7
        assert [c.channel_id for c in fake.channels()] == [CHANNEL]  # one channel, not four

        fake.fail_next(502, times=5)  # max_attempts: 5
        with pytest.raises(ZohoUnavailable):
            client.watched()
        fake.fail_next(500)
        client.unwatch(CHANNEL)
        assert fake.channels() == []

        fake.expire_tokens()  # INVALID_TOKEN: refreshed once, the call repeated
        client.watch(CHANNEL, EVENTS, NOTIFY_URL, TOKEN, ahead(fake, timedelta(days=6)))
        assert len(fake.channels()) == 1


def test_the_token_is_never_logged_nor_kept(
    fake: FakeZoho, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with make_client(fake) as client:
        fake.fail_next(503)
        channel = client.watch(CHANNEL, EVENTS, NOTIFY_URL, TOKEN, ahead(fake, WEEK))
        listed = client.watched()
        fake.fail_next(400)
        with pytest.raises(WatchRefused) as refused:
            client.watch(CHANNEL, EVENTS, NOTIFY_URL, TOKEN, ahead(fake, WEEK))
        client.unwatch(CHANNEL)
    assert caplog.records  # the calls were logged (retry, enable, disable) ...
    shown = caplog.text + repr(channel) + repr(listed) + str(refused.value)
    assert TOKEN not in shown  # ... but never the token
    assert not hasattr(channel, "token")


# -- the fake's callbacks ---------------------------------------------------------------


def test_the_fake_calls_back_as_zoho_does(fake: FakeZoho, client: ZohoClient) -> None:
    client.watch(
        CHANNEL, ["Appointments.all", "Contacts.edit"], NOTIFY_URL, TOKEN, ahead(fake, WEEK)
    )
    body = fake.callback(CHANNEL, "Appointments", ["52001", "52002"], "edit")
    assert body["token"] == TOKEN
    assert (body["channel_id"], body["module"], body["ids"]) == (
        str(CHANNEL),
        "Appointments",
        ["52001", "52002"],
    )
    assert body["operation"] == "update"
    assert set(body) >= {"server_time", "query_params", "resource_uri", "affected_fields"}
    with pytest.raises(LookupError):
        fake.callback(CHANNEL, "Contacts", ["41001"], "delete")  # not watched
