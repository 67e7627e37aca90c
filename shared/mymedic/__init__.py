"""MyMedic: an event-sourced data platform for outpatient and imaging clinic chains."""

__version__ = "0.1.0"
