"""The ``index`` job: embed every catalog image (whole, annotated regions, automatic views)
with a CLIP model and keep the vector index in step with the catalog, incrementally.

``index_job(ctx)`` is the handler (registered as kind ``index``); ``Indexer`` does the work
and is usable without the jobs machinery. Importing this package imports no torch.
"""

from loupe_models.identity import vector_name_for

from .model_ref import ModelRef
from .params import IndexParams
from .summary import IndexSummary

__all__ = ["IndexParams", "IndexSummary", "ModelRef", "vector_name_for"]
