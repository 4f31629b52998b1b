"""The Flask application factory: no global app, settings passed in, one blueprint per area.

    from search_service.app import create_app
    app = create_app(settings)                      # opens what it needs on first use
    app = create_app(settings, services=services)   # tests and `loupe serve` pass their own

Blueprints are listed as data (``BLUEPRINTS``: module, attribute). Each blueprint module
may document its endpoints in ``OPENAPI_PATHS`` (see ``openapi``); a test fails when a
route is left undocumented.
"""

from __future__ import annotations

import atexit
import importlib
from pathlib import Path
from types import ModuleType

from flask import Flask

from loupe_core.settings import Settings

from .cors import register_cors
from .errors import register_error_handlers
from .iiif_search import DEFAULT_PAGE_SIZE
from .json_body import RequestJSONProvider
from .openapi import MODULES_EXTENSION
from .request_checks import register_request_checks
from .request_ids import register_request_ids
from .security_headers import register_security_headers
from .services import EXTENSION, Services
from .uploads import body_limit
from .web.lens import DIST_CONFIG as LENS_DIST
from .web.viewer import DIST_CONFIG as VIEWER_DIST

BLUEPRINTS: list[tuple[str, str]] = [
    ("search_service.api.search", "bp"),
    ("search_service.api.tagging", "bp"),
    ("search_service.api.vocabularies", "bp"),
    ("search_service.api.reviews", "bp"),
    ("search_service.api.combiners", "bp"),
    ("search_service.api.lens_guides", "bp"),
    ("search_service.iiif_search", "bp"),
    ("search_service.annotations_out", "bp"),
    ("search_service.thumbnails", "bp"),
    ("search_service.web.pages", "bp"),
    ("search_service.web.viewer", "bp"),
    ("search_service.web.evaluations", "bp"),
    ("search_service.web.lens", "bp"),
    ("search_service.api.lens_stats", "bp"),
    ("search_service.published", "bp"),
    ("search_service.api.system", "bp"),
    ("search_service.api.jobs", "bp"),
    ("search_service.openapi", "bp"),
    ("search_service.ops", "bp"),
]


def create_app(settings: Settings, *, services: Services | None = None) -> Flask:
    """The application. With ``services`` given, its settings are the ones used and the
    caller closes it; otherwise the app makes its own, closed when the process exits."""
    if services is None:
        services = Services(settings)
        atexit.register(services.close)
    settings = services.settings
    app = Flask("search_service", static_folder=None)
    app.config.update(
        MAX_CONTENT_LENGTH=body_limit(settings),
        LOUPE_IIIF_PAGE_SIZE=DEFAULT_PAGE_SIZE,
    )
    if settings.web_dist_dir:  # an installed package (the Docker image): the built apps are elsewhere
        built = Path(settings.web_dist_dir).expanduser()
        app.config.update({VIEWER_DIST: str(built / "viewer_plugin"), LENS_DIST: str(built / "lens")})
    app.json = RequestJSONProvider(app)  # request bodies parsed within limits (depth, numbers, text)
    app.json.sort_keys = False  # type: ignore[attr-defined] - IIIF documents read best in their own order
    app.extensions[EXTENSION] = services
    register_request_ids(app)
    register_error_handlers(app)
    register_request_checks(app)
    register_cors(app)
    register_security_headers(app, settings)
    app.extensions[MODULES_EXTENSION] = register_blueprints(app, BLUEPRINTS)
    return app


def register_blueprints(app: Flask, blueprints: list[tuple[str, str]]) -> list[ModuleType]:
    modules = []
    for module_name, attribute in blueprints:
        module = importlib.import_module(module_name)
        app.register_blueprint(getattr(module, attribute))
        modules.append(module)
    return modules
