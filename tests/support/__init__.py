"""Test helpers shared across test folders (a real local HTTP server, ...)."""
