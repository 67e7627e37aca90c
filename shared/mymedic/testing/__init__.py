"""Test doubles of outside services, faithful to their documented wire formats, for
contract and end-to-end tests (synthetic data only)."""
