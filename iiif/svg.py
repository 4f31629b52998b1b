"""Outline points from the SVG that annotation tools put in an ``SvgSelector``.

Mirador 2 writes ``<path d="M..c..z"/>`` (paper.js, relative commands, curves), Mirador 3
and Annotorious write ``<path>`` or ``<polygon>``, others ``<rect>``, ``<circle>`` or
``<ellipse>``. The SVG is scanned with regular expressions, not an XML parser, because
published values are often not well-formed XML (and nothing here should resolve entities).
Curves and arcs are sampled, so bounding boxes include their bulges. ``transform``
attributes are not applied (reported by the caller).
"""

from __future__ import annotations

import math
import re

Point = tuple[float, float]

_ELEMENT = re.compile(r"<\s*(path|polygon|polyline|rect|circle|ellipse|line)\b([^>]*)>", re.IGNORECASE)
_ATTR = re.compile(r"""([A-Za-z_:][\w:.-]*)\s*=\s*("([^"]*)"|'([^']*)')""")
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_CURVE_STEPS = 8
_ELLIPSE_STEPS = 32


class SvgError(ValueError):
    """The SVG has no shape that could be read."""


def _attributes(text: str) -> dict[str, str]:
    return {m.group(1).lower(): (m.group(3) if m.group(3) is not None else m.group(4)) for m in _ATTR.finditer(text)}


def _numbers(text: str) -> list[float]:
    return [float(n) for n in _NUMBER.findall(text or "")]


def _num(attrs: dict[str, str], name: str, default: float | None = None) -> float | None:
    values = _numbers(attrs.get(name, ""))
    return values[0] if values else default


def svg_shapes(svg: str) -> list[list[Point]]:
    """Every outline (one list of points per closed or open subpath/shape), in order."""
    shapes: list[list[Point]] = []
    for m in _ELEMENT.finditer(svg):
        name = m.group(1).lower()
        attrs = _attributes(m.group(2))
        if name == "path":
            shapes.extend(s for s in path_points(attrs.get("d", "")) if s)
        elif name in ("polygon", "polyline"):
            values = _numbers(attrs.get("points", ""))
            points = list(zip(values[0::2], values[1::2]))
            if points:
                shapes.append(points)
        elif name == "rect":
            x, y = _num(attrs, "x", 0.0), _num(attrs, "y", 0.0)
            w, h = _num(attrs, "width"), _num(attrs, "height")
            if w is not None and h is not None and w >= 0 and h >= 0:
                shapes.append([(x, y), (x + w, y), (x + w, y + h), (x, y + h)])
        elif name in ("circle", "ellipse"):
            cx, cy = _num(attrs, "cx", 0.0), _num(attrs, "cy", 0.0)
            if name == "circle":
                rx = ry = _num(attrs, "r")
            else:
                rx, ry = _num(attrs, "rx"), _num(attrs, "ry")
            if rx is not None and ry is not None and rx > 0 and ry > 0:
                shapes.append([(cx + rx * math.cos(2 * math.pi * k / _ELLIPSE_STEPS),
                                cy + ry * math.sin(2 * math.pi * k / _ELLIPSE_STEPS))
                               for k in range(_ELLIPSE_STEPS)])
        elif name == "line":
            coords = [_num(attrs, k) for k in ("x1", "y1", "x2", "y2")]
            if all(c is not None for c in coords):
                shapes.append([(coords[0], coords[1]), (coords[2], coords[3])])
    cleaned = []
    for shape in shapes:
        if len(shape) > 2 and shape[0] == shape[-1]:
            shape = shape[:-1]  # the closing point repeats the first
        cleaned.append(shape)
    return cleaned


def has_transform(svg: str) -> bool:
    return bool(re.search(r"\btransform\s*=", svg))


def bounding_box(points: list[Point]) -> tuple[float, float, float, float]:
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    return min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)


# --- path data ---------------------------------------------------------------------------

