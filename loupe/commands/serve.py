"""``loupe serve``: the search service, and in the embedded default the job workers too.

The embedded default is one process: it owns the vector index (Qdrant local mode), answers
HTTP with werkzeug's threaded server, and runs jobs (indexing; `loupe index --background`
queues them) in worker threads that write through the same open index. That is enough for a
small museum. To scale out, run Qdrant and Redis (docker-compose.yml), set LOUPE_QDRANT_URL
and LOUPE_REDIS_URL, run `loupe worker` processes for jobs, and serve the app with a WSGI
server instead, e.g.::
    gunicorn --workers 4 --threads 4 --bind 0.0.0.0:8600 'search_service.wsgi:app'
"""

from __future__ import annotations

import signal
import threading

import click

from loupe_core.settings import Settings
from loupe_index import IndexLockedError, VectorIndexError
from search_service.app import create_app
from search_service.services import Services
from search_service.serving import make_json_server
from training_worker.broker import EmbeddedWorker
from training_worker.resources import JobResources


@click.command("serve")
@click.option("--host", default=None, help="Address to listen on (setting host; default 127.0.0.1).")
@click.option("--port", type=click.IntRange(0, 65535), default=None,
              help="Port (setting port; default 8600; 0: any free port).")
@click.option("--no-jobs", is_flag=True, help="Do not run jobs in this process (embedded default only).")
@click.pass_obj
def serve(settings: Settings, host: str | None, port: int | None, no_jobs: bool) -> None:
    """Serve the search API, IIIF Content Search, annotations, published collections and the
    web pages; API docs at /docs. Stop with Ctrl-C or SIGTERM."""
    settings = settings.replace(host=host or settings.host, port=settings.port if port is None else port)
    settings.ensure_dirs()
    services = Services(settings, index_role="server (loupe serve)")
    try:
        index = services.index  # owned from now on (local mode); fail now rather than on the first search
    except (IndexLockedError, VectorIndexError) as e:
        services.close()
        raise click.ClickException(str(e)) from None
    worker = _start_jobs(settings, services, index) if not (settings.redis_url or no_jobs) else None
    threading.Thread(target=services.warm, name="warm-up", daemon=True).start()
    app = create_app(settings, services=services)
    server = make_json_server(settings.host, settings.port, app, max_connections=settings.max_connections)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    jobs = ("jobs run here" if worker else "jobs run in `loupe worker` processes" if settings.redis_url
            else "jobs not run here (--no-jobs)")
    click.echo(f"Loupe serving on http://{settings.host}:{server.port} (API docs at /docs; {jobs}); "
               "Ctrl-C stops", err=True)
    try:
        server.serve_forever()  # returns on KeyboardInterrupt (Ctrl-C, or SIGTERM below)
    finally:
        click.echo("Loupe: stopping", err=True)
        if worker is not None:
            worker.stop()
        services.close()


def _start_jobs(settings: Settings, services, index):  # noqa: ANN001, ANN202 - EmbeddedWorker
    """The embedded default's worker threads, writing through the server's open index."""

    worker = EmbeddedWorker(settings, resources=JobResources(index=index, models=services.model_cache)).start()
    services.attach_jobs(worker.queue)
    return worker


def _stop_on_sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
