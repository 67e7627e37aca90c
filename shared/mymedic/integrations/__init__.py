"""Integrations with the systems of record MyMedic reads from (Zoho CRM, gateways)."""
