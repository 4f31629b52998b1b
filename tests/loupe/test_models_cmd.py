"""``loupe models list`` and ``loupe bench embed`` from the command line."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from loupe.cli import cli
from tests.support.deps import need


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in [k for k in os.environ if k.startswith("LOUPE_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("LOUPE_HF_CACHE_DIR", str(tmp_path / "hf-cache"))
    monkeypatch.setenv("LOUPE_MODEL_DOWNLOAD", "0")
    monkeypatch.chdir(tmp_path)


def test_models_list_json(tmp_path: Path) -> None:
    folder = tmp_path / "var" / "models" / "ViT-B-32"
    folder.mkdir(parents=True)
    (folder / "open_clip_model.safetensors").write_bytes(b"weights")
    result = CliRunner().invoke(cli, ["--data-dir", str(tmp_path / "var"), "models", "list", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output.strip().splitlines()[-1])
    assert all(set(r) == {"name", "pretrained", "dim", "available"} for r in rows)
    by_name = {r["name"]: r for r in rows}
    assert by_name["MobileCLIP2-S0"] == {"name": "MobileCLIP2-S0", "pretrained": "dfndr2b", "dim": 512,
                                         "available": False}
    assert by_name["ViT-B-32"]["available"] is True
    assert by_name["loupe-tiny"] == {"name": "loupe-tiny", "pretrained": "random", "dim": 64, "available": True}


def test_models_list_table_marks_the_model_in_use(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOUPE_MODEL", "loupe-tiny")
    result = CliRunner().invoke(cli, ["models", "list"])
    assert result.exit_code == 0, result.output
    line = next(line for line in result.output.splitlines() if "loupe-tiny " in line)
    assert line.startswith("* loupe-tiny") and "yes" in line
    assert "MobileCLIP2-S0" in result.output and "open_clip_model.safetensors" in result.output


def test_bench_embed_json_on_the_tiny_model(tmp_path: Path) -> None:
    need("open_clip")
    from PIL import Image

    folder = tmp_path / "jpegs"
    folder.mkdir()
    for i in range(3):
        Image.effect_mandelbrot((400, 300), (-2 + i * 0.1, -1.2, 1, 1.2), 60).convert("RGB").save(folder / f"{i}.jpg")
    result = CliRunner().invoke(cli, ["bench", "embed", "--model", "loupe-tiny", "--images", "6",
                                      "--folder", str(folder), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output.strip().splitlines()[-1])
    assert set(data) == {"model", "images", "pipeline_per_s", "naive_per_s", "speedup", "min_cosine"}
    assert data["model"] == "loupe-tiny" and data["images"] == 6
    assert data["min_cosine"] >= 0.999


def test_bench_embed_refuses_missing_weights_clearly() -> None:
    result = CliRunner().invoke(cli, ["bench", "embed", "--model", "MobileCLIP2-S0", "--json"])
    assert result.exit_code == 1
    assert "open_clip_model.safetensors" in result.output and "--random-weights" in result.output
    assert "LOUPE_MODEL=loupe-tiny" in result.output
