"""The OAuth redirect URI served once on this machine: after consent, Zoho sends the
browser to ``http://127.0.0.1:<port>/zoho/callback?code=...``, and this small server
takes that one request, answers the browser with a short page and hands the query
parameters over. It never logs a request: the URL holds the authorization code."""

from __future__ import annotations

import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from types import TracebackType
from typing import Self
from urllib.parse import parse_qsl, urlsplit

CALLBACK_PATH = "/zoho/callback"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost"})

_DONE = (
    "<!doctype html><html><head><meta charset='utf-8'><title>MyMedic</title></head>"
    "<body><h1>{title}</h1><p>{text}</p></body></html>"
)


class LoopbackError(Exception):
    """The redirect URI cannot be served here, or no answer came in time."""


class _Server(HTTPServer):
    expected_path: str = CALLBACK_PATH
    answer: dict[str, str] | None = None


class _Handler(BaseHTTPRequestHandler):
    timeout = 10  # seconds: a connection that sends nothing does not hold the wait up

    def do_GET(self) -> None:
        server = self.server
        assert isinstance(server, _Server)  # noqa: S101 - only ever served by _Server
        url = urlsplit(self.path)
        if url.path != server.expected_path:
            self._page(404, "Not found", "This is not the page Zoho sends you back to.")
            return
        params = dict(parse_qsl(url.query, keep_blank_values=True))
        if "code" not in params and "error" not in params:
            self._page(400, "No answer from Zoho", "This address expects Zoho's redirect.")
            return
        server.answer = params
        if "error" in params:
            self._page(200, "Zoho did not grant access", "Return to the terminal for details.")
        else:
            self._page(
                200,
                "MyMedic received Zoho's answer",
                "You can close this tab and return to the terminal.",
            )

    def _page(self, status: int, title: str, text: str) -> None:
        body = _DONE.format(title=title, text=text).encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """No access log: the request line holds the authorization code."""


class LoopbackRedirect:
    """Listens on the redirect URI's port at once (port 0: a free one, chosen by the
    system, so ``redirect_uri`` is known before the browser is sent anywhere)."""

    def __init__(self, redirect_uri: str | None = None) -> None:
        if redirect_uri is None:
            host, port, path = "127.0.0.1", 0, CALLBACK_PATH
        else:
            host, port, path = _loopback(redirect_uri)
        try:
            self._server = _Server(("127.0.0.1", port), _Handler)
        except OSError as exc:
            raise LoopbackError(f"cannot listen on 127.0.0.1:{port}: {exc.strerror}") from None
        self._server.expected_path = path
        chosen = self._server.server_address[1]
        self.redirect_uri = redirect_uri or f"http://{host}:{chosen}{path}"

    def wait(self, timeout_seconds: float) -> dict[str, str]:
        """The query parameters of the first request to the redirect path."""
        deadline = time.monotonic() + timeout_seconds
        while self._server.answer is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise LoopbackError(
                    f"no answer from Zoho within {timeout_seconds:g} s at {self.redirect_uri}"
                )
            self._server.timeout = remaining
            self._server.handle_request()
        return self._server.answer

    def close(self) -> None:
        self._server.server_close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _loopback(redirect_uri: str) -> tuple[str, int, str]:
    url = urlsplit(redirect_uri)
    try:
        port = url.port or 80
    except ValueError:
        raise LoopbackError(f"{redirect_uri!r} has an invalid port") from None
    if url.scheme != "http" or url.hostname not in LOOPBACK_HOSTS:
        raise LoopbackError(
            f"{redirect_uri!r} is not served here: a redirect URI for the browser flow is "
            "http://127.0.0.1:<port>/... (or localhost); for another one, paste the code "
            "with --code"
        )
    return url.hostname, port, url.path or "/"
