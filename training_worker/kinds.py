"""Every job kind, by name. Adding a kind: its folder under ``training_worker/`` (params,
handler, checks, ``KIND``) plus one line here (see the README's Layout)."""

from __future__ import annotations

from training_worker import augmentation, combiner, detector, evaluate, finetune, indexing, lens_build, suggest, tagging
from training_worker.jobs import HandlerRegistry, UnknownJobKind
from training_worker.jobs.kind import JobKind

JOB_KINDS: dict[str, JobKind] = {kind.name: kind for kind in (
    indexing.KIND,
    tagging.KIND,
    augmentation.KIND,
    finetune.KIND,
    combiner.KIND,
    evaluate.KIND,
    detector.KIND,
    suggest.KIND,
    lens_build.KIND,
)}


def job_kind(name: str) -> JobKind:
    try:
        return JOB_KINDS[name]
    except KeyError:
        raise UnknownJobKind(name, sorted(JOB_KINDS)) from None


# kind -> "module:function": imported when a job of the kind first runs.
DEFAULT_HANDLERS: dict[str, str] = {name: kind.handler for name, kind in JOB_KINDS.items()}


def default_registry() -> HandlerRegistry:
    """The handlers of every kind."""
    return HandlerRegistry(DEFAULT_HANDLERS)
