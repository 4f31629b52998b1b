"""Parameters several job kinds take, read the same way everywhere."""

from __future__ import annotations

from typing import Any

from connector.catalog import Catalog, CatalogError
from loupe_core.settings import Settings
from loupe_models import UnknownModel, get_spec
from loupe_models.training.checkpoints import CheckpointStore, split_ref

from .kind import UnknownReference
from .params import ParamError, param


def registry_model(value: Any) -> str:
    """A model the registry knows (``loupe models list``)."""
    if not isinstance(value, str):
        raise ParamError(f"model must be a registry name such as 'MobileCLIP2-S0', not {value!r}", field="model")
    try:
        get_spec(value.strip())
    except UnknownModel as e:
        raise ParamError(str(e), field="model") from None
    return value.strip()


def model_param() -> Any:
    return param(None, "registry model (`loupe models list`); default: the model setting",
                 parse=registry_model, schema={"type": "string"})


def check_model(settings: Settings, model: str | None) -> None:
    """The job's model, or the model setting when it names none, is one the registry knows."""
    registry_model(model or settings.model)


def model_or_checkpoint(value: Any) -> str:
    """A registry model, or one of its fine-tuned checkpoints as ``NAME@vN``."""
    if not isinstance(value, str):
        raise ParamError(f"model must be a registry name or NAME@vN, not {value!r}", field="model")
    try:
        name, version = split_ref(value)
    except ValueError as e:
        raise ParamError(str(e), field="model") from None
    registry_model(name)
    return value.strip() if version is None else f"{name}@v{version}"


def model_or_checkpoint_param() -> Any:
    return param(None, "registry model (`loupe models list`) or a fine-tuned checkpoint NAME@vN "
                       "(`loupe finetune list`); default: the model setting",
                 parse=model_or_checkpoint, schema={"type": "string"})


def check_model_or_checkpoint(settings: Settings, model: str | None) -> None:
    """As ``check_model``; a checkpoint NAME@vN must be in the data directory."""
    name, version = split_ref(model or settings.model)
    registry_model(name)
    if version is not None:
        try:
            CheckpointStore(settings).get(f"{name}@v{version}")
        except UnknownModel as e:
            raise UnknownReference(str(e), field="model", code="unknown_model") from None


def source_ref(value: Any) -> str:
    """A source's id (a number or digits), name or URL, as text."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ParamError(f"source must be a source's id, name or URL, not {value!r}", field="source")
    return str(value).strip()


def check_source(catalog: Catalog, source: str | None) -> None:
    """The catalog holds ``source`` (or none is named)."""
    if source is None:
        return
    try:
        catalog.get_source(source)
    except CatalogError as e:
        raise UnknownReference(str(e), field="source", code="unknown_source") from None
