"""Errors of the model layer; each message says what to do next."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

TRY_TINY = ("To try Loupe without real weights, use a tiny test model: LOUPE_MODEL=loupe-tiny "
            "(random weights: it runs, but its search results mean nothing).")


class ModelError(Exception):
    """Base class: something about a model cannot be used."""


class UnknownModel(ModelError, KeyError):
    def __init__(self, name: str, known: Sequence[str]) -> None:
        self.name = name
        self.known = list(known)
        super().__init__(f"unknown model {name!r}; known models: {', '.join(known)} (see `loupe models list`)")

    def __str__(self) -> str:  # KeyError would quote the message
        return self.args[0]

    def __reduce__(self):  # picklable (job queues and process pools pass errors on)
        return type(self), (self.name, self.known)


class ModelDependencyMissing(ModelError, ImportError):
    """A Python package that the model's code needs is not installed."""


class ModelWeightsMissing(ModelError, FileNotFoundError):
    """No checkpoint was found locally and none could be downloaded.

    Never answered by random weights: the caller either gets the real model or this error.
    """

    def __init__(self, model: str, expected: Sequence[Path], directory: Path, reason: str,
                 hf_repo: str | None = None, hf_files: Sequence[str] = ()) -> None:
        self.model = model
        self.expected = list(expected)
        self.directory = directory
        self.reason = reason
        self.hf_repo = hf_repo
        self.hf_files = tuple(hf_files)
        lines = [f"weights for model {model!r} not found, and {reason}.",
                 "Put the checkpoint in one of these places:"]
        lines += [f"  {p}" for p in self.expected]
        if hf_repo:
            files = " or ".join(hf_files)
            lines.append(f"The file is {files} from the Hugging Face repository {hf_repo} "
                         f"(https://huggingface.co/{hf_repo}); on a machine with internet, "
                         f"`hf download {hf_repo} {hf_files[0] if hf_files else ''}` fills the "
                         "Hugging Face cache, which Loupe also reads (hf_cache_dir / HF_HUB_CACHE).")
        lines.append("Or point LOUPE_MODEL_PATH (setting model_path) at a checkpoint file anywhere.")
        lines.append(TRY_TINY)
        super().__init__("\n".join(lines))

    def __str__(self) -> str:
        return self.args[0]

    def __reduce__(self):
        return type(self), (self.model, self.expected, self.directory, self.reason, self.hf_repo, self.hf_files)


class TextNotSupported(ModelError, TypeError):
    """An image-only model (an image backbone, no text tower) was asked to encode text."""

    def __init__(self, model: str, clip_model: str, expected: Path) -> None:
        self.model = model
        self.clip_model = clip_model
        self.expected = expected
        super().__init__(
            f"model {model!r} encodes images only: text search and composed (image + text) "
            f"search need a CLIP model's weights. Put the {clip_model} checkpoint at {expected} "
            f"(or point LOUPE_MODEL_PATH at it, or fill the Hugging Face cache), then "
            f"`loupe index --model {clip_model}`; search by image, by region and 'similar' work "
            f"with {model!r} as it is.")

    def __str__(self) -> str:
        return self.args[0]

    def __reduce__(self):
        return type(self), (self.model, self.clip_model, self.expected)
