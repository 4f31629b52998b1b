"""A job kind's parameters: one frozen dataclass per kind, from which the checks, the defaults,
the API's field list and its OpenAPI schema all derive.

    @dataclass(frozen=True)
    class IndexParams(JobParams):
        kind_name: ClassVar[str] = "index"
        source: str | None = param(None, "id, name or URL of one source; default: every source")
        batch_images: int = param(16, "images per index write", minimum=1)

``from_dict`` checks any mapping (a stored job's parameters, an API body, the command line's
options): unknown fields, types, ranges and choices; ``None`` means "the default". Fields
whose values need more than a type (a vocabulary given inline, say) name a ``parse`` function
and the JSON schema of what it takes. ``check`` is a hook for rules across fields.
``as_dict`` is what differs from the defaults (what a job stores and `loupe jobs show` prints).
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any, Callable, ClassVar, Mapping, TypeVar

P = TypeVar("P", bound="JobParams")

# Types a field may have without a parse function, and their JSON schema types.
_JSON_TYPES = {str: "string", int: "integer", float: "number", bool: "boolean"}


class ParamError(ValueError):
    """A parameter is missing, unknown, of the wrong type or out of range (``field`` names it;
    ``code``, when set, is a more precise word for the API than "invalid_parameter")."""

    def __init__(self, message: str, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code

    def __str__(self) -> str:
        return self.message


def param(default: Any = dataclasses.MISSING, help: str = "", *, minimum: float | None = None,  # noqa: A002
          maximum: float | None = None, choices: tuple[Any, ...] | None = None,
          parse: Callable[[Any], Any] | None = None, schema: Mapping[str, Any] | None = None) -> Any:
    """A parameter field: its default (none: required), a one-line help (the API's description
    and the command line's), bounds or choices, and for values of no simple type a ``parse``
    function (raising ValueError with a message) with the JSON ``schema`` of what it takes."""
    metadata = {"help": help, "minimum": minimum, "maximum": maximum, "choices": choices, "parse": parse,
                "schema": dict(schema) if schema else None}
    if default is dataclasses.MISSING:
        return dataclasses.field(metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


@dataclasses.dataclass(frozen=True)
class JobParams:
    kind_name: ClassVar[str] = "job"

    # --- reading -------------------------------------------------------------------------
    @classmethod
    def from_dict(cls: type[P], values: Mapping[str, Any] | None) -> P:
        """Checked parameters; raises ParamError saying which field is wrong and why."""
        values = {} if values is None else values
        if not isinstance(values, Mapping):
            raise ParamError(f"the parameters of a {cls.kind_name} job are an object: {cls.shape()}")
        known = cls.field_names()
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ParamError(f"unknown {cls.kind_name} job parameter(s) {', '.join(unknown)}; "
                             f"known: {', '.join(known)}", field=unknown[0], code="unknown_parameter")
        hints = typing.get_type_hints(cls)
        chosen: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            raw = values.get(f.name)
            if raw is None or (isinstance(raw, str) and not raw.strip() and _optional(hints[f.name])):
                if _required(f):
                    raise ParamError(f"{f.name} is required: {f.metadata.get('help') or f.name}", field=f.name)
                continue
            chosen[f.name] = _read(f, hints[f.name], raw)
        out = cls(**chosen)
        out.check()
        return out

    def check(self) -> None:
        """Rules across fields; raise ParamError. The base has none."""

    # --- writing -------------------------------------------------------------------------
    def as_dict(self) -> dict[str, Any]:
        """Required fields and those that differ from their defaults."""
        out = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if _required(f) or value != f.default:
                out[f.name] = value
        return out

    # --- describing ----------------------------------------------------------------------
    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls))

    @classmethod
    def required_fields(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls) if _required(f))

    @classmethod
    def default(cls, name: str) -> Any:
        """The default of field ``name`` (for the command line's option defaults)."""
        return next(f.default for f in dataclasses.fields(cls) if f.name == name)

    @classmethod
    def help(cls, name: str) -> str:
        return next(f.metadata.get("help", "") for f in dataclasses.fields(cls) if f.name == name)

    @classmethod
    def shape(cls) -> str:
        """``{"collection", "threshold"?, ...}``: the fields, optional ones marked."""
        return "{" + ", ".join(f'"{f.name}"' + ("" if _required(f) else "?") for f in dataclasses.fields(cls)) + "}"

    @classmethod
    def json_schema(cls) -> dict[str, Any]:
        """The JSON schema of the parameters (the API's request body)."""
        hints = typing.get_type_hints(cls)
        properties: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            meta = f.metadata
            prop: dict[str, Any] = dict(meta.get("schema") or {"type": _JSON_TYPES[_base_type(hints[f.name])]})
            if meta.get("help"):
                prop["description"] = meta["help"]
            if not _required(f) and f.default is not None:
                prop["default"] = f.default
            for key in ("minimum", "maximum"):
                if meta.get(key) is not None:
                    prop[key] = meta[key]
            if meta.get("choices"):
                prop["enum"] = list(meta["choices"])
            properties[f.name] = prop
        schema: dict[str, Any] = {"type": "object", "additionalProperties": False, "properties": properties}
        if cls.required_fields():
            schema["required"] = list(cls.required_fields())
        return schema


def _required(f: dataclasses.Field) -> bool:
    return f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING


def _optional(hint: Any) -> bool:
    return type(None) in typing.get_args(hint)


def _base_type(hint: Any) -> type:
    """``str`` for ``str | None``; the hint itself for a plain type."""
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    base = args[0] if len(args) == 1 else hint
    if base not in _JSON_TYPES:
        raise TypeError(f"a parameter of type {hint} needs param(parse=..., schema=...)")
    return base


def _read(f: dataclasses.Field, hint: Any, raw: Any) -> Any:
    meta = f.metadata
    if meta.get("parse") is not None:
        try:
            return meta["parse"](raw)
        except ParamError as e:
            raise ParamError(e.message, field=e.field or f.name) from None
        except (TypeError, ValueError) as e:
            raise ParamError(f"{f.name}: {e}", field=f.name) from None
    base = _base_type(hint)
    # JSON and click give these types exactly; bool is an int in Python but not a number here.
    if base is bool:
        ok = isinstance(raw, bool)
    elif base is int:
        ok = isinstance(raw, int) and not isinstance(raw, bool)
    elif base is float:
        ok = isinstance(raw, (int, float)) and not isinstance(raw, bool)
    else:
        ok = isinstance(raw, str)
    if not ok:
        raise ParamError(f"{f.name} must be {_article(base)}, not {raw!r}", field=f.name)
    value = float(raw) if base is float else raw.strip() if base is str else raw
    low, high, choices = meta.get("minimum"), meta.get("maximum"), meta.get("choices")
    if (low is not None and value < low) or (high is not None and value > high):
        bounds = f"from {low:g} to {high:g}" if low is not None and high is not None else \
            f"at least {low:g}" if low is not None else f"at most {high:g}"
        raise ParamError(f"{f.name} must be {bounds}, not {raw!r}", field=f.name)
    if choices and value not in choices:
        raise ParamError(f"{f.name} must be one of {', '.join(map(str, choices))}, not {raw!r}", field=f.name)
    return value


def _article(base: type) -> str:
    return {str: "a text", int: "a whole number", float: "a number", bool: "true or false"}[base]
