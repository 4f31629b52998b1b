"""The ``index`` job: embed every catalog image (whole, annotated regions, automatic views)
with a model and keep the vector index in step with the catalog, incrementally.

``job.index_job`` is the handler; ``Indexer`` does the work and is usable without the jobs
machinery. Importing this package imports no torch.
"""

from training_worker.jobs.kind import JobKind

from .model_ref import ModelRef
from .params import IndexParams, check_index
from .summary import IndexSummary

KIND = JobKind(
    name="index", title="Index the catalog's images", params=IndexParams, check=check_index,
    handler="training_worker.indexing.job:index_job", progress_unit="image", writes_index=True,
    description="Embeds new and changed catalog images (whole image, annotated regions, automatic views) "
                "into the vector index and removes points of images that left the catalog. Incremental and "
                "resumable: a second run writes nothing new.")

__all__ = ["KIND", "IndexParams", "IndexSummary", "ModelRef"]
