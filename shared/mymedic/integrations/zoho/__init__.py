"""Zoho CRM ingestion: one-way, never writing back. Webhooks (Notifications API channel
callbacks and workflow-rule webhooks) for deltas, Bulk Read for history, an hourly
delta sync by ``Modified_Time`` that catches what webhooks missed."""
