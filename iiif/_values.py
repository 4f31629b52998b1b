"""Small tolerant accessors for raw JSON values: ids, types, integers and URI lists, in
either Presentation 2 (``@id``, ``@type``, prefixed types) or 3 (``id``, ``type``) form."""

from __future__ import annotations

import math
import re
from typing import Any

from iiif._context import ReadContext, join
from iiif.html import IMAGE_SCHEMES, SCRIPT_SCHEMES, is_safe_url, url_scheme

# Canonical spellings of the types the reader cares about; prefixes such as ``sc:``,
# ``oa:``, ``dctypes:``, ``iiif:`` and ``cnt:`` are removed before the lookup.
_KNOWN_TYPES = (
    "Manifest", "Collection", "Canvas", "Sequence", "Range", "Layer", "AnnotationList",
    "AnnotationPage", "AnnotationCollection", "Annotation", "SpecificResource", "Choice",
    "Image", "Sound", "Audio", "Video", "Text", "Dataset", "Model", "TextualBody",
    "ContentAsText", "Tag", "Timeline", "Scene", "Agent", "FragmentSelector", "SvgSelector",
    "PointSelector", "ImageApiSelector", "CssSelector", "RangeSelector", "TextQuoteSelector",
    "ImageService1", "ImageService2", "ImageService3", "ImageService", "OrderedCollection",
    "OrderedCollectionPage", "CssStyle",
)
_CANONICAL = {t.lower(): t for t in _KNOWN_TYPES}
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")
_NOT_IN_URIS = re.compile(r"[\x00-\x20\x7f<>\"{}|\\^`]")  # RFC 3986 never has these unescaped


def with_article(word: str) -> str:
    """``"Image"`` -> ``"an Image"``, ``"Video"`` -> ``"a Video"``."""
    return f"{'an' if word[:1].upper() in 'AEIOU' else 'a'} {word}"


def as_list(value: Any) -> list:
    """``None`` -> ``[]``; a list as it is; anything else wrapped in a list."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


def normalise_type(value: Any) -> str | None:
    """``"sc:Manifest"`` -> ``"Manifest"``, ``"dctypes:Image"`` -> ``"Image"``; unknown
    strings are returned without their prefix; non-strings give ``None``."""
    if not isinstance(value, str):
        return None
    name = value.strip()
    if name.startswith(("http://", "https://")):
        name = re.split(r"[#/]", name)[-1]
    elif ":" in name:
        name = name.split(":", 1)[1]
    return _CANONICAL.get(name.lower(), name) or None


def node_types(obj: Any) -> list[str]:
    """All types of a JSON object (``type`` or ``@type``, a string or a list), normalised."""
    if not isinstance(obj, dict):
        return []
    raw = obj.get("type", obj.get("@type"))
    return [t for t in (normalise_type(v) for v in as_list(raw)) if t]


def node_type(obj: Any) -> str | None:
    types = node_types(obj)
    return types[0] if types else None


def raw_id(obj: Any) -> Any:
    if isinstance(obj, dict):
        return obj.get("id", obj.get("@id"))
    return None


def id_key(obj: dict) -> str:
    """The key under which ``obj`` keeps (or should keep) its id, for problem paths."""
    if "id" in obj:
        return "id"
    return "@id" if ("@id" in obj or "@type" in obj) else "id"


def is_absolute_uri(value: str) -> bool:
    return bool(_SCHEME.match(value))


def clean_id(value: Any, path: str, ctx: ReadContext, *, kind: str = "resource",
             required: bool = True) -> str | None:
    """A resource id, stripped; a Problem (and ``None``) when missing or not a string, a
    warning when it is not an absolute URI."""
    if value is None:
        if required:
            ctx.error(path, f"{kind} has no id")
        return None
    if not isinstance(value, str):
        ctx.error(path, f"{kind} id must be a string, not {type(value).__name__} {value!r}"[:200])
        return None
    ident = value.strip()
    if not ident:
        ctx.error(path, f"{kind} id is empty")
        return None
    if not is_absolute_uri(ident):
        ctx.warn(path, f"{kind} id {ident!r} is not an absolute URI")
    return ident


def reference_id(value: Any) -> str | None:
    """The URI of a reference given as a string or as an object with an id; no Problems."""
    if isinstance(value, str):
        return value.strip() or None
    ident = raw_id(value)
    if isinstance(ident, str):
        return ident.strip() or None
    return None


def reference_ids(value: Any, path: str, ctx: ReadContext, what: str) -> list[str]:
    """URIs from a string, an object with an id, or a list of them (thumbnail, homepage,
    logo, partOf, within, related...). Entries without a usable URI are reported."""
    out: list[str] = []
    items = as_list(value)
    for i, item in enumerate(items):
        ident = reference_id(item)
        here = join(path, i) if isinstance(value, list) else path
        if ident is None:
            ctx.warn(here, f"{what} has no URI; ignored")
        elif ident not in out:
            out.append(ident)
    return out


def split_fragment(uri: str) -> tuple[str, str | None]:
    base, sep, fragment = uri.strip().partition("#")
    return base, (fragment if sep else None)


def to_int(value: Any, path: str, ctx: ReadContext, name: str) -> int | None:
    """A positive integer dimension (width, height); Problems for anything else."""
    if value is None:
        return None
    number: float | None = None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
            ctx.warn(path, f"{name} is given as a string ({value!r}); it should be a number")
        except ValueError:
            number = None
    if number is None or not math.isfinite(number):
        ctx.error(path, f"{name} is not an integer: {value!r}"[:200])
        return None
    if number != int(number):
        ctx.warn(path, f"{name} {value!r} is not an integer; rounded")
    result = int(round(number))
    if result <= 0:
        ctx.error(path, f"{name} must be positive, got {value!r}")
        return None
    return result


def to_float(value: Any) -> float | None:
    """A finite number from a number or numeric string, else ``None`` (no Problems)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def first_string(value: Any) -> str | None:
    """The first non-empty string in a string or list (format, language, rights...)."""
    for item in as_list(value):
        if isinstance(item, str) and item.strip():
            return item.strip()
        ident = reference_id(item) if isinstance(item, dict) else None
        if ident:
            return ident
    return None


def rights_uri(value: str | None, path: str, ctx: ReadContext, what: str = "rights") -> str | None:
    """A rights (v2 license) value kept only when it is an absolute http(s) URI, as the
    licence URIs of Creative Commons and RightsStatements.org are: viewers make it a link,
    so ``javascript:`` and friends, in any spelling, and free text are dropped with a warning."""
    if value is None:
        return None
    text = value.strip()
    if is_safe_url(text, IMAGE_SCHEMES, relative=False) and not _NOT_IN_URIS.search(text):
        return text
    scheme = url_scheme(text)
    why = (f"an unsafe {scheme}: URL" if scheme and scheme not in IMAGE_SCHEMES else
           "not a clean http(s) URI")
    report = ctx.error if scheme in SCRIPT_SCHEMES else ctx.warn
    report(path, f"{what} {text[:100]!r} is {why}; dropped")
    return None
