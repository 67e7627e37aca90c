"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives, for tests and
the demo: started on a free port, stopped by its owner. It can refuse the next messages
with a temporary 451 to prove the sender retries."""

from __future__ import annotations

import email
import email.policy
import threading
from email.message import EmailMessage
from types import TracebackType
from typing import Any, Self

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from mymedic.emulators import free_port


class _Handler:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.refuse_next = 0
        self._lock = threading.Lock()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        with self._lock:
            if self.refuse_next > 0:
                self.refuse_next -= 1
                return "451 4.3.0 try again later"
            raw = envelope.content if isinstance(envelope.content, bytes) else b""
            parsed = email.message_from_bytes(raw, policy=email.policy.default)
            assert isinstance(parsed, EmailMessage)
            self.messages.append(parsed)
            self.envelopes.append((str(envelope.mail_from), list(envelope.rcpt_tos)))
        return "250 OK"


class LoopbackSmtpServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.host = "127.0.0.1"
        self._handler = _Handler()
        self._controller = Controller(self._handler, hostname=self.host, port=self.port)

    @property
    def messages(self) -> list[EmailMessage]:
        return list(self._handler.messages)

    @property
    def envelopes(self) -> list[tuple[str, list[str]]]:
        return list(self._handler.envelopes)

    def refuse_next(self, count: int) -> None:
        self._handler.refuse_next = count

    def start(self) -> Self:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()

    def settings_update(self) -> dict[str, Any]:
        """What to put in Settings to send here (no TLS, no login on loopback)."""
        return {
            "smtp_host": self.host,
            "smtp_port": self.port,
            "smtp_from": "reports@mymedic.example",
            "smtp_starttls": False,
        }
