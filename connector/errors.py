"""The one exception every fetch failure becomes.

It lives in its own module so that ``netguard``, ``robots``, ``http`` and ``images`` can all
raise it without importing each other; ``connector.http`` re-exports it as public API.
"""

from __future__ import annotations

from typing import Literal

FetchErrorKind = Literal["blocked", "robots", "too_large", "timeout", "http", "network", "invalid", "scheme"]

#: Every kind, with what it means; callers branch on ``kind``, people read ``str(error)``.
FETCH_ERROR_KINDS: dict[str, str] = {
    "blocked": "the address is loopback/private/link-local/... and the source is not allowed to reach it",
    "robots": "robots.txt disallows the URL, or could not be fetched and Loupe is waiting before crawling",
    "too_large": "the response (or image) exceeds the configured size or pixel limit",
    "timeout": "connecting or reading took longer than the configured timeouts",
    "http": "the server answered with an error status (after any retries), or too many redirects",
    "network": "DNS, connection or TLS failure (after any retries)",
    "invalid": "the body is not what was expected (malformed JSON, corrupt image, bad URL)",
    "scheme": "only http:// and https:// URLs are fetched (file://, ftp://, data: ... are refused)",
}


class FetchError(Exception):
    """A URL could not be fetched. ``str(e)`` is one readable line that names the URL."""

    def __init__(self, url: str, kind: FetchErrorKind | str, detail: str, *, status: int | None = None) -> None:
        self.url = url
        self.kind = kind
        self.status = status
        # One line: server messages and tracebacks sometimes carry newlines.
        self.detail = " ".join(str(detail).split())
        super().__init__(str(self))

    def __str__(self) -> str:
        return f"cannot fetch {self.url}: {self.detail}"

    def __reduce__(self):  # keep url/kind/status when pickled (job queues, process pools)
        return (_rebuild, (type(self), self.url, self.kind, self.detail, self.status))


def _rebuild(cls: type[FetchError], url: str, kind: str, detail: str, status: int | None) -> FetchError:
    err = cls.__new__(cls)
    FetchError.__init__(err, url, kind, detail, status=status)
    return err
