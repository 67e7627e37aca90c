"""Looker Studio dashboards as code (looker/dashboards/*.json): the model that loads them,
the Linking API URL that creates each report, and a local HTML preview."""
