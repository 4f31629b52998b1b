"""Plumbing shared by every Loupe package: settings and logging."""

__version__ = "0.1.0"
