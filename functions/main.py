"""Cloud Functions entry points (functions-framework). Each is a few lines over the
application layer in the ``mymedic`` package."""

from __future__ import annotations

from typing import Any

import functions_framework
from flask import Request, Response

from mymedic import entrypoints


@functions_framework.http
def commands(request: Request) -> Response:
    """Booking commands: POST /commands/<name>, GET /openapi.json."""
    return entrypoints.commands(request)


@functions_framework.http
def jobs(request: Request) -> Response:
    """Scheduled jobs: POST /jobs/outbox-relay, POST /jobs/projection-catch-up,
    POST /jobs/zoho-delta-sync[?tenant=T&module=M], POST /jobs/zoho-backfill[?...],
    POST /jobs/zoho-renew-channels (daily: keeps the Zoho notification channels alive),
    POST /jobs/zoho-books-sync (Zoho Books invoices and payments into our invoices),
    POST /jobs/zoho-formula-refresh (daily: formula fields, which move no Modified_Time),
    POST /jobs/settlement-detail (fetches the lines of gateway settlements),
    POST /jobs/google-ads-sync, POST /jobs/alerts[?window=D] (alert rules over a day),
    POST /jobs/snapshots[?date=D] (the snapshot e-mails due that day)."""
    return entrypoints.jobs(request)


@functions_framework.http
def zoho_webhook(request: Request) -> Response:
    """Zoho CRM webhooks: Notifications API channel callbacks and workflow-rule
    webhooks (X-Zoho-Webhook-Secret), POST to the function's URL."""
    return entrypoints.zoho_webhook(request)


@functions_framework.http
def stripe_webhook(request: Request) -> Response:
    """Stripe webhooks (Stripe-Signature verified), POST to the function's URL."""
    return entrypoints.payment_webhook(request, "stripe")


@functions_framework.http
def razorpay_webhook(request: Request) -> Response:
    """Razorpay webhooks (X-Razorpay-Signature verified), POST to the function's URL."""
    return entrypoints.payment_webhook(request, "razorpay")


@functions_framework.http
def audit(request: Request) -> Response:
    """An appointment's audit trail: GET /audit/appointments/<id>?tenant_id=<tenant>."""
    return entrypoints.audit(request)


@functions_framework.http
def read(request: Request) -> Response:
    """Read models: GET /<model>?tenant_id=<tenant>&... (calendar, doctor_schedule,
    portal_slots, payments, follow_ups)."""
    return entrypoints.read(request)


@functions_framework.cloud_event
def project_calendar(cloud_event: Any) -> None:
    """Pub/Sub push subscription → clinic calendar read model."""
    entrypoints.project("calendar", cloud_event)


@functions_framework.cloud_event
def project_warehouse(cloud_event: Any) -> None:
    """Pub/Sub push subscription → warehouse facts and dimensions."""
    entrypoints.project("warehouse_facts", cloud_event)


@functions_framework.cloud_event
def project_read_models(cloud_event: Any) -> None:
    """Pub/Sub push subscription → directory, schedule, payments and follow-up read models."""
    entrypoints.project("read_models", cloud_event)
