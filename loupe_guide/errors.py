"""Errors of the guide domain (the search service maps them to HTTP answers)."""

from __future__ import annotations


class GuideError(Exception):
    """Something about a guide is wrong; the message says what and where."""


class UnknownGuide(GuideError):
    """No guide of that id (no definition, no catalog source of that name, no bundle)."""


class UnknownGuideItem(GuideError):
    """The guide has no item of that id."""


class InvalidOverride(GuideError):
    """A curator's override that cannot be stored (``field`` names the part)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field