class _Scanner:
    """Reads numbers and arc flags from SVG path data (flags may be written ``01`` unseparated)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def _skip(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in " \t\r\n,":
            self.pos += 1

    def command(self) -> str | None:
        self._skip()
        if self.pos < len(self.text) and self.text[self.pos].isalpha():
            self.pos += 1
            return self.text[self.pos - 1]
        return None

    def at_number(self) -> bool:
        self._skip()
        return self.pos < len(self.text) and (self.text[self.pos].isdigit() or self.text[self.pos] in "+-.")

    def number(self) -> float:
        self._skip()
        m = _NUMBER.match(self.text, self.pos)
        if not m:
            raise SvgError(f"expected a number at position {self.pos} of the path data")
        self.pos = m.end()
        return float(m.group())

    def flag(self) -> bool:
        self._skip()
        if self.pos < len(self.text) and self.text[self.pos] in "01":
            self.pos += 1
            return self.text[self.pos - 1] == "1"
        raise SvgError(f"expected an arc flag at position {self.pos} of the path data")

    def done(self) -> bool:
        self._skip()
        return self.pos >= len(self.text)


def _bezier(points: list[Point], t: float) -> Point:
    while len(points) > 1:
        points = [(a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t) for a, b in zip(points, points[1:])]
    return points[0]


def _arc(start: Point, rx: float, ry: float, angle: float, large: bool, sweep: bool, end: Point) -> list[Point]:
    """Points along an elliptical arc (SVG 1.1 implementation notes F.6.5), end included."""
    if start == end:
        return []
    rx, ry = abs(rx), abs(ry)
    if rx == 0 or ry == 0:
        return [end]
    phi = math.radians(angle % 360)
    cos_p, sin_p = math.cos(phi), math.sin(phi)
    dx, dy = (start[0] - end[0]) / 2, (start[1] - end[1]) / 2
    x1, y1 = cos_p * dx + sin_p * dy, -sin_p * dx + cos_p * dy
    scale = (x1 * x1) / (rx * rx) + (y1 * y1) / (ry * ry)
    if scale > 1:
        rx, ry = rx * math.sqrt(scale), ry * math.sqrt(scale)
    num = rx * rx * ry * ry - rx * rx * y1 * y1 - ry * ry * x1 * x1
    den = rx * rx * y1 * y1 + ry * ry * x1 * x1
    coef = math.sqrt(max(0.0, num / den)) if den else 0.0
    if large == sweep:
        coef = -coef
    cx1, cy1 = coef * rx * y1 / ry, -coef * ry * x1 / rx
    cx = cos_p * cx1 - sin_p * cy1 + (start[0] + end[0]) / 2
    cy = sin_p * cx1 + cos_p * cy1 + (start[1] + end[1]) / 2

    def angle_of(ux: float, uy: float) -> float:
        return math.atan2(uy, ux)

    theta1 = angle_of((x1 - cx1) / rx, (y1 - cy1) / ry)
    delta = angle_of((-x1 - cx1) / rx, (-y1 - cy1) / ry) - theta1
    if sweep and delta < 0:
        delta += 2 * math.pi
    elif not sweep and delta > 0:
        delta -= 2 * math.pi
    steps = max(2, int(abs(delta) / (math.pi / 8)) + 1)
    out = []
    for k in range(1, steps + 1):
        theta = theta1 + delta * k / steps
        ex, ey = rx * math.cos(theta), ry * math.sin(theta)
        out.append((cos_p * ex - sin_p * ey + cx, sin_p * ex + cos_p * ey + cy))
    out[-1] = end
    return out


def path_points(d: str) -> list[list[Point]]:
    """Subpaths of SVG path data as point lists; curves and arcs are sampled."""
    scanner = _Scanner(d)
    subpaths: list[list[Point]] = []
    current: list[Point] = []
    x = y = 0.0
    start = (0.0, 0.0)
    last_ctrl: Point | None = None  # for S/s and T/t reflections
    last_cmd = ""
    cmd: str | None = None
    while not scanner.done():
        new_cmd = scanner.command()
        if new_cmd is not None:
            if new_cmd not in "MmLlHhVvCcSsQqTtAaZz":
                raise SvgError(f"unknown path command {new_cmd!r}")
            cmd = new_cmd
        elif cmd is None:
            raise SvgError("path data does not start with a command")
        elif cmd in "Mm":
            cmd = "L" if cmd == "M" else "l"  # extra pairs after a move are line-tos
        if cmd in "Zz":
            if new_cmd is None:
                raise SvgError(f"unexpected number after a close-path at position {scanner.pos}")
            if current:
                subpaths.append(current)
            current = []
            x, y = start
            last_ctrl, last_cmd = None, cmd
            continue
        if not scanner.at_number():
            if new_cmd is None:
                raise SvgError(f"unexpected character at position {scanner.pos} of the path data")
            raise SvgError(f"path command {cmd!r} has no coordinates")
        rel = cmd.islower()
        ox, oy = (x, y) if rel else (0.0, 0.0)
        upper = cmd.upper()
        if upper == "M":
            if current:
                subpaths.append(current)
            x, y = ox + scanner.number(), oy + scanner.number()
            start = (x, y)
            current = [(x, y)]
            last_ctrl = None
        elif upper == "L":
            x, y = ox + scanner.number(), oy + scanner.number()
            current.append((x, y))
            last_ctrl = None
        elif upper == "H":
            x = ox + scanner.number()
            current.append((x, y))
            last_ctrl = None
        elif upper == "V":
            y = oy + scanner.number()
            current.append((x, y))
            last_ctrl = None
        elif upper in "CSQT":
            p0 = (x, y)
            if upper == "C":
                c1 = (ox + scanner.number(), oy + scanner.number())
                c2 = (ox + scanner.number(), oy + scanner.number())
            elif upper == "S":
                c1 = (2 * x - last_ctrl[0], 2 * y - last_ctrl[1]) if last_ctrl and last_cmd in "CcSs" else p0
                c2 = (ox + scanner.number(), oy + scanner.number())
            elif upper == "Q":
                c1 = c2 = (ox + scanner.number(), oy + scanner.number())
            else:  # T
                c1 = c2 = (2 * x - last_ctrl[0], 2 * y - last_ctrl[1]) if last_ctrl and last_cmd in "QqTt" else p0
            end = (ox + scanner.number(), oy + scanner.number())
            controls = [p0, c1, c2, end] if upper in "CS" else [p0, c1, end]
            current.extend(_bezier(controls, k / _CURVE_STEPS) for k in range(1, _CURVE_STEPS + 1))
            last_ctrl = c2
            x, y = end
        elif upper == "A":
            rx, ry, angle = scanner.number(), scanner.number(), scanner.number()
            large, sweep = scanner.flag(), scanner.flag()
            end = (ox + scanner.number(), oy + scanner.number())
            current.extend(_arc((x, y), rx, ry, angle, large, sweep, end))
            x, y = end
            last_ctrl = None
        if not current:
            current = [(x, y)]
        last_cmd = cmd
    if current:
        subpaths.append(current)
    return [s for s in subpaths if len(s) >= 1]
