"""State shared by the reader while it walks one document: where problems go, the URL
prefix of their paths, the Presentation version in force and the canvases seen so far."""

from __future__ import annotations

from dataclasses import dataclass, field

from iiif.model import Problem, Severity


def join(path: str, key: str | int) -> str:
    """``join("items[0]", "body") == "items[0].body"``; ``join("items", 2) == "items[2]"``."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


@dataclass
class ReadContext:
    url: str | None = None
    version: int = 3  # Presentation major version of the document being read
    problems: list[Problem] = field(default_factory=list)
    # canvas id -> (width, height), filled before annotations are read so that percent
    # regions can be converted to canvas units.
    canvas_sizes: dict[str, tuple[int | None, int | None]] = field(default_factory=dict)
    # id -> path of the first resource that used it (canvases, pages, annotations).
    seen_ids: dict[str, str] = field(default_factory=dict)

    def where(self, path: str) -> str:
        if not path:
            return self.url or "document"
        return f"{self.url} {path}" if self.url else path

    def add(self, path: str, what: str, severity: Severity = "error") -> None:
        self.problems.append(Problem(where=self.where(path), what=what, severity=severity))

    def error(self, path: str, what: str) -> None:
        self.add(path, what, "error")

    def warn(self, path: str, what: str) -> None:
        self.add(path, what, "warning")

    def register_id(self, ident: str, path: str, kind: str) -> None:
        """Note that ``ident`` names a resource; warn when another one already used it."""
        first = self.seen_ids.get(ident)
        if first is None:
            self.seen_ids[ident] = path
        elif first != path:
            self.warn(path, f"{kind} id {ident!r} is already used at {first}; ids must be unique")
