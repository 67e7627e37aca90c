"""The alerts job: tenants' alert rules checked against the warehouse, e-mailed once
per rule, window and subject (see ``job``)."""
