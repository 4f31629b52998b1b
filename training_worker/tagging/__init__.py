"""The ``tag`` job: zero-shot tags for every image (and annotated region) of a collection,
stored as machine annotations for curators to accept or reject."""

from training_worker.jobs.kind import JobKind

from .params import TagParams, check_tag

KIND = JobKind(
    name="tag", title="Tag a collection (zero-shot)", params=TagParams, check=check_tag,
    handler="training_worker.tagging.job:tag_job", progress_unit="image",
    description="Tags every image (and annotated region) of the collection and stores the tags as machine "
                "annotations for curators to review, as `loupe tag` does. Rerunning replaces the model's earlier "
                "proposals and keeps curators' decisions.")

__all__ = ["KIND", "TagParams"]
