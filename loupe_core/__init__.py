"""Below every Loupe package: the settings (``loupe_core.settings``) and the version."""

__version__ = "0.1.0"
