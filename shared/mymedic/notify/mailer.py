"""Outgoing e-mail over SMTP (smtplib, STARTTLS), retried on transient failures.

A send that still fails after the retries raises :class:`MailDeliveryFailed` naming the
recipients' count and the SMTP reply, never the message body (it may hold figures of a
clinic, or, for an alert, a branch's numbers): the caller records the failure and
reports it; nothing is dropped silently."""

from __future__ import annotations

import logging
import smtplib
import ssl
import time
from collections.abc import Callable
from email.message import EmailMessage
from typing import Protocol

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from mymedic.settings import Settings

log = logging.getLogger(__name__)

DEFAULT_ATTEMPTS = 4
TIMEOUT_SECONDS = 30.0


class MailDeliveryFailed(Exception):
    pass


class MailNotConfigured(MailDeliveryFailed):
    pass


class Mailer(Protocol):
    def send(self, message: EmailMessage) -> None: ...


# 4xx replies are the server's "try again later"; 5xx are final.
class _TryAgain(Exception):
    pass


class SmtpMailer:
    def __init__(
        self,
        host: str,
        port: int,
        *,
        sender: str,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = True,
        attempts: int = DEFAULT_ATTEMPTS,
        max_backoff: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self._username = username
        self._password = password
        self._starttls = starttls
        self._attempts = attempts
        self._max_backoff = max_backoff
        self._sleep = sleep

    @property
    def attempts(self) -> int:
        """How many times a message is tried before MailDeliveryFailed."""
        return self._attempts

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpMailer:
        missing = [
            name
            for name, value in (
                ("MYMEDIC_SMTP_HOST", settings.smtp_host),
                ("MYMEDIC_SMTP_FROM", settings.smtp_from),
            )
            if not value
        ]
        if missing:
            raise MailNotConfigured(f"e-mail is not configured: set {', '.join(missing)}")
        assert settings.smtp_host is not None and settings.smtp_from is not None  # noqa: S101
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        return cls(
            settings.smtp_host,
            settings.smtp_port,
            sender=settings.smtp_from,
            username=settings.smtp_username,
            password=password,
            starttls=settings.smtp_starttls,
        )

    def send(self, message: EmailMessage) -> None:
        if "From" not in message:
            message["From"] = self.sender
        recipients = [
            address.strip()
            for header in ("To", "Cc", "Bcc")
            for address in str(message.get(header, "")).split(",")
            if address.strip()
        ]
        if not recipients:
            raise MailDeliveryFailed("the message names no recipient")
        retrying = Retrying(
            stop=stop_after_attempt(self._attempts),
            wait=wait_exponential_jitter(initial=1, max=self._max_backoff, jitter=1),
            retry=retry_if_exception_type(_TryAgain),
            before_sleep=_log_retry,
            reraise=True,
            sleep=self._sleep,
        )
        try:
            retrying(self._deliver, message, recipients)
        except _TryAgain as exc:
            raise MailDeliveryFailed(
                f"SMTP {self.host}:{self.port} still failing after {self._attempts} attempts "
                f"({len(recipients)} recipients): {exc}"
            ) from None

    def _deliver(self, message: EmailMessage, recipients: list[str]) -> None:
        try:
            with smtplib.SMTP(self.host, self.port, timeout=TIMEOUT_SECONDS) as smtp:
                if self._starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self._username and self._password:
                    smtp.login(self._username, self._password)
                refused = smtp.send_message(message, to_addrs=recipients)
        except smtplib.SMTPResponseException as exc:
            error = exc.smtp_error
            text = error.decode(errors="replace") if isinstance(error, bytes) else str(error)
            reply = f"{exc.smtp_code} {text[:200]}"
            if 400 <= exc.smtp_code < 500:
                raise _TryAgain(reply) from exc
            raise MailDeliveryFailed(f"SMTP refused the message: {reply}") from exc
        except smtplib.SMTPRecipientsRefused as exc:
            raise MailDeliveryFailed(f"SMTP refused all {len(exc.recipients)} recipients") from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise _TryAgain(type(exc).__name__) from exc
        if refused:
            raise MailDeliveryFailed(f"SMTP refused {len(refused)} of {len(recipients)} recipients")


def _log_retry(state: RetryCallState) -> None:
    failure = state.outcome.exception() if state.outcome else None
    log.warning("SMTP attempt %d failed (%s); retrying", state.attempt_number, failure)
