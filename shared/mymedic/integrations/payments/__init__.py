"""Payment gateway webhooks (Stripe, Razorpay): verify, map, ingest idempotently."""
