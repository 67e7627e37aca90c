"""The SMTP mailer against a real SMTP server on loopback (synthetic addresses)."""

from __future__ import annotations

from collections.abc import Iterator
from email.message import EmailMessage

import pytest

from mymedic.notify.mailer import MailDeliveryFailed, MailNotConfigured, SmtpMailer
from mymedic.settings import Settings
from tests.smtp_server import LoopbackSmtpServer


@pytest.fixture
def smtp() -> Iterator[LoopbackSmtpServer]:
    with LoopbackSmtpServer() as server:
        yield server


def _mailer(server: LoopbackSmtpServer, attempts: int = 3) -> SmtpMailer:
    settings = Settings().model_copy(update=server.settings_update())
    mailer = SmtpMailer.from_settings(settings)
    return SmtpMailer(
        mailer.host,
        mailer.port,
        sender=mailer.sender,
        starttls=False,
        attempts=attempts,
        sleep=lambda _: None,
    )


def _message() -> EmailMessage:
    message = EmailMessage()
    message["To"] = "ops@clinic.example, finance@clinic.example"
    message["Subject"] = "Daily snapshot"
    message.set_content("figures")
    message.add_attachment(b"a,b\n1,2\n", maintype="text", subtype="csv", filename="r.csv")
    return message


def test_a_message_and_its_attachment_reach_the_server(smtp: LoopbackSmtpServer) -> None:
    _mailer(smtp).send(_message())
    [received] = smtp.messages
    assert received["Subject"] == "Daily snapshot"
    assert received["From"] == "reports@mymedic.example"
    [attachment] = list(received.iter_attachments())
    assert attachment.get_filename() == "r.csv"
    assert attachment.get_content() == "a,b\n1,2\n"
    assert sorted(smtp.envelopes[0][1]) == ["finance@clinic.example", "ops@clinic.example"]


def test_a_temporary_refusal_is_retried(smtp: LoopbackSmtpServer) -> None:
    smtp.refuse_next(2)
    _mailer(smtp, attempts=3).send(_message())
    assert len(smtp.messages) == 1


def test_a_lasting_refusal_is_reported_not_dropped(smtp: LoopbackSmtpServer) -> None:
    smtp.refuse_next(5)
    with pytest.raises(MailDeliveryFailed, match="after 3 attempts"):
        _mailer(smtp, attempts=3).send(_message())
    assert smtp.messages == []


def test_an_unreachable_server_is_reported() -> None:
    mailer = SmtpMailer(
        "127.0.0.1", 9, sender="x@example.org", starttls=False, attempts=2, sleep=lambda _: None
    )
    with pytest.raises(MailDeliveryFailed, match="still failing"):
        mailer.send(_message())


def test_without_settings_it_says_what_is_missing() -> None:
    with pytest.raises(MailNotConfigured, match="MYMEDIC_SMTP_HOST"):
        SmtpMailer.from_settings(Settings())
