"""The ``tag`` job handler (registered in ``training_worker.jobs.registry``): zero-shot tags
for a collection's images, stored as machine annotations (``loupe_tagging``).

Parameters (``TagParams``): ``collection`` (``all``, a source id/name/URL, a collection URI or
key), ``vocabulary`` (a stored list's key or ``default``; or inline: a list of labels, or
``{"name", "labels"}``; default each collection's curator list), ``threshold``, ``top_k``,
``regions`` (also tag annotated regions), ``model`` (default the model setting).

Progress counts images; cancel is checked between manifests. A stopped run keeps the manifests
it finished (tagging is idempotent: a retry converges on the same tags).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, Mapping

from training_worker.jobs import JobContext

DEFAULT_THRESHOLD = 0.2  # as loupe_tagging.collection (not imported here: kept light)
DEFAULT_TOP_K = 3
INLINE_NAME = "inline"
# Problems (images that could not be fetched) written to the job's log; the result has them all.
LOGGED_PROBLEMS = 20


@dataclass(frozen=True)
class TagParams:
    collection: str
    vocabulary: str | dict[str, Any] | None = None  # a name; or inline {"name", "labels": [...]}
    threshold: float = DEFAULT_THRESHOLD
    top_k: int = DEFAULT_TOP_K
    regions: bool = True
    model: str | None = None

    @classmethod
    def from_dict(cls, params: Mapping[str, Any]) -> "TagParams":
        """Checked parameters; raises ValueError (VocabularyError is one) saying what is wrong."""
        from loupe_tagging.collection import check_options

        known = {f.name for f in fields(cls)}
        unknown = sorted(set(params) - known)
        if unknown:
            raise ValueError(f"unknown tag job parameter(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        collection = params.get("collection")
        if not isinstance(collection, str) or not collection.strip():
            raise ValueError("collection is required: 'all', a source id or name, a collection URI or key")
        threshold, top_k, regions = params.get("threshold"), params.get("top_k"), params.get("regions")
        if threshold is not None and (isinstance(threshold, bool) or not isinstance(threshold, (int, float))):
            raise ValueError("threshold must be a number between 0 and 1")
        if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int)):
            raise ValueError("top_k must be an integer")
        if regions is not None and not isinstance(regions, bool):
            raise ValueError("regions must be true or false")
        model = params.get("model")
        if model is not None and not isinstance(model, str):
            raise ValueError("model must be a registry name")
        out = cls(collection.strip(), _vocabulary_param(params.get("vocabulary")),
                  DEFAULT_THRESHOLD if threshold is None else float(threshold),
                  DEFAULT_TOP_K if top_k is None else top_k, True if regions is None else regions, model or None)
        check_options(out.threshold, out.top_k)
        return out

    def as_dict(self) -> dict[str, Any]:
        """The collection and what differs from the defaults (what `loupe jobs show` prints)."""
        defaults = TagParams(self.collection)
        return {k: v for k, v in asdict(self).items() if k == "collection" or v != getattr(defaults, k)}

    def vocabulary_value(self):  # noqa: ANN201 - str | Vocabulary | None, as tag_collection takes it
        from loupe_tagging import make_vocabulary

        if isinstance(self.vocabulary, dict):
            return make_vocabulary(self.vocabulary["name"], self.vocabulary["labels"])
        return self.vocabulary


def _vocabulary_param(value: Any) -> str | dict[str, Any] | None:
    """A name as it is; an inline list (or ``{"name"?, "labels"}``) checked and normalised."""
    from loupe_tagging import VocabularyError, make_vocabulary

    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, list):
        name, labels = INLINE_NAME, value
    elif isinstance(value, Mapping):
        name, labels = value.get("name") or INLINE_NAME, value.get("labels")
        if not isinstance(name, str) or not isinstance(labels, list):
            raise VocabularyError('an inline vocabulary is a list of labels or {"name"?, "labels": [...]}')
    else:
        raise VocabularyError("vocabulary: a stored list's key, 'default', or a list of labels")
    vocabulary = make_vocabulary(name, labels)
    return {"name": vocabulary.name, "labels": [t.as_json() for t in vocabulary.terms]}


def tag_job(ctx: JobContext) -> dict[str, Any]:
    from loupe_tagging import tag_collection

    params = TagParams.from_dict(ctx.params)
    settings = ctx.settings.replace(model=params.model) if params.model else ctx.settings
    model = ctx.resources.model(settings, settings.model)  # ModelWeightsMissing (saying where) before any work
    ctx.set_message(f"tagging {params.collection} with {model.version}")
    report = tag_collection(settings, params.collection, vocabulary=params.vocabulary_value(),
                            threshold=params.threshold, top_k=params.top_k, regions=params.regions, model=model,
                            progress=lambda done, total: ctx.progress(done, total), should_stop=ctx.cancelled)
    for problem in report.problems[:LOGGED_PROBLEMS]:
        ctx.log(f"warning: {problem}")
    if len(report.problems) > LOGGED_PROBLEMS:
        ctx.log(f"... and {len(report.problems) - LOGGED_PROBLEMS} more problems (the result lists them all)")
    done = (f"{report.proposed} tags proposed for {report.images} images and {report.regions} regions "
            f"of {report.collection}")
    ctx.set_message(f"{done} before stopping" if report.stopped else done)
    return report.as_json()
