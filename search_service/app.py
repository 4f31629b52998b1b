"""The Flask application factory: no global app, settings passed in, one blueprint per area.

    from search_service.app import create_app
    app = create_app(settings)                      # opens what it needs on first use
    app = create_app(settings, services=services)   # tests and `loupe serve` pass their own

Blueprints are listed as data (``BLUEPRINTS``: module, attribute). A module that does not
exist yet is left out with a warning, so the service runs while areas are being built; any
other import error is raised. Each blueprint module may document its endpoints in
``OPENAPI_PATHS`` (see ``openapi``).
"""

from __future__ import annotations

import atexit
import importlib
import logging
from types import ModuleType

from flask import Flask

from loupe_core.settings import Settings

from .cors import register_cors
from .errors import register_error_handlers
from .iiif_search import DEFAULT_PAGE_SIZE
from .openapi import MODULES_EXTENSION
from .services import EXTENSION, Services
from .uploads import body_limit

log = logging.getLogger(__name__)

BLUEPRINTS: list[tuple[str, str]] = [
    ("search_service.api.search", "bp"),
    ("search_service.api.tagging", "bp"),
    ("search_service.iiif_search", "bp"),
    ("search_service.annotations_out", "bp"),
    ("search_service.web.pages", "bp"),
    ("search_service.published", "bp"),
    ("search_service.api.system", "bp"),
    ("search_service.openapi", "bp"),
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
    app.json.sort_keys = False  # type: ignore[attr-defined] - IIIF documents read best in their own order
    app.extensions[EXTENSION] = services
    register_error_handlers(app)
    register_cors(app)
    app.extensions[MODULES_EXTENSION] = register_blueprints(app, BLUEPRINTS)
    return app


def register_blueprints(app: Flask, blueprints: list[tuple[str, str]]) -> list[ModuleType]:
    modules = []
    for module_name, attribute in blueprints:
        module = _import_if_present(module_name)
        if module is None:
            continue
        app.register_blueprint(getattr(module, attribute))
        modules.append(module)
    return modules


def _import_if_present(module_name: str) -> ModuleType | None:
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        # Only the blueprint's own module (or its package) being absent; a missing
        # dependency inside an existing module is a real error.
        if e.name and (module_name == e.name or module_name.startswith(e.name + ".")) and e.name.startswith(
                "search_service."):
            log.warning("blueprint module %s does not exist yet; its endpoints are left out", module_name)
            return None
        raise
