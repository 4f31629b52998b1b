"""``@image_work``: a view that decodes images or runs the model holds a slot of the app's
``ImageGate`` (``image_limits``) while it runs, taken once its request body is read, so that
a slow client's upload never holds one."""

from __future__ import annotations

from functools import wraps
from typing import Callable, TypeVar

from flask import request

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
