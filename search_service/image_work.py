"""``@image_work``: a view that decodes images or runs the model holds a slot of the app's
``ImageGate`` (``image_limits``) while it runs, taken once its request body is read, so that
a slow client's upload never holds one. ``@model_rate_limited``: such a view, when anonymous,
counts against its client's rate limit (``rate_limits``) before anything else."""

from __future__ import annotations

from functools import wraps
from typing import Callable, TypeVar

from flask import request

from .auth import has_valid_key
from .rate_limits import check_rate
from .services import get_services

F = TypeVar("F", bound=Callable)


def image_work(view: F) -> F:
    """Decorator: the view runs holding an image slot, once the request body is read."""

    @wraps(view)
    def gated(*args, **kwargs):  # noqa: ANN202 - whatever the view returns
        request.get_data(cache=True, parse_form_data=True)  # a form is parsed, another body cached
        with get_services().image_gate.slot():
            return view(*args, **kwargs)

    return gated  # type: ignore[return-value]


def model_rate_limited(view: F) -> F:
    """Decorator: a request without a valid API key counts against its client's limit of
    requests that run the model; beyond it, 429 with Retry-After."""

    @wraps(view)
    def limited(*args, **kwargs):  # noqa: ANN202 - whatever the view returns
        services = get_services()
        if services.rate_limiter is not None and not has_valid_key():
            check_rate(services.rate_limiter, services.settings, request)
        return view(*args, **kwargs)

    return limited  # type: ignore[return-value]
