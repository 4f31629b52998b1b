"""Weight resolution: explicit file, models folder, Hugging Face cache; else a clear error."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pytest

from loupe_models import ModelWeightsMissing, Weights, find_local_weights, get_spec, resolve_weights
from loupe_models.weights import download_blocked, models_dir_files
from tests.support.deps import need


def test_missing_weights_name_the_files_the_folder_and_the_tiny_model(model_settings) -> None:
    spec = get_spec("MobileCLIP2-S0")
    with pytest.raises(ModelWeightsMissing) as info:
        resolve_weights(spec, model_settings)
    error = info.value
    folder = model_settings.models_dir.resolve() / "MobileCLIP2-S0"
    message = str(error)
    assert error.directory == folder
    assert str(folder / "open_clip_model.safetensors") in message
    assert str(folder / "open_clip_pytorch_model.bin") in message
    assert "timm/MobileCLIP2-S0-OpenCLIP" in message
    assert "LOUPE_MODEL=loupe-tiny" in message and "LOUPE_MODEL_PATH" in message
    assert "model_download = false" in message


def test_hf_hub_offline_is_honoured_and_fails_fast(model_settings) -> None:
    started = time.monotonic()
    reason = download_blocked(get_spec("ViT-B-32"), model_settings.replace(model_download=True))
    assert reason is not None and "HF_HUB_OFFLINE" in reason
    assert time.monotonic() - started < 1


def test_no_random_fallback_for_the_default_model(model_settings) -> None:
    from loupe_models import ModelCache, load_model

    cache = ModelCache()
    with pytest.raises(ModelWeightsMissing):
        load_model(model_settings, cache=cache)
    assert len(cache) == 0 and cache.loads == 0


def test_models_folder_is_searched_in_preference_order(model_settings) -> None:
    spec = get_spec("ViT-B-32")
    safetensors, binary = models_dir_files(spec, model_settings)
    binary.parent.mkdir(parents=True)
    binary.write_bytes(b"weights")
    assert find_local_weights(spec, model_settings) == Weights(binary, "models_dir")
    safetensors.write_bytes(b"weights")
    assert find_local_weights(spec, model_settings) == Weights(safetensors, "models_dir")


def test_explicit_checkpoint_comes_first_and_must_exist(model_settings, tmp_path: Path) -> None:
    spec = get_spec("MobileCLIP2-S0")
    checkpoint = tmp_path / "mine.safetensors"
    checkpoint.write_bytes(b"weights")
    chosen = model_settings.replace(model_path=str(checkpoint))
    assert find_local_weights(spec, chosen) == Weights(checkpoint, "model_path")
    # model_path belongs to the configured model only.
    assert find_local_weights(get_spec("ViT-B-32"), chosen) is None
    with pytest.raises(ModelWeightsMissing, match="does not exist"):
        find_local_weights(spec, model_settings.replace(model_path=str(tmp_path / "absent.bin")))


def test_hugging_face_cache_is_read_without_network(model_settings) -> None:
    """A cache laid out as huggingface_hub lays it out (blobs named by sha256, snapshot links)."""
    need("huggingface_hub")
    spec = get_spec("ViT-B-32")
    repo = Path(model_settings.hf_cache_dir) / "models--laion--CLIP-ViT-B-32-laion2B-s34B-b79K"
    content = b"not really weights"
    digest = hashlib.sha256(content).hexdigest()
    (repo / "blobs").mkdir(parents=True)
    (repo / "blobs" / digest).write_bytes(content)
    snapshot = repo / "snapshots" / "0123abcd"
    snapshot.mkdir(parents=True)
    (snapshot / "open_clip_model.safetensors").symlink_to(repo / "blobs" / digest)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("0123abcd")

    found = find_local_weights(spec, model_settings)
    assert found is not None and found.source == "hf_cache"
    assert found.path == snapshot / "open_clip_model.safetensors"
    assert found.fingerprint() == f"sha256-{digest[:16]}"


def test_fingerprints_identify_weights(tmp_path: Path) -> None:
    assert Weights.random(0).fingerprint() == "random-seed0"
    f = tmp_path / "w.bin"
    f.write_bytes(b"abc")
    assert Weights(f, "argument").fingerprint() == "sha256-" + hashlib.sha256(b"abc").hexdigest()[:16]


def test_errors_survive_pickling(model_settings) -> None:
    """Job queues and process pools hand errors on by pickling them."""
    import pickle

    from loupe_models import UnknownModel

    with pytest.raises(ModelWeightsMissing) as info:
        resolve_weights(get_spec("ViT-B-32"), model_settings)
    again = pickle.loads(pickle.dumps(info.value))
    assert str(again) == str(info.value) and again.directory == info.value.directory
    assert str(pickle.loads(pickle.dumps(UnknownModel("x", ["a"])))) == str(UnknownModel("x", ["a"]))
