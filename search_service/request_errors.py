"""What can be wrong with a search request, said in the domain's words.

The engine, the parameter readers and the upload decoder raise these; only
``search_service.errors`` turns them into HTTP answers, and the command line (`loupe search`)
prints them. ``code`` is a stable machine-readable word, ``message`` says what was wrong and
what to do, ``field`` names the parameter at fault.
"""

from __future__ import annotations


class RequestProblem(Exception):
    default_code = "invalid_request"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code or self.default_code

    def __str__(self) -> str:
        return self.message


class InvalidRequest(RequestProblem):
    """A parameter, body or upload is malformed or out of range."""

    default_code = "invalid_parameter"


class NotInCatalog(RequestProblem):
    """The request names a manifest, canvas, image or result the catalog or index lacks."""

    default_code = "not_found"


class TooLarge(RequestProblem):
    """An upload is larger (bytes or pixels) than this service accepts."""

    default_code = "upload_too_large"


class UnsupportedImage(RequestProblem):
    """An upload is not an image format the service reads."""

    default_code = "unsupported_media_type"


class ImageUnavailable(RequestProblem):
    """A catalog image could not be fetched from its server."""

    default_code = "image_unavailable"


class Busy(RequestProblem):
    """Every slot for image work is taken and the queue is full or the wait ran out: the
    client should try again after ``retry_after_s`` seconds."""

    default_code = "busy"

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class RateLimited(RequestProblem):
    """A client made more requests that run the model than its limit allows: it may try
    again after ``retry_after_s`` seconds."""

    default_code = "rate_limited"

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s
