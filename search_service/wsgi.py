"""The application for a WSGI server (scale-out), configured from the environment::

    gunicorn --workers 4 --threads 4 --bind 0.0.0.0:8600 'search_service.wsgi:app'

Several worker processes cannot share Qdrant local mode (one process owns it): set
LOUPE_QDRANT_URL (a Qdrant server) and LOUPE_REDIS_URL (jobs run in `loupe worker`
processes) first. For one machine, `loupe serve` is the simpler choice.
"""

from __future__ import annotations

from loupe_core.logs import configure_logging
from loupe_core.settings import Settings
from search_service.app import create_app

settings = Settings.load()
configure_logging(settings)
app = create_app(settings)
