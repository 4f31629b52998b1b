"""The application for a WSGI server (scale-out), configured from the environment::

    gunicorn --workers 4 --threads 4 --bind 0.0.0.0:8600 'search_service.wsgi:app'

Several worker processes cannot all own a local index (one process writes it): set
LOUPE_QDRANT_URL (a Qdrant server), or LOUPE_LOCAL_INDEX_ACCESS=reader with one `loupe worker
--index-owner` writing the index; and LOUPE_REDIS_URL (jobs run in `loupe worker` processes).
Logs follow LOUPE_LOG_FORMAT and LOUPE_LOG_LEVEL. For one machine, `loupe serve` is the
simpler choice.
"""

from __future__ import annotations

from loupe_core.logs import configure_logging
from loupe_core.settings import Settings
from search_service.app import create_app

settings = Settings.load()
configure_logging(settings)
app = create_app(settings)
