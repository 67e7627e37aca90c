"""``mymedic serve``: every HTTP function behind one local port, each under its prefix."""

from __future__ import annotations

from flask import Flask, Request, Response, request

from mymedic import entrypoints
from mymedic.app.openapi import openapi_document


def create_server() -> Flask:
    app = Flask("mymedic")

    @app.get("/healthz")
    def healthz() -> Response:
        return entrypoints.json_response(200, {"status": "ok"})

    @app.get("/openapi.json")
    def openapi() -> Response:
        return entrypoints.json_response(200, openapi_document())

    @app.route("/commands", defaults={"path": ""}, methods=["GET", "POST"])
    @app.route("/commands/<path:path>", methods=["GET", "POST"])
    def commands(path: str) -> Response:
        current: Request = request
        return entrypoints.commands(current)

    @app.route("/jobs/<path:name>", methods=["GET", "POST"])
    def jobs(name: str) -> Response:
        return entrypoints.jobs(request)

    @app.route("/audit/<path:path>", methods=["GET", "POST"])
    def audit(path: str) -> Response:
        return entrypoints.audit(request)

    @app.route("/read/<path:model>", methods=["GET", "POST"])
    def read(model: str) -> Response:
        return entrypoints.read(request)

    @app.route("/dashboards", defaults={"name": ""}, methods=["GET", "POST"])
    @app.route("/dashboards/<path:name>", methods=["GET", "POST"])
    def dashboards(name: str) -> Response:
        return entrypoints.dashboards(request)

    @app.route("/webhooks/zoho", methods=["GET", "POST"])
    def zoho_webhook() -> Response:
        return entrypoints.zoho_webhook(request)

    @app.route("/webhooks/stripe", methods=["GET", "POST"])
    @app.route("/webhooks/razorpay", methods=["GET", "POST"])
    def payment_webhook() -> Response:
        return entrypoints.payment_webhook(request)

    @app.errorhandler(404)
    def not_found(_: Exception) -> Response:
        return entrypoints.json_response(404, {"error": "not_found", "message": request.path})

    @app.errorhandler(405)
    def not_allowed(_: Exception) -> Response:
        return entrypoints.json_response(
            405, {"error": "method_not_allowed", "message": request.method}
        )

    return app
