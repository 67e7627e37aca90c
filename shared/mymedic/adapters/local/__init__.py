"""The embedded default: SQLite event store and documents, in-process bus, DuckDB."""
