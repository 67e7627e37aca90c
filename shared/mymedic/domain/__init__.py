"""The clinic domain: events, commands and aggregates. Pure: no I/O, no clock, no settings."""
