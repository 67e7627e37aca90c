"""Use cases: command handling, projections, the outbox relay and replay."""
