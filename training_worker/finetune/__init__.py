"""The ``finetune`` job: CLIP fine-tuned on the catalog's annotated regions and images, saved
as a versioned checkpoint (``NAME@vN``) that is indexed beside the base model."""

from training_worker.jobs.kind import JobKind

from .params import FinetuneParams, check_finetune

KIND = JobKind(
    name="finetune", title="Fine-tune CLIP on the catalog", params=FinetuneParams, check=check_finetune,
    handler="training_worker.finetune.job:finetune_job", progress_unit="step", gpu=True,
    description="Fine-tunes the CLIP model on region crops with their annotation texts, tags and labels, and whole "
                "images with their labels and metadata (symmetric contrastive loss). The result is the next "
                "checkpoint version NAME@vN with its parameters and evaluation; `loupe index --model NAME@vN` "
                "indexes it beside the base model and `--activate` switches searches to it. A retried job resumes "
                "from its last saved step.")

__all__ = ["KIND", "FinetuneParams"]
