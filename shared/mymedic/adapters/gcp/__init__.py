"""Adapters for the ``gcp`` backend: Google Cloud services behind the ports."""
