"""Job kinds and the handlers that run them, as data: ``kind -> "module:function"``.

Handlers are imported when a job of their kind runs, so that the worker, the server and the
command line can name every kind without importing torch. The kinds' handlers are
``training_worker.kinds.DEFAULT_HANDLERS``; tests add their own with
``HandlerRegistry({**DEFAULT_HANDLERS, "mine": my_handler})`` or ``register``.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any, Callable, Mapping, Union

if TYPE_CHECKING:  # pragma: no cover
    from .context import JobContext

Handler = Callable[["JobContext"], Union[dict[str, Any], None]]


class UnknownJobKind(LookupError):
    def __init__(self, kind: str, known: list[str]) -> None:
        super().__init__(f"no handler for jobs of kind {kind!r}; known kinds: {', '.join(known) or 'none'}")

    def __str__(self) -> str:
        return self.args[0]


class HandlerRegistry:
    def __init__(self, handlers: Mapping[str, Union[str, Handler]]) -> None:
        self._handlers: dict[str, Union[str, Handler]] = dict(handlers)

    def register(self, kind: str, handler: Union[str, Handler]) -> None:
        """``handler``: a function, or ``"module:function"`` imported when first needed."""
        self._handlers[kind] = handler

    def kinds(self) -> list[str]:
        return sorted(self._handlers)

    def __contains__(self, kind: object) -> bool:
        return kind in self._handlers

    def resolve(self, kind: str) -> Handler:
        target = self._handlers.get(kind)
        if target is None:
            raise UnknownJobKind(kind, self.kinds())
        if isinstance(target, str):
            module, _, attr = target.partition(":")
            target = getattr(import_module(module), attr)
            self._handlers[kind] = target
        return target
