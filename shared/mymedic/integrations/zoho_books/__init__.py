"""Zoho Books invoices and customer payments, synced into our invoices.

Books shares the tenant's Zoho OAuth client (and its access token) with the CRM; the
refresh token must carry the ``ZohoBooks.invoices.READ`` and
``ZohoBooks.customerpayments.READ`` scopes. The tenant's mapping file names the
organisation and the invoice custom fields that link an invoice to our appointment::

    [books]
    organization_id = "60012345678"
    appointment_field = "cf_appointment_id"   # the default
    branch_field = "cf_branch_id"             # the default; else the appointment's branch
    payer_type = "self_pay"                   # the default
"""
