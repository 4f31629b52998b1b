"""The JSON API, one blueprint per area: search (``search``), tagging (``tagging``), and the
service's health, status, models and admin endpoints (``system``)."""
