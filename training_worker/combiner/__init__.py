"""The ``combiner`` job: CLIP4Cir's Combiner for composed search (image + modification text),
trained on (reference, text, target) triplets from CIRR, FashionIQ or CSV files."""

from training_worker.jobs.kind import JobKind

from .params import CombinerParams, check_combiner

KIND = JobKind(
    name="combiner", title="Train a Combiner for composed search", params=CombinerParams, check=check_combiner,
    handler="training_worker.combiner.job:combiner_job", progress_unit="step", gpu=True,
    description="Trains CLIP4Cir's Combiner (two projection branches and a gate mixing the raw text and image "
                "features) on triplets read from CIRR or FashionIQ captions JSON or a CSV of image files or catalog "
                "regions, with the model of the vector composed search queries frozen. Evaluated against the "
                "zero-shot baseline; made the active Combiner for that vector unless activate is false.")

__all__ = ["KIND", "CombinerParams"]
